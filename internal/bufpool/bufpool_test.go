package bufpool

import (
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestPool_KeepsOnlyBuffersWithinTheLimit(t *testing.T) {
	p := New(64)
	small := p.Get()
	*small = append(*small, "hello"...)
	assert.Empty(t, *p.Get(), "a fresh buffer is empty")
	p.Put(small)
	big := p.Get()
	*big = make([]byte, 0, 65)
	p.Put(big)
	for range 10 {
		b := p.Get()
		assert.Empty(t, *b, "a buffer comes back empty")
		assert.LessOrEqual(t, cap(*b), 64, "the grown buffer was not kept")
	}
}
