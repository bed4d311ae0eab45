package storage

import (
	"container/heap"
	"context"
	"math"
	"strings"
	"sync"
	"time"
)

// cleanupBatch bounds how many expired entries Cleanup removes per lock hold, so a
// large backlog never stalls Save, Get and Take behind one long sweep.
const cleanupBatch = 1024

// noExpiry is the deadline of values saved with ttl <= 0.
const noExpiry = math.MaxInt64

// Memory is an in-process TokenStorage. Values are copied in and out, expiry is
// checked on every read, and Cleanup frees expired entries in bounded batches.
// Its data dies with the process, so it reports Persistent() == false.
type Memory struct {
	now   func() time.Time
	start time.Time // deadlines are offsets from here: 8 bytes each, monotonic with time.Now

	mu      sync.RWMutex
	entries map[string]*entry
	expiry  expiryHeap // only entries that have a deadline
}

var (
	_ TokenStorage = (*Memory)(nil)
	_ Persistence  = (*Memory)(nil)
)

// NewMemory returns an empty in-memory store that uses the wall clock.
func NewMemory() *Memory { return NewMemoryWithClock(time.Now) }

// NewMemoryWithClock returns an empty in-memory store that reads time from now, so
// tests can control expiry exactly. A nil now means time.Now.
func NewMemoryWithClock(now func() time.Time) *Memory {
	if now == nil {
		now = time.Now
	}
	return &Memory{now: now, start: now(), entries: make(map[string]*entry)}
}

// Persistent reports false: the data does not survive a restart.
func (m *Memory) Persistent() bool { return false }

// Save stores a copy of value under key for ttl; ttl <= 0 never expires.
// ctx is unused because Save never blocks for long.
func (m *Memory) Save(_ context.Context, key string, value []byte, ttl time.Duration) error {
	v := make([]byte, len(value)) // non-nil even when empty: a stored value is never a miss
	copy(v, value)
	return m.saveOwned(key, v, ttl)
}

// saveOwned is Save without the copy: value becomes the store's and must not
// be used by the caller again. Encrypted hands over the sealed bytes it has
// just made this way.
func (m *Memory) saveOwned(key string, v []byte, ttl time.Duration) error {
	if v == nil {
		v = []byte{}
	}
	deadline := m.deadline(ttl)

	m.mu.Lock()
	defer m.mu.Unlock()
	if e, ok := m.entries[key]; ok {
		e.value = v
		m.setDeadline(e, deadline)
		return nil
	}
	// Clone so a key sliced from a large buffer does not pin that buffer.
	e := &entry{key: strings.Clone(key), value: v, expires: deadline, index: -1}
	m.entries[e.key] = e
	if deadline != noExpiry {
		heap.Push(&m.expiry, e)
	}
	return nil
}

// Get returns a copy of the value under key, or ErrNotFound if it is missing or
// expired.
func (m *Memory) Get(_ context.Context, key string) ([]byte, error) {
	now := m.elapsed()
	m.mu.RLock()
	defer m.mu.RUnlock()
	e, ok := m.entries[key]
	if !ok || expired(e, now) {
		return nil, ErrNotFound
	}
	v := make([]byte, len(e.value))
	copy(v, e.value)
	return v, nil
}

// openStored opens the value under key with c where it lies, without copying
// it out first; found is false if key is missing or expired. The read lock is
// held while c opens, which never blocks other readers.
func (m *Memory) openStored(key string, c Cipher) (plaintext []byte, found bool, err error) {
	now := m.elapsed()
	m.mu.RLock()
	defer m.mu.RUnlock()
	e, ok := m.entries[key]
	if !ok || expired(e, now) {
		return nil, false, nil
	}
	plaintext, err = c.Open(e.value, []byte(key))
	return plaintext, true, err
}

// Take removes the value under key and returns it, or ErrNotFound if it is missing
// or expired. Lookup and removal happen under one lock, so of concurrent Takes of a
// key exactly one succeeds.
func (m *Memory) Take(_ context.Context, key string) ([]byte, error) {
	now := m.elapsed()
	m.mu.Lock()
	defer m.mu.Unlock()
	e, ok := m.entries[key]
	if !ok {
		return nil, ErrNotFound
	}
	m.remove(e)
	if expired(e, now) {
		return nil, ErrNotFound
	}
	// No copy needed: the entry has left the store, so the caller becomes the only
	// holder of the buffer Save copied in.
	return e.value, nil
}

// Delete removes key; a missing key is not an error.
func (m *Memory) Delete(_ context.Context, key string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if e, ok := m.entries[key]; ok {
		m.remove(e)
	}
	return nil
}

// Cleanup removes the entries that had expired when it started, at most
// cleanupBatch per lock hold, and returns ctx.Err() if ctx ends between batches.
// The expiry heap means it touches only expired entries.
func (m *Memory) Cleanup(ctx context.Context) error {
	now := m.elapsed()
	for {
		if err := ctx.Err(); err != nil {
			return err
		}
		if !m.cleanupOnce(now) {
			return nil
		}
	}
}

// Len returns the number of entries held, including expired ones not yet cleaned.
func (m *Memory) Len() int {
	m.mu.RLock()
	defer m.mu.RUnlock()
	return len(m.entries)
}

// cleanupOnce removes up to cleanupBatch entries expired at now and reports whether
// more may remain.
func (m *Memory) cleanupOnce(now int64) bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	for range cleanupBatch {
		if len(m.expiry) == 0 || m.expiry[0].expires > now {
			return false
		}
		e := heap.Pop(&m.expiry).(*entry)
		delete(m.entries, e.key)
	}
	return true
}

// remove deletes e from the map and the heap. The caller holds m.mu.
func (m *Memory) remove(e *entry) {
	delete(m.entries, e.key)
	if e.index >= 0 {
		heap.Remove(&m.expiry, e.index)
	}
}

// setDeadline moves e to deadline, entering or leaving the heap as needed. The
// caller holds m.mu.
func (m *Memory) setDeadline(e *entry, deadline int64) {
	e.expires = deadline
	switch {
	case deadline == noExpiry && e.index >= 0:
		heap.Remove(&m.expiry, e.index)
	case deadline == noExpiry:
	case e.index >= 0:
		heap.Fix(&m.expiry, e.index)
	default:
		heap.Push(&m.expiry, e)
	}
}

// elapsed returns the current time as nanoseconds since m.start.
func (m *Memory) elapsed() int64 { return int64(m.now().Sub(m.start)) }

// deadline converts ttl to an absolute deadline; ttl <= 0, or a ttl so long it
// overflows, never expires.
func (m *Memory) deadline(ttl time.Duration) int64 {
	if ttl <= 0 {
		return noExpiry
	}
	now := m.elapsed()
	d := now + int64(ttl)
	if d < now {
		return noExpiry
	}
	return d
}

// expired reports whether e's deadline is at or before now: a value saved for ttl
// is readable for strictly less than ttl.
func expired(e *entry, now int64) bool {
	return e.expires != noExpiry && now >= e.expires
}
