package bolt_test

import (
	"crypto/rand"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/oauthproxy-go/oauthproxy/crypto"
	"github.com/oauthproxy-go/oauthproxy/storage"
	"github.com/oauthproxy-go/oauthproxy/storage/bolt"
	"github.com/oauthproxy-go/oauthproxy/storage/storagetest"
)

func TestConformance(t *testing.T) {
	t.Parallel()
	storagetest.Run(t, func(t *testing.T) storage.TokenStorage { return open(t, dbPath(t)) })
}

func TestEncryptedConformance(t *testing.T) {
	t.Parallel()
	sealer := newSealer(t)
	storagetest.Run(t, func(t *testing.T) storage.TokenStorage {
		return storage.NewEncrypted(open(t, dbPath(t)), sealer)
	})
}

func TestPersistent(t *testing.T) {
	s := open(t, dbPath(t))
	assert.True(t, s.Persistent())
	assert.True(t, storage.NewEncrypted(s, newSealer(t)).Persistent())
}

func TestFileMode(t *testing.T) {
	path := dbPath(t)
	open(t, path)
	info, err := os.Stat(path)
	require.NoError(t, err)
	assert.Equal(t, os.FileMode(0o600), info.Mode().Perm())
}

func TestSurvivesReopen(t *testing.T) {
	ctx := t.Context()
	path := dbPath(t)
	s, err := bolt.Open(path)
	require.NoError(t, err)
	require.NoError(t, s.Save(ctx, "grant:1", []byte("kept"), time.Hour))
	require.NoError(t, s.Save(ctx, "grant:2", []byte("forever"), 0))
	require.NoError(t, s.Close())

	s = open(t, path)
	for k, want := range map[string]string{"grant:1": "kept", "grant:2": "forever"} {
		got, err := s.Get(ctx, k)
		require.NoError(t, err, k)
		assert.Equal(t, []byte(want), got, k)
	}
}

func TestExpirySurvivesReopen(t *testing.T) {
	ctx := t.Context()
	path := dbPath(t)
	clock := newFakeClock()
	s, err := bolt.Open(path, bolt.WithClock(clock.Now))
	require.NoError(t, err)
	require.NoError(t, s.Save(ctx, "code:1", []byte("v"), time.Minute))
	require.NoError(t, s.Close())

	clock.Advance(time.Minute)
	s = open(t, path, bolt.WithClock(clock.Now))
	_, err = s.Get(ctx, "code:1")
	require.ErrorIs(t, err, storage.ErrNotFound, "the expiry is stored with the value")
}

func TestSecondOpenFailsWithinTimeout(t *testing.T) {
	path := dbPath(t)
	open(t, path)

	const timeout = 200 * time.Millisecond
	start := time.Now()
	s, err := bolt.Open(path, bolt.WithLockTimeout(timeout))
	elapsed := time.Since(start)
	if s != nil {
		_ = s.Close()
	}
	require.ErrorIs(t, err, bolt.ErrLocked)
	assert.Contains(t, err.Error(), path)
	assert.GreaterOrEqual(t, elapsed, timeout/2)
	assert.Less(t, elapsed, timeout+time.Second, "Open waited well past its lock timeout")
}

func TestOpenAfterCloseSucceeds(t *testing.T) {
	path := dbPath(t)
	s, err := bolt.Open(path)
	require.NoError(t, err)
	require.NoError(t, s.Close())
	open(t, path, bolt.WithLockTimeout(100*time.Millisecond))
}

func TestOpenBadPath(t *testing.T) {
	_, err := bolt.Open(filepath.Join(t.TempDir(), "missing-dir", "state.db"))
	require.Error(t, err)
	assert.NotErrorIs(t, err, bolt.ErrLocked)
}

func TestUseAfterCloseFails(t *testing.T) {
	ctx := t.Context()
	s, err := bolt.Open(dbPath(t))
	require.NoError(t, err)
	require.NoError(t, s.Close())

	require.Error(t, s.Save(ctx, "k", []byte("v"), time.Hour))
	_, err = s.Get(ctx, "k")
	require.Error(t, err)
	assert.NotErrorIs(t, err, storage.ErrNotFound, "a closed store is a failure, not a miss")
	_, err = s.Take(ctx, "k")
	require.Error(t, err)
	assert.NotErrorIs(t, err, storage.ErrNotFound)
}

func TestExpiryIsExact(t *testing.T) {
	ctx := t.Context()
	clock := newFakeClock()
	s := open(t, dbPath(t), bolt.WithClock(clock.Now))
	require.NoError(t, s.Save(ctx, "code:1", []byte("v"), 10*time.Second))
	require.NoError(t, s.Save(ctx, "code:2", []byte("v"), 10*time.Second))

	clock.Advance(10*time.Second - time.Nanosecond)
	_, err := s.Get(ctx, "code:1")
	require.NoError(t, err, "1ns before the deadline")

	clock.Advance(time.Nanosecond)
	_, err = s.Get(ctx, "code:1")
	require.ErrorIs(t, err, storage.ErrNotFound, "at the deadline")
	_, err = s.Take(ctx, "code:2")
	require.ErrorIs(t, err, storage.ErrNotFound, "Take at the deadline")
}

func TestHugeTTLNeverExpires(t *testing.T) {
	ctx := t.Context()
	clock := newFakeClock()
	s := open(t, dbPath(t), bolt.WithClock(clock.Now))
	require.NoError(t, s.Save(ctx, "k", []byte("v"), time.Duration(1<<63-1)))
	clock.Advance(100 * 365 * 24 * time.Hour)
	_, err := s.Get(ctx, "k")
	require.NoError(t, err, "a TTL that overflows the clock means no expiry")
}

func dbPath(t *testing.T) string { return filepath.Join(t.TempDir(), "state.db") }

// open opens path and closes the store when the test ends.
func open(t *testing.T, path string, opts ...bolt.Option) *bolt.Store {
	t.Helper()
	s, err := bolt.Open(path, opts...)
	require.NoError(t, err)
	t.Cleanup(func() { require.NoError(t, s.Close()) })
	return s
}

func newSealer(t testing.TB) *crypto.Sealer {
	t.Helper()
	key := make([]byte, crypto.KeySize)
	_, _ = rand.Read(key) // crypto/rand.Read never fails
	sealer, err := crypto.NewSealer(key)
	require.NoError(t, err)
	return sealer
}

// fakeClock is a settable clock for exact expiry tests.
type fakeClock struct {
	mu  sync.Mutex
	now time.Time
}

func newFakeClock() *fakeClock {
	return &fakeClock{now: time.Date(2025, 6, 1, 12, 0, 0, 0, time.UTC)}
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

func TestSortedScan(t *testing.T) {
	t.Parallel()
	storagetest.RunSortedScan(t, func(t *testing.T) storage.TokenStorage { return open(t, dbPath(t)) })
}
