package abuse

import (
	"context"
	"hash/maphash"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/oauthproxy-go/oauthproxy/storage"
)

// recordCounter is a TokenStorage that passes everything to the store it wraps
// and keeps, per key, the namespace ("client:", "txn:" …), the stored size and
// the deadline, so the run can say how many live records each namespace holds.
// It keeps a key's hash, not the key: about 50 bytes a record, which the report
// states, so the count does not hide behind its own cost.
type recordCounter struct {
	inner storage.TokenStorage
	now   func() time.Time
	seed  maphash.Seed

	shards [64]counterShard

	nsMu       sync.RWMutex
	namespaces map[string]string // interned namespace strings
}

type counterShard struct {
	mu   sync.Mutex
	live map[uint64]liveRecord
}

type liveRecord struct {
	namespace string
	size      int
	deadline  int64 // Unix nanoseconds; 0 never expires
}

// NamespaceCount is the live records of one namespace and their stored size
// (sealed, as the store holds them).
type NamespaceCount struct {
	Namespace string
	Records   int
	Bytes     int64
}

var _ storage.TokenStorage = (*recordCounter)(nil)

func newRecordCounter(inner storage.TokenStorage) *recordCounter {
	c := &recordCounter{inner: inner, now: time.Now, seed: maphash.MakeSeed(), namespaces: map[string]string{}}
	for i := range c.shards {
		c.shards[i].live = map[uint64]liveRecord{}
	}
	return c
}

func (c *recordCounter) Save(ctx context.Context, key string, value []byte, ttl time.Duration) error {
	if err := c.inner.Save(ctx, key, value, ttl); err != nil {
		return err
	}
	var deadline int64
	if ttl > 0 {
		deadline = c.now().Add(ttl).UnixNano()
	}
	h, sh := c.shardFor(key)
	rec := liveRecord{namespace: c.namespace(key), size: len(value), deadline: deadline}
	sh.mu.Lock()
	sh.live[h] = rec
	sh.mu.Unlock()
	return nil
}

func (c *recordCounter) Get(ctx context.Context, key string) ([]byte, error) {
	return c.inner.Get(ctx, key)
}

func (c *recordCounter) Take(ctx context.Context, key string) ([]byte, error) {
	v, err := c.inner.Take(ctx, key)
	if err == nil {
		c.forget(key)
	}
	return v, err
}

func (c *recordCounter) Delete(ctx context.Context, key string) error {
	err := c.inner.Delete(ctx, key)
	if err == nil {
		c.forget(key)
	}
	return err
}

func (c *recordCounter) Cleanup(ctx context.Context) error { return c.inner.Cleanup(ctx) }

// Persistent is the wrapped store's answer (New refuses generated keys for a
// persistent store).
func (c *recordCounter) Persistent() bool {
	p, ok := c.inner.(storage.Persistence)
	return ok && p.Persistent()
}

// Count returns the live (unexpired) records per namespace, by namespace.
func (c *recordCounter) Count() []NamespaceCount {
	now := c.now().UnixNano()
	byNS := map[string]*NamespaceCount{}
	for i := range c.shards {
		sh := &c.shards[i]
		sh.mu.Lock()
		for _, r := range sh.live {
			if r.deadline != 0 && r.deadline <= now {
				continue
			}
			n := byNS[r.namespace]
			if n == nil {
				n = &NamespaceCount{Namespace: r.namespace}
				byNS[r.namespace] = n
			}
			n.Records++
			n.Bytes += int64(r.size)
		}
		sh.mu.Unlock()
	}
	out := make([]NamespaceCount, 0, len(byNS))
	for _, n := range byNS {
		out = append(out, *n)
	}
	slices.SortFunc(out, func(a, b NamespaceCount) int { return strings.Compare(a.Namespace, b.Namespace) })
	return out
}

// Tracked is how many keys the counter holds, expired ones included: its own
// memory is about 50 bytes each.
func (c *recordCounter) Tracked() int {
	n := 0
	for i := range c.shards {
		sh := &c.shards[i]
		sh.mu.Lock()
		n += len(sh.live)
		sh.mu.Unlock()
	}
	return n
}

func (c *recordCounter) forget(key string) {
	h, sh := c.shardFor(key)
	sh.mu.Lock()
	delete(sh.live, h)
	sh.mu.Unlock()
}

func (c *recordCounter) shardFor(key string) (uint64, *counterShard) {
	h := maphash.String(c.seed, key)
	return h, &c.shards[h%uint64(len(c.shards))]
}

// namespace is key's prefix up to its first ':' (the proxy's namespaces,
// records.go and revocation.go), interned so records share one string.
func (c *recordCounter) namespace(key string) string {
	ns, _, ok := strings.Cut(key, ":")
	if !ok {
		ns = "(none)"
	}
	c.nsMu.RLock()
	s, found := c.namespaces[ns]
	c.nsMu.RUnlock()
	if found {
		return s
	}
	c.nsMu.Lock()
	defer c.nsMu.Unlock()
	if s, found = c.namespaces[ns]; !found {
		s = strings.Clone(ns)
		c.namespaces[s] = s
	}
	return s
}
