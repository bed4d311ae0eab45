package bolt

import (
	"context"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	bbolt "go.etcd.io/bbolt"

	"github.com/oauthproxy-go/oauthproxy/storage"
)

// epoch is the fixed time the internal tests' clock starts at.
var epoch = time.Date(2025, 6, 1, 12, 0, 0, 0, time.UTC)

// openAt opens a fresh store whose clock reads *now.
func openAt(t *testing.T, now *time.Time) *Store {
	t.Helper()
	s, err := Open(filepath.Join(t.TempDir(), "state.db"), WithClock(func() time.Time { return *now }))
	require.NoError(t, err)
	t.Cleanup(func() { require.NoError(t, s.Close()) })
	return s
}

// bulkSave writes n entries named prefix-i expiring at expiry in one transaction;
// Save would fsync each one, which is too slow for tens of thousands.
func bulkSave(t *testing.T, s *Store, prefix string, n int, expiry int64) {
	t.Helper()
	require.NoError(t, s.db.Update(func(tx *bbolt.Tx) error {
		b := tx.Bucket(bucket)
		for i := range n {
			if err := b.Put(fmt.Appendf(nil, "%s-%05d", prefix, i), encode(expiry, []byte("v"))); err != nil {
				return err
			}
		}
		return nil
	}))
}

func count(t *testing.T, s *Store) int {
	t.Helper()
	var n int
	require.NoError(t, s.db.View(func(tx *bbolt.Tx) error {
		n = tx.Bucket(bucket).Stats().KeyN
		return nil
	}))
	return n
}

// txID returns the id of the last committed write transaction.
func txID(t *testing.T, s *Store) int {
	t.Helper()
	tx, err := s.db.Begin(false)
	require.NoError(t, err)
	defer func() { require.NoError(t, tx.Rollback()) }()
	return tx.ID()
}

func TestCleanupManyExpiredKeepsLive(t *testing.T) {
	const expiredN, liveN = 20_000, 500
	ctx := t.Context()
	now := epoch
	s := openAt(t, &now)

	// Interleave live and expired keys so batches straddle both.
	bulkSave(t, s, "a-expired", expiredN/2, now.Add(time.Second).UnixNano())
	bulkSave(t, s, "b-live", liveN, now.Add(time.Hour).UnixNano())
	bulkSave(t, s, "c-expired", expiredN/2, now.Add(time.Second).UnixNano())
	bulkSave(t, s, "d-forever", liveN, never)
	require.Equal(t, expiredN+2*liveN, count(t, s))

	now = now.Add(time.Minute)
	before := txID(t, s)
	require.NoError(t, s.Cleanup(ctx))
	commits := txID(t, s) - before

	assert.Equal(t, 2*liveN, count(t, s), "only live entries remain")
	assert.GreaterOrEqual(t, commits, expiredN/deleteBatch, "at most deleteBatch deletions per write transaction")
	assert.LessOrEqual(t, commits, expiredN/deleteBatch+2, "batches are not needlessly small")
	for _, k := range []string{"b-live-00000", "b-live-00499", "d-forever-00000", "d-forever-00499"} {
		_, err := s.Get(ctx, k)
		require.NoError(t, err, k)
	}

	before = txID(t, s)
	require.NoError(t, s.Cleanup(ctx))
	assert.Equal(t, before, txID(t, s), "a cleanup with nothing to delete commits nothing")
}

func TestCleanupStopsBetweenBatches(t *testing.T) {
	now := epoch
	s := openAt(t, &now)
	bulkSave(t, s, "expired", 5*deleteBatch, now.UnixNano())

	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	require.ErrorIs(t, s.Cleanup(ctx), context.Canceled)
	assert.Equal(t, 5*deleteBatch, count(t, s), "a cancelled cleanup does not start")
}

func TestCleanupRechecksBeforeDeleting(t *testing.T) {
	ctx := t.Context()
	now := epoch
	s := openAt(t, &now)
	bulkSave(t, s, "k", 3, now.UnixNano())

	dead, next, err := s.scanExpired(nil, now.UnixNano())
	require.NoError(t, err)
	require.Len(t, dead, 3)
	assert.Nil(t, next, "one scan covers a small bucket")

	// k-00001 is saved again between the scan and the delete.
	require.NoError(t, s.Save(ctx, "k-00001", []byte("renewed"), time.Hour))
	require.NoError(t, s.deleteExpired(dead, now.UnixNano()))

	got, err := s.Get(ctx, "k-00001")
	require.NoError(t, err, "an entry saved again after the scan survives")
	assert.Equal(t, []byte("renewed"), got)
	assert.Equal(t, 1, count(t, s))
}

