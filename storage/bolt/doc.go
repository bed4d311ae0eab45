// Package bolt is a storage.TokenStorage in a single local file, using bbolt
// (go.etcd.io/bbolt), for a single proxy process whose state should survive
// restarts without running a database server.
//
//	store, err := bolt.Open("/var/lib/mcp-proxy/state.db")
//	if err != nil {
//		return err
//	}
//	defer store.Close()
//
// bbolt takes an exclusive lock on the file, so only one process can use it at a
// time; replicas need a shared backend such as package storage/redis. A second
// Open of a locked file gives up after a timeout (WithLockTimeout) and returns an
// error wrapping ErrLocked, rather than waiting forever.
//
// The file is created with mode 0600. Each value is stored behind an 8-byte
// big-endian expiry in Unix nanoseconds (0 for none). Reads check the expiry, so an
// expired value is never returned; Cleanup frees the space, a bounded batch per
// write transaction. Every write is fsynced before it returns.
//
// The proxy wraps the configured TokenStorage in storage.Encrypted, so values are
// sealed before they reach the file; keys are hashes of secrets, never secrets.
// Because the data outlives the process, the store reports Persistent, and the
// proxy therefore requires configured (not generated) keys.
//
// Store is a storage.Counter: Count scans the namespace's key range (keys are
// sorted, so other namespaces are not visited) and counts the records whose
// expiry has not passed, before Cleanup too. Nothing is kept beside the
// records, so the count survives restarts and crashes exactly as they do.
//
// bbolt calls cannot be interrupted, so a context is checked before each operation
// and between Cleanup batches rather than during one.
package bolt
