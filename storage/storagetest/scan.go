package storagetest

import (
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/oauthproxy-go/oauthproxy/storage"
)

// scanTests are the storage.Scanner part of the suite. They run only when the
// store implements Scanner (and, for a wrapper such as storage.Encrypted, the
// store it wraps does too).
var scanTests = []struct {
	name string
	fn   func(t *testing.T, s storage.TokenStorage, sc storage.Scanner)
}{
	{"ScanPages", testScanPages},
	{"ScanLeavesOutGone", testScanLeavesOutGone},
	{"ScanEmpty", testScanEmpty},
	{"ScanDuringWrites", testScanDuringWrites},
	{"ScanInvalidPrefix", testScanInvalidPrefix},
}

// maxPages bounds every scan loop, so a backend whose cursor never ends fails
// instead of hanging.
const maxPages = 10_000

// scanner returns s as a storage.Scanner, skipping the test when s cannot list.
func scanner(t *testing.T, s storage.TokenStorage) storage.Scanner {
	t.Helper()
	sc, ok := s.(storage.Scanner)
	if !ok {
		t.Skipf("%T does not implement storage.Scanner", s)
	}
	_, _, err := sc.Scan(t.Context(), namespace(t, "probe"), "", 1)
	if errors.Is(err, storage.ErrScanUnsupported) {
		t.Skipf("%T wraps a store that does not implement storage.Scanner", s)
	}
	require.NoError(t, err, "Scan of an empty namespace")
	return sc
}

// scanAll follows the cursor to the end and returns the distinct keys listed
// and how many pages it took.
func scanAll(t *testing.T, sc storage.Scanner, prefix string, limit int) (map[string]bool, int) {
	t.Helper()
	seen := map[string]bool{}
	cursor := ""
	for page := 1; page <= maxPages; page++ {
		keys, next, err := sc.Scan(t.Context(), prefix, cursor, limit)
		require.NoError(t, err, "page %d", page)
		for _, k := range keys {
			seen[k] = true
		}
		if next == "" {
			return seen, page
		}
		cursor = next
	}
	t.Fatalf("scan of %q did not end after %d pages", prefix, maxPages)
	return nil, 0
}

func keySet(keys ...string) map[string]bool {
	m := make(map[string]bool, len(keys))
	for _, k := range keys {
		m[k] = true
	}
	return m
}

func testScanPages(t *testing.T, s storage.TokenStorage, sc storage.Scanner) {
	ctx := t.Context()
	ns := namespace(t, "grant")
	var want []string
	for i := range 150 {
		k := fmt.Sprintf("%salice:%03d", ns, i)
		want = append(want, k)
		require.NoError(t, s.Save(ctx, k, []byte("v"), time.Hour))
	}
	forever := ns + "alice:forever"
	require.NoError(t, s.Save(ctx, forever, []byte("v"), 0))
	want = append(want, forever)
	// Keys that merely resemble the prefix are not under it.
	for _, k := range []string{ns + "alicex:1", ns + "bob:1", ns + "alice", namespace(t, "other") + "alice:1"} {
		require.NoError(t, s.Save(ctx, k, []byte("o"), time.Hour))
	}

	got, pages := scanAll(t, sc, ns+"alice:", 7)
	assert.Equal(t, keySet(want...), got, "every key under the prefix, and nothing else")
	assert.Greater(t, pages, 1, "151 keys at 7 a page take more than one page")

	got, _ = scanAll(t, sc, ns+"alice:", storage.MaxScanLimit+1)
	assert.Equal(t, keySet(want...), got, "a limit above the cap still lists everything")
}

func testScanLeavesOutGone(t *testing.T, s storage.TokenStorage, sc storage.Scanner) {
	ctx := t.Context()
	ns := namespace(t, "grant")
	for _, k := range []string{"live", "taken", "deleted"} {
		require.NoError(t, s.Save(ctx, ns+k, []byte("v"), time.Hour))
	}
	require.NoError(t, s.Save(ctx, ns+"expiring", []byte("v"), shortTTL))
	_, err := s.Take(ctx, ns+"taken")
	require.NoError(t, err)
	require.NoError(t, s.Delete(ctx, ns+"deleted"))
	waitExpired(t, s, ns+"expiring")

	// No Cleanup first: an expired key must not be listed even before it.
	got, _ := scanAll(t, sc, ns, 10)
	assert.Equal(t, keySet(ns+"live"), got)
}