func TestScanIsBounded(t *testing.T) {
	now := epoch
	s := openAt(t, &now)
	bulkSave(t, s, "live", scanBatch+10, now.Add(time.Hour).UnixNano())

	dead, next, err := s.scanExpired(nil, now.UnixNano())
	require.NoError(t, err)
	assert.Empty(t, dead)
	assert.Equal(t, fmt.Sprintf("live-%05d", scanBatch), string(next), "stops after scanBatch entries")

	dead, next, err = s.scanExpired(next, now.UnixNano())
	require.NoError(t, err)
	assert.Empty(t, dead)
	assert.Nil(t, next, "the second scan reaches the end")
}

func TestCorruptRecord(t *testing.T) {
	ctx := t.Context()
	now := epoch
	s := openAt(t, &now)
	require.NoError(t, s.db.Update(func(tx *bbolt.Tx) error {
		return tx.Bucket(bucket).Put([]byte("bad"), []byte{1, 2, 3})
	}))

	_, err := s.Get(ctx, "bad")
	require.ErrorIs(t, err, storage.ErrCorrupt)
	assert.NotErrorIs(t, err, storage.ErrNotFound)
	assert.Contains(t, err.Error(), `"bad"`)

	require.NoError(t, s.Cleanup(ctx))
	assert.Equal(t, 1, count(t, s), "Cleanup leaves records it cannot read")

	_, err = s.Take(ctx, "bad")
	require.ErrorIs(t, err, storage.ErrCorrupt)
	assert.Equal(t, 0, count(t, s), "Take consumes a corrupt record all the same")
}

func TestTakeExpiredDeletes(t *testing.T) {
	ctx := t.Context()
	now := epoch
	s := openAt(t, &now)
	require.NoError(t, s.Save(ctx, "code", []byte("v"), time.Second))
	now = now.Add(time.Second)

	_, err := s.Take(ctx, "code")
	require.ErrorIs(t, err, storage.ErrNotFound)
	assert.Equal(t, 0, count(t, s), "the expired record is gone")
}

func TestMissesCommitNothing(t *testing.T) {
	ctx := t.Context()
	now := epoch
	s := openAt(t, &now)
	before := txID(t, s)

	_, err := s.Take(ctx, "missing")
	require.ErrorIs(t, err, storage.ErrNotFound)
	require.NoError(t, s.Delete(ctx, "missing"))
	assert.Equal(t, before, txID(t, s), "a miss costs no commit or fsync")
}

func TestCleanupWhileWriting(t *testing.T) {
	ctx := t.Context()
	now := epoch
	s := openAt(t, &now)
	bulkSave(t, s, "expired", 5*deleteBatch, now.UnixNano())

	done := make(chan error, 1)
	go func() { done <- s.Cleanup(ctx) }()
	for i := range 20 {
		k := fmt.Sprintf("code-%d", i)
		require.NoError(t, s.Save(ctx, k, []byte("v"), time.Hour))
		got, err := s.Take(ctx, k)
		require.NoError(t, err)
		assert.Equal(t, []byte("v"), got)
	}
	require.NoError(t, <-done)
	assert.Equal(t, 0, count(t, s))
}

// Count reads a large namespace in several read transactions and still counts
// every live record once, and none from the namespaces sorted beside it.
func TestCountSpansBatches(t *testing.T) {
	now := epoch
	s := openAt(t, &now)
	live := now.Add(time.Hour).UnixNano()
	dead := now.Add(-time.Second).UnixNano()
	bulkSave(t, s, "client:live", scanBatch+scanBatch/2, live)
	bulkSave(t, s, "client:dead", 100, dead)
	bulkSave(t, s, "clienu:", 10, live) // sorts right after "client:"
	bulkSave(t, s, "client", 10, live)  // sorts right before "client:"

	before := txID(t, s)
	n, err := s.Count(t.Context(), "client:")
	require.NoError(t, err)
	assert.Equal(t, scanBatch+scanBatch/2, n)
	assert.Equal(t, before, txID(t, s), "Count writes nothing")
}

func TestCountHonoursCancellation(t *testing.T) {
	now := epoch
	s := openAt(t, &now)
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	_, err := s.Count(ctx, "client:")
	require.ErrorIs(t, err, context.Canceled)
}
