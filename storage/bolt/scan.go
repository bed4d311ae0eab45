package bolt

import (
	"bytes"
	"context"
	"fmt"

	bbolt "go.etcd.io/bbolt"

	"github.com/oauthproxy-go/oauthproxy/storage"
)

var _ storage.Scanner = (*Store)(nil)

// Scan returns, in ascending order, up to limit unexpired keys that start with
// prefix and sort after cursor (the last key of the previous page). Keys are
// sorted in the file, so it seeks to the cursor and reads on: O(log keys +
// limit) in one read transaction, plus the expired records it steps over.
// Records too short to decode are listed, as Count counts them.
func (s *Store) Scan(ctx context.Context, prefix, cursor string, limit int) ([]string, string, error) {
	if err := storage.CheckScanPrefix(prefix); err != nil {
		return nil, "", err
	}
	if err := ctx.Err(); err != nil {
		return nil, "", err
	}
	limit = storage.ScanLimit(limit)
	now := s.now().UnixNano()
	from := []byte(prefix)
	if cursor > prefix {
		from = []byte(cursor)
	}
	var keys []string
	more := false
	err := s.db.View(func(tx *bbolt.Tx) error {
		c := tx.Bucket(bucket).Cursor()
		for k, rec := c.Seek(from); k != nil && bytes.HasPrefix(k, []byte(prefix)); k, rec = c.Next() {
			if string(k) <= cursor {
				continue // the cursor itself was on the last page
			}
			if expiry, _, ok := decode(rec); ok && expired(expiry, now) {
				continue
			}
			if len(keys) == limit {
				more = true
				return nil
			}
			keys = append(keys, string(k)) // copies: k belongs to the transaction
		}
		return nil
	})
	if err != nil {
		return nil, "", fmt.Errorf("storage/bolt: scan %q: %w", prefix, err)
	}
	if !more {
		return keys, "", nil
	}
	return keys, keys[len(keys)-1], nil
}
