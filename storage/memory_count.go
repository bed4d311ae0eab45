package storage

import (
	"strings"
	"sync"
	"sync/atomic"
)

// namespaceLimit bounds the store's namespace table. The proxy writes about a
// dozen namespaces (its fixed key prefixes); a program that stores keys under
// many more still gets exact counts past the bound, through the slower
// per-shard overflow maps.
const namespaceLimit = 32

// Namespace ids kept in each entry: 1 … namespaceLimit index the table.
const (
	noNamespace       uint8 = 0                  // the key holds no ':' and is counted nowhere
	overflowNamespace uint8 = namespaceLimit + 1 // counted in the shard's overflow map
)

// namespaceTable gives each namespace the store has saved a key under a small
// id, so the per-shard counts are arrays indexed by id instead of maps keyed
// by string: a save or removal costs one lookup in this small, shared (hence
// cache-warm) map instead of an assignment into a shard's own map. Ids are
// handed out only by saves (intern) and never taken back, and the table stops
// growing at namespaceLimit, so its size is bounded whatever keys are stored
// or asked about: Count and Scan only look up. A namespace either got an id
// before its first entry was counted or never gets one (the table was full
// then, and stays full), so all of a namespace's entries are counted in the
// same place.
type namespaceTable struct {
	mu  sync.Mutex                       // serializes additions
	ids atomic.Pointer[map[string]uint8] // never modified once stored: additions copy it
}

// lookup returns namespace's id, or false if no save has interned it.
func (t *namespaceTable) lookup(namespace string) (uint8, bool) {
	ids := t.ids.Load()
	if ids == nil {
		return 0, false
	}
	id, ok := (*ids)[namespace]
	return id, ok
}

// intern returns namespace's id, adding it if the table has room, or
// overflowNamespace if not. Only saves call it.
func (t *namespaceTable) intern(namespace string) uint8 {
	ids := t.ids.Load()
	if ids != nil {
		if id, ok := (*ids)[namespace]; ok {
			return id
		}
		if len(*ids) >= namespaceLimit { // full for good: no lock
			return overflowNamespace
		}
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	ids = t.ids.Load()
	n := 0
	if ids != nil {
		if id, ok := (*ids)[namespace]; ok {
			return id // added while we waited
		}
		n = len(*ids)
	}
	if n >= namespaceLimit {
		return overflowNamespace
	}
	next := make(map[string]uint8, n+1)
	if ids != nil {
		for k, v := range *ids {
			next[k] = v
		}
	}
	id := uint8(n + 1)
	next[strings.Clone(namespace)] = id // the caller's string may be a slice of a larger key
	t.ids.Store(&next)
	return id
}

// namespaceID returns the id under which key's entry is counted, interning its
// namespace if need be.
func (t *namespaceTable) namespaceID(key string) uint8 {
	ns := NamespaceOf(key)
	if ns == "" {
		return noNamespace
	}
	return t.intern(ns)
}

// namespaceCounts is one shard's entry count per namespace, expired entries
// included until they are removed.
type namespaceCounts struct {
	byID [namespaceLimit]int // namespace id - 1 → entries
	// overflow counts the namespaces that found the table full, by name; a
	// namespace whose count falls to zero is deleted, so it never outgrows
	// the entries. Nil until needed.
	overflow map[string]*int
}

// counted records the new entry e in the count of its namespace. The caller
// holds s.mu.
func (s *shard) counted(e *entry) {
	switch e.ns {
	case noNamespace:
		return
	case overflowNamespace:
		s.countsFor().countOverflow(e.key, 1)
	default:
		s.countsFor().byID[e.ns-1]++
	}
}

// uncounted records that the entry e has left the shard. The caller holds s.mu.
func (s *shard) uncounted(e *entry) {
	switch e.ns {
	case noNamespace:
		return
	case overflowNamespace:
		s.counts.countOverflow(e.key, -1)
	default:
		s.counts.byID[e.ns-1]--
	}
}

// countsFor returns the shard's counts, made on the first entry with a
// namespace: a store only some shards of which are used costs no more.
func (s *shard) countsFor() *namespaceCounts {
	if s.counts == nil {
		s.counts = new(namespaceCounts)
	}
	return s.counts
}

// countOverflow adds delta to the count of key's namespace in the overflow
// map.
func (c *namespaceCounts) countOverflow(key string, delta int) {
	ns := NamespaceOf(key)
	if n := c.overflow[ns]; n != nil {
		// Through the pointer: assigning to the map would store ns as its
		// key (a map updates string keys), a slice of an entry's key, which
		// lies inside the entry (newEntry) and would keep the entry and its
		// value in memory after they leave.
		if *n += delta; *n <= 0 {
			delete(c.overflow, ns)
		}
		return
	}
	if delta > 0 {
		if c.overflow == nil {
			c.overflow = make(map[string]*int)
		}
		n := new(int)
		*n = delta
		c.overflow[strings.Clone(ns)] = n
	}
}

// count returns the entries in the namespace with the given id (found: it is
// in the table) or name (not found). The caller holds s.mu for reading.
func (s *shard) count(id uint8, found bool, namespace string) int {
	switch {
	case s.counts == nil:
		return 0
	case found:
		return s.counts.byID[id-1]
	default:
		if n := s.counts.overflow[namespace]; n != nil {
			return *n
		}
		return 0
	}
}
