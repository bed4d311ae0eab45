// Package redis is a storage.TokenStorage backed by Redis 7 or Valkey, so several
// proxy replicas can share clients, grants and single-use codes.
//
// Build the go-redis client yourself and hand it to New; the store never closes
// it. Set ContextTimeoutEnabled on the client so context deadlines bound socket
// reads and writes, not just the wait for a pooled connection:
//
//	import goredis "github.com/redis/go-redis/v9"
//
//	client := goredis.NewClient(&goredis.Options{
//		Addr:                  "redis:6379",
//		ContextTimeoutEnabled: true,
//	})
//	defer client.Close()
//	cfg.TokenStorage = redis.New(client, redis.WithPrefix("mcp-proxy:"))
//
// Every operation is one single-key command: Save is SET with PX (milliseconds),
// Get is GET, Take is GETDEL (Redis 6.2 or later; every Valkey release), which is
// what makes codes and refresh tokens single use across replicas, and Delete is
// DEL. Redis expires keys itself, so Cleanup does nothing.
//
// Redis Cluster: pass a client from goredis.NewClusterClient. Each command touches
// one key, so no hash tags are needed and every command, GETDEL included, is routed
// to the key's slot. Valkey speaks the same protocol; use the same clients.
//
// Values are opaque to this package. The proxy wraps the configured TokenStorage in
// storage.Encrypted, so values are sealed with AES-256-GCM before they reach Redis
// and a Redis dump or replica reveals only ciphertext; keys are hashes of secrets,
// never secrets. Because the store is shared, it reports Persistent, and the proxy
// therefore requires configured (not generated) keys.
//
// A failed command, a down server included, returns a wrapped error, never
// storage.ErrNotFound, so an outage is never mistaken for a missing or spent code.
package redis
