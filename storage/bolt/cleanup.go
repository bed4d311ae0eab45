package bolt

import (
	"bytes"
	"context"
	"fmt"

	bbolt "go.etcd.io/bbolt"
)

const (
	// deleteBatch bounds the deletions per write transaction, so Cleanup never
	// holds bbolt's single write lock for long.
	deleteBatch = 1000
	// scanBatch bounds the entries one read transaction visits, so a long scan
	// does not pin old pages that writers would otherwise reuse.
	scanBatch = 10 * deleteBatch
)

// Cleanup deletes the entries that had expired when it started. It scans in read
// transactions, which do not block writers, and deletes at most deleteBatch
// entries per write transaction, returning ctx.Err() if ctx ends between batches.
// Records that do not decode are left alone for an operator to inspect.
func (s *Store) Cleanup(ctx context.Context) error {
	now := s.now().UnixNano()
	var from []byte // nil: start at the first key
	for {
		if err := ctx.Err(); err != nil {
			return err
		}
		dead, next, err := s.scanExpired(from, now)
		if err != nil {
			return fmt.Errorf("storage/bolt: cleanup: %w", err)
		}
		if len(dead) > 0 {
			if err := s.deleteExpired(dead, now); err != nil {
				return fmt.Errorf("storage/bolt: cleanup: %w", err)
			}
		}
		if next == nil {
			return nil
		}
		from = next
	}
}

// scanExpired visits entries from key from onwards, up to scanBatch of them or
// until it has found deleteBatch expired ones. It returns copies of the expired
// keys and the key to resume at, or a nil next when the bucket is exhausted.
func (s *Store) scanExpired(from []byte, now int64) (dead [][]byte, next []byte, err error) {
	err = s.db.View(func(tx *bbolt.Tx) error {
		c := tx.Bucket(bucket).Cursor()
		k, rec := c.First()
		if from != nil {
			k, rec = c.Seek(from)
		}
		for scanned := 0; k != nil; k, rec = c.Next() {
			if scanned == scanBatch || len(dead) == deleteBatch {
				next = bytes.Clone(k)
				return nil
			}
			scanned++
			if expiry, _, ok := decode(rec); ok && expired(expiry, now) {
				dead = append(dead, bytes.Clone(k))
			}
		}
		return nil
	})
	return dead, next, err
}

// deleteExpired deletes keys in one write transaction, re-checking each, because
// it may have been saved again since the scan.
func (s *Store) deleteExpired(keys [][]byte, now int64) error {
	return s.db.Update(func(tx *bbolt.Tx) error {
		b := tx.Bucket(bucket)
		for _, k := range keys {
			rec := b.Get(k)
			if rec == nil {
				continue
			}
			if expiry, _, ok := decode(rec); !ok || !expired(expiry, now) {
				continue
			}
			if err := b.Delete(k); err != nil {
				return err
			}
		}
		return nil
	})
}
