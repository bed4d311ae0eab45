package abuse

import (
	"context"
	"errors"
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
// (sealed, as the store holds them). StoreCount is the store's own count of
// the namespace when it can count (issue 11's storage.Counter), else -1.
type NamespaceCount struct {
	Namespace  string
	Records    int
	Bytes      int64
	StoreCount int
}

// storeCounter is storage.Counter (issue 11), spelled out so this compiles
// before it is merged: Count(ctx, "client:") is the live keys of a namespace.
type storeCounter interface {
	Count(ctx context.Context, namespace string) (int, error)
}

var (
	_ storage.TokenStorage = (*recordCounter)(nil)
	_ storeCounter         = (*recordCounter)(nil)
)

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

// Count is the wrapped store's Count (storage.Counter), so the proxy's
// quotas count through the wrapper as they would without it.
func (c *recordCounter) Count(ctx context.Context, namespace string) (int, error) {
	sc, ok := c.inner.(storeCounter)
	if !ok {
		return 0, errCannotCount
	}
	return sc.Count(ctx, namespace)
}

// errCannotCount is Count's error when the wrapped store cannot count.
var errCannotCount = errors.New("abuse: the wrapped store cannot count keys")

// Live returns the live (unexpired) records per namespace, by namespace,
// with the store's own count where it has one.
func (c *recordCounter) Live(ctx context.Context) []NamespaceCount {
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
				n = &NamespaceCount{Namespace: r.namespace, StoreCount: -1}
				byNS[r.namespace] = n
			}
			n.Records++
			n.Bytes += int64(r.size)
		}
		sh.mu.Unlock()
	}
	out := make([]NamespaceCount, 0, len(byNS))
	sc, canCount := c.inner.(storeCounter)
	for _, n := range byNS {
		if canCount && n.Namespace != noNamespace {
			if got, err := sc.Count(ctx, n.Namespace+":"); err == nil {
				n.StoreCount = got
			}
		}
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

// noNamespace stands for the namespace of keys without a ':'.
const noNamespace = "(none)"

// namespace is key's prefix up to its first ':' (the proxy's namespaces,
// records.go and revocation.go), interned so records share one string.
func (c *recordCounter) namespace(key string) string {
	ns, _, ok := strings.Cut(key, ":")
	if !ok {
		ns = noNamespace
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
