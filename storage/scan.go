package storage

import (
	"context"
	"errors"
	"fmt"
)

// ErrScanUnsupported is returned by Encrypted.Scan when the store it wraps does
// not implement Scanner, and wrapped by a backend that cannot list the
// namespace asked for (storage/redis lists only the namespaces it indexes).
var ErrScanUnsupported = errors.New("storage: the backend cannot list keys")

// ErrInvalidCursor is wrapped by Scan when cursor is not one the backend made.
var ErrInvalidCursor = errors.New("storage: invalid scan cursor")

// Page sizes for Scan: a limit <= 0 means DefaultScanLimit and one above
// MaxScanLimit is capped there (ScanLimit), so one call costs a bounded
// amount of work and memory whatever the caller asks.
const (
	DefaultScanLimit = 100
	MaxScanLimit     = 1000
)

// Scanner is implemented by backends that can list the keys under a prefix, a
// page at a time. The proxy's administration API uses it to list registered
// clients and the grant indexes it keeps by subject and by client. Memory,
// Encrypted (over a Scanner), storage/bolt and storage/redis implement it.
//
// Only keys are listed: keys are never secret (secrets are stored by hash), so
// Encrypted passes Scan through unchanged.
type Scanner interface {
	// Scan returns keys that start with prefix and have not expired, and the
	// cursor of the next page: pass "" for the first page and stop when next
	// is "". The cursor is opaque and belongs to the backend that made it.
	// prefix must hold a ':' (it lies inside the namespace NamespaceOf(prefix));
	// otherwise the error wraps ErrInvalidNamespace. limit is capped by
	// ScanLimit. A cursor the backend cannot read is an error wrapping
	// ErrInvalidCursor.
	//
	// A key that exists for the whole scan is returned at least once; a key
	// saved, deleted or expiring during the scan may or may not be. By backend:
	//   - Memory and storage/bolt return keys in ascending byte order, exactly
	//     once, at most limit per page; the cursor is the last key returned.
	//     Memory looks at every key it holds per page, O(keys); bolt seeks,
	//     O(log keys + limit).
	//   - storage/redis walks the namespace's count index with ZSCAN … MATCH,
	//     so the namespace must be indexed (see its WithCountedNamespaces) or
	//     the error wraps ErrScanUnsupported. Keys come in no order, may repeat
	//     across pages, and a page may be empty before the end or hold more
	//     than limit (Redis returns a small index, up to 128 keys, whole; COUNT
	//     is otherwise a hint Redis overshoots by a hash bucket). Each page
	//     costs O(limit) in Redis, a whole scan O(keys in the namespace).
	Scan(ctx context.Context, prefix, cursor string, limit int) (keys []string, next string, err error)
}

// ScanLimit returns the page size Scan uses for limit: DefaultScanLimit for
// limit <= 0, at most MaxScanLimit.
func ScanLimit(limit int) int {
	switch {
	case limit <= 0:
		return DefaultScanLimit
	case limit > MaxScanLimit:
		return MaxScanLimit
	}
	return limit
}

// CheckScanPrefix returns an error wrapping ErrInvalidNamespace unless prefix
// lies inside a namespace (it holds a ':'). Scanner implementations call it
// first.
func CheckScanPrefix(prefix string) error {
	if NamespaceOf(prefix) == "" {
		return fmt.Errorf("%w: scan prefix %q holds no ':'", ErrInvalidNamespace, prefix)
	}
	return nil
}
