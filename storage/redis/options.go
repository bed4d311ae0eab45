package redis

import (
	"fmt"

	"github.com/oauthproxy-go/oauthproxy/storage"
)

// DefaultPrefix is prepended to every key unless WithPrefix says otherwise, so the
// proxy's keys do not collide with other users of the same database.
const DefaultPrefix = "oauthproxy:"

// Option configures a Store.
type Option func(*Store)

// WithPrefix sets the string prepended to every key, to share one Redis database
// between several proxies or applications. An empty prefix stores keys as given.
func WithPrefix(prefix string) Option {
	return func(s *Store) { s.prefix = prefix }
}

// WithCountedNamespaces keeps count indexes (see Store.Count) for the given
// namespaces only, instead of for every namespace. Each indexed key costs an
// index entry in Redis (about 110 bytes plus the key, by MEMORY USAGE on Redis
// 7) and a ZADD or ZREM beside each write; a proxy's quotas need only "client:"
// and "txn:".
// Count of any other namespace then returns an error wrapping
// storage.ErrCountUnsupported. It panics on a namespace that
// storage.CheckNamespace refuses, a programming error.
func WithCountedNamespaces(namespaces ...string) Option {
	counted := make(map[string]struct{}, len(namespaces))
	for _, ns := range namespaces {
		if err := storage.CheckNamespace(ns); err != nil {
			panic(fmt.Sprintf("storage/redis: WithCountedNamespaces: %v", err))
		}
		counted[ns] = struct{}{}
	}
	return func(s *Store) { s.counted = counted }
}
