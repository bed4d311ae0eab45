package storage

import (
	"context"
	"hash/maphash"
	"math"
	"sync"
	"time"

	"github.com/oauthproxy-go/oauthproxy/internal/strview"
)

// shardCount is how many independently locked parts the store is split into,
// by key hash. A Cleanup sweep, or a burst of writes, holds one shard's lock at
// a time, so a request waits only if its key falls in that shard.
const shardCount = 256

// cleanupBatch bounds how many expired entries Cleanup removes per shard-lock
// hold, so a large backlog never stalls Save, Get and Take behind one long sweep.
const cleanupBatch = 64

// noExpiry is the deadline of values saved with ttl <= 0.
const noExpiry = math.MaxInt64

// Memory is an in-process TokenStorage. Values are copied in and out, expiry is
// checked on every read, and Cleanup frees expired entries in bounded batches,
// one shard at a time. Its data dies with the process, so it reports
// Persistent() == false. It is a Counter: each shard keeps a count of its
// entries per namespace, updated as entries come and go, so Count costs the
// same whether the store holds ten entries or a million.
type Memory struct {
	now   func() time.Time // nil: the wall clock, read through time.Since
	start time.Time        // deadlines are offsets from here: 8 bytes each, monotonic with time.Now
	seed  maphash.Seed

	namespaces namespaceTable
	shards     [shardCount]shard
}

// shard is one lock's worth of the store: the entries whose key hashes to it,
// the expiry heap of those that have a deadline, and how many entries each
// namespace has in the shard. The struct is 64 bytes, so neighbours' locks do
// not share a cache line.
type shard struct {
	mu      sync.RWMutex
	entries map[string]*entry
	expiry  expiryHeap // only entries that have a deadline
	// counts holds, per namespace (NamespaceOf), the number of entries in it,
	// expired ones included until they are removed; nil until the shard holds
	// a key with a namespace.
	counts *namespaceCounts
}

var (
	_ TokenStorage = (*Memory)(nil)
	_ Persistence  = (*Memory)(nil)
	_ Counter      = (*Memory)(nil)
)

// NewMemory returns an empty in-memory store that uses the wall clock.
func NewMemory() *Memory { return NewMemoryWithClock(nil) }

// NewMemoryWithClock returns an empty in-memory store that reads time from now, so
// tests can control expiry exactly. A nil now means time.Now.
func NewMemoryWithClock(now func() time.Time) *Memory {
	m := &Memory{now: now, seed: maphash.MakeSeed()}
	if now == nil {
		m.start = time.Now()
	} else {
		m.start = now()
	}
	for i := range m.shards {
		m.shards[i].entries = make(map[string]*entry)
	}
	return m
}

// shardFor returns the shard that holds key.
func (m *Memory) shardFor(key string) *shard {
	return &m.shards[maphash.String(m.seed, key)%shardCount]
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

	s := m.shardFor(key)
	s.mu.Lock()
	defer s.mu.Unlock()
	if e, ok := s.entries[key]; ok {
		e.value = v
		s.setDeadline(e, deadline)
		return nil
	}
	e := newEntry(key)
	e.value, e.expires, e.ns = v, deadline, m.namespaces.namespaceID(key)
	s.entries[e.key] = e
	s.counted(e)
	if deadline != noExpiry {
		s.expiry.push(e)
	}
	return nil
}

// Get returns a copy of the value under key, or ErrNotFound if it is missing or
// expired.
func (m *Memory) Get(_ context.Context, key string) ([]byte, error) {
	now := m.elapsed()
	s := m.shardFor(key)
	s.mu.RLock()
	defer s.mu.RUnlock()
	e, ok := s.entries[key]
	if !ok || expired(e, now) {
		return nil, ErrNotFound
	}
	v := make([]byte, len(e.value))
	copy(v, e.value)
	return v, nil
}

// openStored opens the value under key with c where it lies, without copying
// it out first; found is false if key is missing or expired. The shard's read
// lock is held while c opens, which never blocks other readers.
func (m *Memory) openStored(dst []byte, key string, c Cipher) (plaintext []byte, found bool, err error) {
	now := m.elapsed()
	s := m.shardFor(key)
	s.mu.RLock()
	defer s.mu.RUnlock()
	e, ok := s.entries[key]
	if !ok || expired(e, now) {
		return nil, false, nil
	}
	if ao, ok := c.(appendOpener); ok && dst != nil {
		plaintext, err = ao.AppendOpen(dst, e.value, strview.Bytes(key))
	} else {
		plaintext, err = c.Open(e.value, strview.Bytes(key))
	}
	return plaintext, true, err
}