func testScanEmpty(t *testing.T, _ storage.TokenStorage, sc storage.Scanner) {
	keys, next, err := sc.Scan(t.Context(), namespace(t, "empty")+"x:", "", 10)
	require.NoError(t, err)
	assert.Empty(t, keys)
	assert.Empty(t, next, "an empty prefix ends at once")
}

// testScanDuringWrites pins the guarantee callers rely on to find every grant
// of a user: a key present for the whole scan is listed, whatever else is
// saved and deleted meanwhile.
func testScanDuringWrites(t *testing.T, s storage.TokenStorage, sc storage.Scanner) {
	ctx := t.Context()
	ns := namespace(t, "grant")
	var stable []string
	for i := range 60 {
		k := fmt.Sprintf("%sstable:%02d", ns, i)
		stable = append(stable, k)
		require.NoError(t, s.Save(ctx, k, []byte("v"), time.Hour))
	}
	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() {
		for i := 0; ; i++ {
			select {
			case <-stop:
				return
			default:
			}
			// A bounded set of churning keys, so the scan has an end.
			k := fmt.Sprintf("%sstable:churn%02d", ns, i%20)
			if !assert.NoError(t, s.Save(ctx, k, []byte("v"), time.Hour)) {
				return
			}
			if i%3 == 0 && !assert.NoError(t, s.Delete(ctx, k)) {
				return
			}
		}
	})
	got, _ := scanAll(t, sc, ns+"stable:", 5)
	close(stop)
	wg.Wait()
	for _, k := range stable {
		assert.True(t, got[k], "key %s, present throughout, was not listed", k)
	}
}

func testScanInvalidPrefix(t *testing.T, _ storage.TokenStorage, sc storage.Scanner) {
	for _, prefix := range []string{"", "client"} {
		_, _, err := sc.Scan(t.Context(), prefix, "", 10)
		require.ErrorIs(t, err, storage.ErrInvalidNamespace, "prefix %q", prefix)
	}
}

// RunSortedScan checks the stronger Scan contract of backends that keep keys
// in order (storage.Memory, storage/bolt): ascending pages of at most limit
// keys, each key once, the cursor resuming exactly after the last one.
func RunSortedScan(t *testing.T, newStorage func(t *testing.T) storage.TokenStorage) {
	t.Helper()
	s := newStorage(t)
	sc, ok := s.(storage.Scanner)
	require.True(t, ok, "%T does not implement storage.Scanner", s)
	ctx := t.Context()
	ns := namespace(t, "grant")
	var want []string
	for i := range 23 {
		k := fmt.Sprintf("%ss:%02d", ns, i)
		want = append(want, k)
		// Saved out of order: the order of the listing is the store's.
		require.NoError(t, s.Save(ctx, fmt.Sprintf("%ss:%02d", ns, 22-i), []byte("v"), time.Hour))
	}
	var got []string
	cursor := ""
	for page := 1; ; page++ {
		require.LessOrEqual(t, page, 5, "23 keys at 5 a page take 5 pages")
		keys, next, err := sc.Scan(ctx, ns+"s:", cursor, 5)
		require.NoError(t, err)
		require.LessOrEqual(t, len(keys), 5, "page %d", page)
		got = append(got, keys...)
		if next == "" {
			break
		}
		require.Equal(t, keys[len(keys)-1], next, "the cursor is the last key listed")
		cursor = next
	}
	assert.Equal(t, want, got, "every key once, in ascending order")

	keys, next, err := sc.Scan(ctx, ns+"s:", "", 23)
	require.NoError(t, err)
	assert.Len(t, keys, 23)
	assert.Empty(t, next, "a page that holds the last key ends the scan")
}
