package ratelimit

import (
	"context"
	"fmt"
	"sync"
	"time"

	"golang.org/x/time/rate"
)

// DefaultMaxKeys bounds the key set of NewMemory(0).
const DefaultMaxKeys = 100_000

// Memory limits events in one process: a golang.org/x/time/rate token bucket
// per (key, limit) pair, in a key set of at most maxKeys entries. It is safe for
// concurrent use and starts no goroutine.
//
// Each entry costs about 220 bytes (the bucket, the least-recently-used links
// and the map slot) plus the key itself; the proxy's keys (an endpoint class
// and an address) are under 60 bytes, so the default 100,000 keys hold at most
// about 25 MiB (measured: 100,000 keys of 27 bytes, 21 MiB of heap besides the
// keys).
//
// When the set is full, the least recently used key is forgotten, and its next
// event starts with a full burst. The bound protects memory, not the limit: a
// client that cycles through more addresses than maxKeys within one period can
// reset its own buckets. Size maxKeys above the number of distinct addresses
// you expect per period.
type Memory struct {
	maxKeys int
	now     func() time.Time // the clock; tests replace it

	mu      sync.Mutex
	entries map[memoryKey]*memoryEntry
	// lru is the sentinel of a circular doubly linked list of the entries:
	// lru.next is the most recently used, lru.prev the least.
	lru memoryEntry
}

// memoryKey is one bucket: the same key under two limits has two buckets.
type memoryKey struct {
	key   string
	limit Limit
}

type memoryEntry struct {
	id         memoryKey
	bucket     *rate.Limiter
	prev, next *memoryEntry
}

// NewMemory returns a limiter that keeps at most maxKeys buckets; 0 means
// DefaultMaxKeys. It panics on a negative maxKeys.
func NewMemory(maxKeys int) *Memory {
	if maxKeys < 0 {
		panic(fmt.Sprintf("ratelimit: NewMemory(%d): maxKeys must not be negative", maxKeys))
	}
	if maxKeys == 0 {
		maxKeys = DefaultMaxKeys
	}
	m := &Memory{maxKeys: maxKeys, now: time.Now, entries: map[memoryKey]*memoryEntry{}}
	m.lru.prev, m.lru.next = &m.lru, &m.lru
	return m
}

// Allow decides one event for key under limit. The zero Limit allows
// everything and keeps no state. An invalid limit (see Limit.Validate) is an
// error, returned with Allowed true so a caller that ignores errors fails open.
func (m *Memory) Allow(_ context.Context, key string, limit Limit) (Decision, error) {
	if err := limit.Validate(); err != nil {
		return Decision{Allowed: true}, fmt.Errorf("ratelimit: %w", err)
	}
	if limit.IsZero() {
		return Decision{Allowed: true}, nil
	}
	now := m.now()
	bucket := m.bucket(memoryKey{key, limit})
	r := bucket.ReserveN(now, 1)
	if wait := r.DelayFrom(now); wait > 0 {
		// Give the token back: a refused event must not push the next
		// allowed one further away.
		r.CancelAt(now)
		return Decision{RetryAfter: wait}, nil
	}
	return Decision{Allowed: true}, nil
}

// Len reports how many buckets are kept: at most maxKeys.
func (m *Memory) Len() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return len(m.entries)
}

// bucket returns id's bucket, creating it (and forgetting the least recently
// used one when the set is full), and marks it most recently used.
func (m *Memory) bucket(id memoryKey) *rate.Limiter {
	m.mu.Lock()
	defer m.mu.Unlock()
	if e, ok := m.entries[id]; ok {
		m.unlink(e)
		m.pushFront(e)
		return e.bucket
	}
	if len(m.entries) >= m.maxKeys {
		oldest := m.lru.prev
		m.unlink(oldest)
		delete(m.entries, oldest.id)
	}
	every := rate.Limit(float64(id.limit.Rate) / id.limit.Per.Seconds())
	e := &memoryEntry{id: id, bucket: rate.NewLimiter(every, id.limit.BurstSize())}
	m.entries[id] = e
	m.pushFront(e)
	return e.bucket
}

func (m *Memory) unlink(e *memoryEntry) {
	e.prev.next, e.next.prev = e.next, e.prev
	e.prev, e.next = nil, nil
}

func (m *Memory) pushFront(e *memoryEntry) {
	e.prev, e.next = &m.lru, m.lru.next
	m.lru.next.prev = e
	m.lru.next = e
}
