package bolt

import (
	"bytes"
	"context"
	"fmt"

	bbolt "go.etcd.io/bbolt"

	"github.com/oauthproxy-go/oauthproxy/storage"
)

var _ storage.Counter = (*Store)(nil)

// Count returns how many unexpired records have keys in namespace, by a cursor
// scan of the namespace's key range: keys are sorted, so it visits only that
// namespace, O(its keys), whatever else the file holds. The proxy counts only
// namespaces its quotas keep small (registered clients, pending
// authorizations). Nothing is kept beside the records, so the count is as
// durable as they are and needs no repair after a crash or restart.
//
// Expired records are not counted even before Cleanup deletes them; a record
// too short to decode is counted, as it occupies its key until an operator
// removes it. The scan reads at most scanBatch records per read transaction,
// so it never pins old pages for long; a write that lands between two batches
// may or may not be seen. ctx is checked between batches.
func (s *Store) Count(ctx context.Context, namespace string) (int, error) {
	if err := storage.CheckNamespace(namespace); err != nil {
		return 0, err
	}
	now := s.now().UnixNano()
	prefix := []byte(namespace)
	total := 0
	from := prefix
	for from != nil {
		if err := ctx.Err(); err != nil {
			return 0, err
		}
		var n int
		var err error
		n, from, err = s.countFrom(from, prefix, now)
		if err != nil {
			return 0, fmt.Errorf("storage/bolt: count %q: %w", namespace, err)
		}
		total += n
	}
	return total, nil
}

// countFrom counts the live records with prefix from key from onwards, up to
// scanBatch of them, and returns the key to resume at, or nil when the prefix's
// range is exhausted.
func (s *Store) countFrom(from, prefix []byte, now int64) (n int, next []byte, err error) {
	err = s.db.View(func(tx *bbolt.Tx) error {
		c := tx.Bucket(bucket).Cursor()
		scanned := 0
		for k, rec := c.Seek(from); k != nil && bytes.HasPrefix(k, prefix); k, rec = c.Next() {
			if scanned == scanBatch {
				next = bytes.Clone(k)
				return nil
			}
			scanned++
			if expiry, _, ok := decode(rec); !ok || !expired(expiry, now) {
				n++
			}
		}
		return nil
	})
	return n, next, err
}