// Take removes the value under key and returns it, or ErrNotFound if it is missing
// or expired. Lookup and removal happen under the key's shard lock, so of
// concurrent Takes of a key exactly one succeeds.
func (m *Memory) Take(_ context.Context, key string) ([]byte, error) {
	now := m.elapsed()
	s := m.shardFor(key)
	s.mu.Lock()
	defer s.mu.Unlock()
	e, ok := s.entries[key]
	if !ok {
		return nil, ErrNotFound
	}
	s.remove(e)
	if expired(e, now) {
		return nil, ErrNotFound
	}
	// No copy needed: the entry has left the store, so the caller becomes the only
	// holder of the buffer Save copied in.
	return e.value, nil
}

// Delete removes key; a missing key is not an error.
func (m *Memory) Delete(_ context.Context, key string) error {
	s := m.shardFor(key)
	s.mu.Lock()
	defer s.mu.Unlock()
	if e, ok := s.entries[key]; ok {
		s.remove(e)
	}
	return nil
}

// Cleanup removes the entries that had expired when it started, one shard at a
// time and at most cleanupBatch per shard-lock hold, and returns ctx.Err() if
// ctx ends between batches. The expiry heaps mean it touches only expired
// entries.
func (m *Memory) Cleanup(ctx context.Context) error {
	now := m.elapsed()
	for i := range m.shards {
		s := &m.shards[i]
		for {
			if err := ctx.Err(); err != nil {
				return err
			}
			if !s.cleanupOnce(now) {
				break
			}
		}
	}
	return nil
}

// Count returns how many entries namespace holds, summed shard by shard under
// each shard's read lock: O(shards), however many entries are stored. Entries
// that have expired count until Cleanup removes them (the proxy runs it every
// CleanupInterval) or a Take of the key does; Get leaves them in place. Under
// concurrent writes the sum is of per-shard counts taken one after another.
// ctx is unused because Count never blocks for long.
func (m *Memory) Count(_ context.Context, namespace string) (int, error) {
	if err := CheckNamespace(namespace); err != nil {
		return 0, err
	}
	id, found := m.namespaces.lookup(namespace) // never interns: any string may be asked about
	n := 0
	for i := range m.shards {
		s := &m.shards[i]
		s.mu.RLock()
		n += s.count(id, found, namespace)
		s.mu.RUnlock()
	}
	return n, nil
}

// Len returns the number of entries held, including expired ones not yet cleaned.
// Under concurrent writes it is a sum of per-shard counts taken one after another.
func (m *Memory) Len() int {
	n := 0
	for i := range m.shards {
		s := &m.shards[i]
		s.mu.RLock()
		n += len(s.entries)
		s.mu.RUnlock()
	}
	return n
}

// cleanupOnce removes up to cleanupBatch of the shard's entries expired at now
// and reports whether more may remain.
func (s *shard) cleanupOnce(now int64) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	for range cleanupBatch {
		if len(s.expiry) == 0 || s.expiry[0].expires > now {
			return false
		}
		e := s.expiry.remove(0)
		delete(s.entries, e.key)
		s.uncounted(e)
	}
	return true
}

// remove deletes e from the shard's map and heap. The caller holds s.mu.
func (s *shard) remove(e *entry) {
	delete(s.entries, e.key)
	s.uncounted(e)
	if e.index >= 0 {
		s.expiry.remove(int(e.index))
	}
}

// setDeadline moves e to deadline, entering or leaving the shard's heap as
// needed. The caller holds s.mu.
func (s *shard) setDeadline(e *entry, deadline int64) {
	e.expires = deadline
	switch {
	case deadline == noExpiry && e.index >= 0:
		s.expiry.remove(int(e.index))
	case deadline == noExpiry:
	case e.index >= 0:
		s.expiry.setDeadline(int(e.index), deadline)
	default:
		s.expiry.push(e)
	}
}

// elapsed returns the current time as nanoseconds since m.start.
func (m *Memory) elapsed() int64 {
	if m.now == nil {
		// time.Since reads only the monotonic clock, where time.Now().Sub
		// reads the wall clock too, at the same result: half the cost of the
		// clock read that every Save with a ttl, Get and Take makes.
		return int64(time.Since(m.start))
	}
	return int64(m.now().Sub(m.start))
}

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
