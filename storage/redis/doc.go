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
// DEL. Redis expires keys itself.
//
// # Counting (storage.Counter)
//
// The proxy's quotas count the live keys of a namespace ("client:", "txn:"). A
// counter cannot see Redis expire a key, so each namespace has an index instead:
// a sorted set at "<prefix>idx:<namespace>" holding the namespace's keys, each
// scored by when it expires (Unix milliseconds by the writer's clock; +inf for
// no expiry). Save sends ZADD before its SET, and Take and Delete send ZREM
// after their GETDEL or DEL, in the same round trip (a pipeline: one extra
// command per write, no extra round trip). Count runs ZREMRANGEBYSCORE -inf now
// and ZCARD on the index, one round trip; Cleanup prunes, in one round trip, the
// indexes of the namespaces this Store has written to, so an index nobody counts
// does not grow. Keys in the "idx:" namespace are refused.
//
// Every replica writes and reads the same index, and it is ordinary Redis data,
// so the count holds across replicas and, with persistence on, restarts. It is
// approximate in these ways, all small for a quota:
//   - A pipeline is not a transaction. On one server the commands run in the
//     order sent, so a write cut short (a dropped connection, a deadline)
//     leaves at most a key counted after it is gone, until the key's expiry,
//     never a stored key uncounted. On Cluster the index and the key may live
//     on different nodes, so either half can fail alone: a Save can then store
//     a key it does not count (it returns the error) until the key expires.
//   - A key Redis removes by itself before its expiry (maxmemory eviction, a
//     manual DEL or FLUSHDB) counts until its expiry.
//   - A Save racing a Take or Delete of the same key on another connection can
//     interleave so that the key is stored but not counted (until it is taken,
//     deleted, saved again or expires). The proxy never does that to a client or
//     transaction key.
//   - Expiry is judged by clocks: the writer's for the score, the counter's for
//     "now". Clock skew between replicas shifts when an expired key stops
//     counting by that skew.
//
// The index costs Redis memory, about 110 bytes plus the key per indexed
// key, so only the namespaces the proxy's quotas count or its administration
// API lists are indexed by default (DefaultCountedNamespaces: "client:",
// "txn:", and the grant indexes "grantsub:" and "grantcli:", two small keys
// per grant); WithCountedNamespaces and WithEveryNamespaceCounted change the
// set. Count of a namespace not indexed wraps storage.ErrCountUnsupported.
//
// # Listing (storage.Scanner)
//
// Scan walks the same index with ZSCAN … MATCH, one round trip per page, and
// leaves out keys whose score says they have expired. It lists only indexed
// namespaces (otherwise storage.ErrScanUnsupported) and has ZSCAN's manners:
// no order, a key may repeat across pages, a page may be empty before the end
// or longer than asked; see Store.Scan.
//
// Redis Cluster: pass a client from goredis.NewClusterClient. Each command touches
// one key, so no hash tags are needed and every command, GETDEL included, is routed
// to the key's slot. The index of a namespace is one key, in one slot, while its
// keys spread over all of them: that is why the index commands are pipelined, not
// wrapped in MULTI or a script, which Cluster refuses across slots (CROSSSLOT).
// Valkey speaks the same protocol; use the same clients.
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
