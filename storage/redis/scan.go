package redis

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/oauthproxy-go/oauthproxy/storage"
)

var _ storage.Scanner = (*Store)(nil)

// Scan lists the unexpired keys starting with prefix from the count index of
// their namespace (see Count): one ZSCAN … MATCH prefix* COUNT limit per page,
// on the index key alone, so it works on Redis Cluster too. The index scores
// each key by its expiry, and ZSCAN returns the scores, so keys past their
// expiry are left out without another round trip. The cursor is ZSCAN's.
//
// ZSCAN's promises are the ones storage.Scanner documents for this backend:
// no order, a key may come twice, a page may be empty before the end or hold
// more than limit (an index of up to 128 keys comes whole). A key that Redis
// evicted, or whose write was cut short (see the package documentation), is
// listed until its expiry; callers load each key and skip misses. A
// namespace that is not indexed returns an error wrapping
// storage.ErrScanUnsupported.
func (s *Store) Scan(ctx context.Context, prefix, cursor string, limit int) ([]string, string, error) {
	if err := storage.CheckScanPrefix(prefix); err != nil {
		return nil, "", err
	}
	ns := storage.NamespaceOf(prefix)
	if !s.isCounted(ns) {
		return nil, "", fmt.Errorf("storage/redis: scan %q: %w: %q is not in WithCountedNamespaces", prefix, storage.ErrScanUnsupported, ns)
	}
	var from uint64
	if cursor != "" {
		c, err := strconv.ParseUint(cursor, 10, 64)
		if err != nil || c == 0 {
			return nil, "", fmt.Errorf("storage/redis: scan %q: %w", prefix, storage.ErrInvalidCursor)
		}
		from = c
	}
	pairs, next, err := s.client.ZScan(ctx, s.indexKey(ns), from, globEscape(prefix)+"*", int64(storage.ScanLimit(limit))).Result()
	if err != nil {
		return nil, "", wrap(ctx, "scan", prefix, err)
	}
	now := float64(time.Now().UnixMilli())
	keys := make([]string, 0, len(pairs)/2)
	for i := 0; i+1 < len(pairs); i += 2 {
		// Scores are Unix milliseconds or "inf" (no expiry); ParseFloat reads both.
		expiry, err := strconv.ParseFloat(pairs[i+1], 64)
		if err == nil && expiry <= now {
			continue
		}
		keys = append(keys, pairs[i])
	}
	if next == 0 {
		return keys, "", nil
	}
	return keys, strconv.FormatUint(next, 10), nil
}

// globEscape quotes the characters Redis MATCH patterns give a meaning to, so
// prefix matches only itself.
func globEscape(prefix string) string {
	if !strings.ContainsAny(prefix, `*?[]\^`) {
		return prefix
	}
	var b strings.Builder
	for _, r := range prefix {
		if strings.ContainsRune(`*?[]\^`, r) {
			b.WriteByte('\\')
		}
		b.WriteRune(r)
	}
	return b.String()
}
