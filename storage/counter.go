package storage

import (
	"context"
	"errors"
	"fmt"
	"strings"
)

// ErrCountUnsupported is returned by Encrypted.Count when the store it wraps does
// not implement Counter. Callers that enforce a quota should treat it as "no
// count available" (and, say, log once), not as a full namespace.
var ErrCountUnsupported = errors.New("storage: the backend cannot count keys")

// ErrInvalidNamespace is wrapped by Count when namespace is not of the form
// NamespaceOf returns: non-empty, ending in ':' and holding no other ':'.
var ErrInvalidNamespace = errors.New("storage: invalid namespace")

// Counter is implemented by backends that can tell how many live keys a namespace
// holds. The proxy uses it to enforce quotas (live registered clients, pending
// authorizations) that hold across replicas and restarts when the backend is
// shared or persistent. Memory, Encrypted (over a Counter), storage/bolt and
// storage/redis implement it.
type Counter interface {
	// Count returns approximately how many unexpired keys start with namespace
	// (a key prefix ending in ':' such as "client:"; see NamespaceOf). A key
	// belongs to the namespace up to its first ':', so "client:" counts
	// "client:abc" and "client:a:b" but Count("a:b:") is an error wrapping
	// ErrInvalidNamespace, as is a namespace without its ':'.
	//
	// How approximate, by backend:
	//   - Memory: exact count of entries held, but an entry that has expired
	//     and not yet been removed (by Cleanup, or by a Take of it) still
	//     counts. O(shards), independent of how many keys are stored.
	//   - storage/bolt: exact count of unexpired records at Count's time, read
	//     in bounded batches (so writes landing during the scan may or may not
	//     be seen). O(keys in the namespace).
	//   - storage/redis: size of a per-namespace index, pruned of entries past
	//     their expiry at Count's time. A write that fails half-way, or a key
	//     Redis evicts, counts until its expiry; a key is left uncounted only
	//     by a Save racing a Take or Delete of the same key, or (on Cluster) a
	//     Save that fails half-way and returns an error. Clock skew between
	//     replicas shifts expiry by the skew. See the package documentation.
	Count(ctx context.Context, namespace string) (int, error)
}

// NamespaceOf returns the namespace key belongs to: key up to and including its
// first ':', or "" if key holds no ':' (such a key is in no namespace and never
// counted).
func NamespaceOf(key string) string {
	i := strings.IndexByte(key, ':')
	if i < 0 {
		return ""
	}
	return key[:i+1]
}

// CheckNamespace returns an error wrapping ErrInvalidNamespace unless namespace
// is a namespace some key can belong to (NamespaceOf(namespace) == namespace,
// and not ""). Counter implementations call it first.
func CheckNamespace(namespace string) error {
	if namespace == "" || NamespaceOf(namespace) != namespace {
		return fmt.Errorf("%w: %q must end in ':' and hold no other ':'", ErrInvalidNamespace, namespace)
	}
	return nil
}
