package redis

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
