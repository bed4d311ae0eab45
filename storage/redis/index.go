package redis

import (
	"context"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/oauthproxy-go/oauthproxy/storage"
)

// indexNamespace is the namespace, under the store's prefix, that holds one
// count index per counted namespace: "<prefix>idx:client:" indexes the keys
// "<prefix>client:…". Keys in it cannot be saved, read or deleted through the
// store, so an index is never mistaken for an entry nor clobbered by one.
const indexNamespace = "idx:"

var _ storage.Counter = (*Store)(nil)

// Count returns the number of keys in namespace that have not expired, from the
// namespace's index: a sorted set of its keys scored by expiry (Unix
// milliseconds, +inf for none). One round trip runs ZREMRANGEBYSCORE -inf now,
// dropping the keys Redis has expired by now, and ZCARD. Both touch only the
// index key, so this works on Redis Cluster. The index is shared by every
// replica, so the count is too; see the package documentation for how it can
// drift. A namespace excluded by WithCountedNamespaces returns an error
// wrapping storage.ErrCountUnsupported.
func (s *Store) Count(ctx context.Context, namespace string) (int, error) {
	if err := storage.CheckNamespace(namespace); err != nil {
		return 0, err
	}
	if !s.isCounted(namespace) {
		return 0, fmt.Errorf("storage/redis: count %q: %w: not in WithCountedNamespaces", namespace, storage.ErrCountUnsupported)
	}
	idx := s.indexKey(namespace)
	pipe := s.client.Pipeline()
	pipe.ZRemRangeByScore(ctx, idx, "-inf", strconv.FormatInt(time.Now().UnixMilli(), 10))
	card := pipe.ZCard(ctx, idx)
	if _, err := pipe.Exec(ctx); err != nil {
		return 0, wrap(ctx, "count", namespace, err)
	}
	return int(card.Val()), nil
}

// Cleanup drops expired keys from the index of every namespace this Store has
// saved a key in since it was made, in one round trip. Redis expires the keys
// themselves; without this, the index of a namespace nobody counts would keep
// the keys of every value ever saved in it. Namespaces saved only by other
// replicas are pruned by theirs, and any namespace at each Count of it.
func (s *Store) Cleanup(ctx context.Context) error {
	var namespaces []string
	s.saved.Range(func(ns, _ any) bool {
		namespaces = append(namespaces, ns.(string))
		return true
	})
	if len(namespaces) == 0 {
		return nil
	}
	now := strconv.FormatInt(time.Now().UnixMilli(), 10)
	pipe := s.client.Pipeline()
	for _, ns := range namespaces {
		pipe.ZRemRangeByScore(ctx, s.indexKey(ns), "-inf", now)
	}
	if _, err := pipe.Exec(ctx); err != nil {
		return wrap(ctx, "cleanup", strings.Join(namespaces, " "), err)
	}
	return nil
}

// indexOf returns the namespace of key and whether Save, Take and Delete keep
// key in that namespace's index.
func (s *Store) indexOf(key string) (namespace string, indexed bool) {
	ns := storage.NamespaceOf(key)
	return ns, ns != "" && s.isCounted(ns)
}

// isCounted reports whether namespace has an index.
func (s *Store) isCounted(namespace string) bool {
	if s.counted == nil {
		return true
	}
	_, ok := s.counted[namespace]
	return ok
}

// indexKey names the index of namespace.
func (s *Store) indexKey(namespace string) string {
	return s.prefix + indexNamespace + namespace
}

// expiryScore is the index score of a key saved now for ttl: when Save's SET …
// PX makes it expire, in Unix milliseconds, or +inf when it never does.
func expiryScore(now time.Time, ttl time.Duration) float64 {
	if ttl <= 0 {
		return math.Inf(1)
	}
	return float64(now.UnixMilli() + max(ttl.Milliseconds(), 1))
}

// checkKey refuses keys in the index namespace (see indexNamespace).
func checkKey(op, key string) error {
	if strings.HasPrefix(key, indexNamespace) {
		return fmt.Errorf("storage/redis: %s %q: the %q namespace is reserved for count indexes", op, key, indexNamespace)
	}
	return nil
}

// indexAdd queues the ZADD that records key, saved now for ttl, in the index of
// namespace, and notes namespace for Cleanup.
func (s *Store) indexAdd(ctx context.Context, pipe goredis.Pipeliner, namespace, key string, ttl time.Duration) {
	if _, ok := s.saved.Load(namespace); !ok {
		s.saved.Store(namespace, struct{}{})
	}
	pipe.ZAdd(ctx, s.indexKey(namespace), goredis.Z{Score: expiryScore(time.Now(), ttl), Member: key})
}
