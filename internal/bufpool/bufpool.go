// Package bufpool hands out reusable byte buffers for work whose result is
// copied elsewhere before the buffer goes back: encoding a record before it
// is sealed, opening one before it is decoded, writing a response. A buffer
// grown past the pool's limit is left to the GC, so one unusually large value
// does not stay pinned.
package bufpool

import "sync"

// Pool is a sync.Pool of *[]byte with a size limit on what it keeps.
type Pool struct {
	pool sync.Pool
	max  int
}

// New returns a Pool that keeps buffers of at most max bytes of capacity.
func New(max int) *Pool {
	return &Pool{pool: sync.Pool{New: func() any { return new([]byte) }}, max: max}
}

// Get returns an empty buffer; append to (*b)[:0] and store the result back
// in *b so Put keeps the grown buffer.
func (p *Pool) Get() *[]byte {
	b := p.pool.Get().(*[]byte)
	*b = (*b)[:0]
	return b
}

// Put gives b back unless it has grown past the limit. Nothing may use *b
// afterwards.
func (p *Pool) Put(b *[]byte) {
	if cap(*b) <= p.max {
		p.pool.Put(b)
	}
}
