// Package storage defines the small key-value contract the proxy keeps its state in
// (registered clients, transactions, codes, grants, refresh tokens) and ships the
// in-memory store and an encryption wrapper that works over any backend.
//
// Values are opaque bytes with a time to live. Keys are namespaced by the proxy
// ("client:", "txn:", "code:", "grant:", "refresh:" …); secrets never appear in keys
// in the clear, only their hashes.
//
// Beyond TokenStorage a backend may implement Persistence (its data outlives the
// process), Counter (it can count a namespace's live keys, which the proxy's
// quotas use) and Scanner (it can list the keys under a prefix, a page at a
// time, which the proxy's administration API uses). Memory, Encrypted,
// storage/bolt and storage/redis implement all three.
package storage

import (
	"context"
	"errors"
	"time"
)

// ErrNotFound is returned by Get and Take when the key does not exist or has expired.
// Backends must return it (possibly wrapped) rather than a nil value, so callers can
// tell a miss from a failure with errors.Is.
var ErrNotFound = errors.New("storage: not found")

// TokenStorage is the contract every backend implements. Implementations must be safe
// for concurrent use and must honour ctx cancellation where they block.
type TokenStorage interface {
	// Save stores value under key for ttl, replacing any previous value.
	// A ttl <= 0 means the value does not expire.
	Save(ctx context.Context, key string, value []byte, ttl time.Duration) error
	// Get returns the value stored under key, or ErrNotFound.
	Get(ctx context.Context, key string) ([]byte, error)
	// Take atomically returns and deletes the value stored under key, or returns
	// ErrNotFound. Of many concurrent Takes of one key, exactly one succeeds; this is
	// what makes authorization codes and refresh tokens single use.
	Take(ctx context.Context, key string) ([]byte, error)
	// Delete removes key. Deleting a missing key is not an error.
	Delete(ctx context.Context, key string) error
	// Cleanup removes expired entries. Backends whose server expires keys itself
	// may make it a no-op.
	Cleanup(ctx context.Context) error
}
