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

// DefaultCountedNamespaces are the namespaces a Store indexes for Count and
// Scan unless WithCountedNamespaces says otherwise: the ones the proxy's
// quotas count (registered clients and pending authorizations) and the ones
// its administration API lists (clients, and its grant indexes by subject and
// by client).
var DefaultCountedNamespaces = []string{"client:", "txn:", "grantsub:", "grantcli:"}

// WithCountedNamespaces keeps count indexes (see Store.Count) for the given
// namespaces instead of DefaultCountedNamespaces. Each indexed key costs an
// index entry in Redis (about 110 bytes plus the key, by MEMORY USAGE on Redis
// 7) and a ZADD or ZREM beside each write, so grants and refresh tokens, the
// bulk of the keys, are not indexed by default. Count of a namespace not
// indexed returns an error wrapping storage.ErrCountUnsupported, and Scan one
// wrapping storage.ErrScanUnsupported; a list without "client:", "grantsub:"
// and "grantcli:" leaves the proxy's administration API unable to list. It panics on
// a namespace that storage.CheckNamespace refuses, a programming error.
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

// WithEveryNamespaceCounted indexes every namespace for Count, at the cost
// WithCountedNamespaces describes for each key.
func WithEveryNamespaceCounted() Option {
	return func(s *Store) { s.counted = nil }
}
