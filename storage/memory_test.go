package storage_test

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/oauthproxy-go/oauthproxy/crypto"
	"github.com/oauthproxy-go/oauthproxy/storage"
	"github.com/oauthproxy-go/oauthproxy/storage/storagetest"
)

func TestMemoryConformance(t *testing.T) {
	storagetest.Run(t, func(t *testing.T) storage.TokenStorage { return storage.NewMemory() })
}

func TestEncryptedMemoryConformance(t *testing.T) {
	storagetest.Run(t, func(t *testing.T) storage.TokenStorage {
		return storage.NewEncrypted(storage.NewMemory(), newSealer(t))
	})
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

func TestMemoryExpiryIsExact(t *testing.T) {
	ctx := t.Context()
	clock := newFakeClock()
	m := storage.NewMemoryWithClock(clock.Now)
	require.NoError(t, m.Save(ctx, "code:1", []byte("v"), 10*time.Second))
	require.NoError(t, m.Save(ctx, "code:2", []byte("v"), 10*time.Second))

	clock.Advance(10*time.Second - time.Nanosecond)
	_, err := m.Get(ctx, "code:1")
	require.NoError(t, err, "1ns before the deadline")

	clock.Advance(time.Nanosecond)
	_, err = m.Get(ctx, "code:1")
	require.ErrorIs(t, err, storage.ErrNotFound, "at the deadline")
	_, err = m.Take(ctx, "code:2")
	require.ErrorIs(t, err, storage.ErrNotFound, "Take at the deadline")
}

func TestMemoryOverwriteMovesDeadline(t *testing.T) {
	ctx := t.Context()
	clock := newFakeClock()
	m := storage.NewMemoryWithClock(clock.Now)

	tests := []struct {
		name           string
		first, second  time.Duration
		aliveAfter     time.Duration
		wantAliveAfter bool
	}{
		{"extend", time.Second, time.Hour, time.Minute, true},
		{"shorten", time.Hour, time.Second, time.Minute, false},
		{"make permanent", time.Second, 0, 24 * time.Hour, true},
		{"make expiring", 0, time.Second, time.Minute, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			k := "k:" + tt.name
			require.NoError(t, m.Save(ctx, k, []byte("1"), tt.first))
			require.NoError(t, m.Save(ctx, k, []byte("2"), tt.second))
			clock.Advance(tt.aliveAfter)
			require.NoError(t, m.Cleanup(ctx))

			got, err := m.Get(ctx, k)
			if !tt.wantAliveAfter {
				require.ErrorIs(t, err, storage.ErrNotFound)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, []byte("2"), got)
		})
	}
}

func TestMemoryHugeTTLNeverExpires(t *testing.T) {
	ctx := t.Context()
	clock := newFakeClock()
	m := storage.NewMemoryWithClock(clock.Now)
	clock.Advance(time.Hour) // so start+elapsed+ttl overflows
	require.NoError(t, m.Save(ctx, "k", []byte("v"), time.Duration(1<<63-1)))
	clock.Advance(100 * 365 * 24 * time.Hour)
	require.NoError(t, m.Cleanup(ctx))
	_, err := m.Get(ctx, "k")
	require.NoError(t, err)
}

func TestMemoryCleanupLargeBacklog(t *testing.T) {
	const expired, live = 100_000, 1_000
	ctx := t.Context()
	clock := newFakeClock()
	m := storage.NewMemoryWithClock(clock.Now)
	for i := range expired {
		require.NoError(t, m.Save(ctx, fmt.Sprintf("txn:%d", i), []byte("x"), time.Duration(i%1000+1)*time.Millisecond))
	}
	for i := range live {
		ttl := time.Hour
		if i%2 == 0 {
			ttl = 0
		}
		require.NoError(t, m.Save(ctx, fmt.Sprintf("grant:%d", i), []byte("live"), ttl))
	}
	require.Equal(t, expired+live, m.Len())

	clock.Advance(time.Second)
	require.Equal(t, expired+live, m.Len(), "reads do not remove; Cleanup does")
	require.NoError(t, m.Cleanup(ctx))

	assert.Equal(t, live, m.Len())
	for i := range live {
		got, err := m.Get(ctx, fmt.Sprintf("grant:%d", i))
		require.NoError(t, err)
		require.Equal(t, []byte("live"), got)
	}
}

func TestMemoryCleanupHonoursCancellation(t *testing.T) {
	ctx := t.Context()
	clock := newFakeClock()
	m := storage.NewMemoryWithClock(clock.Now)
	for i := range 5000 {
		require.NoError(t, m.Save(ctx, fmt.Sprintf("k%d", i), nil, time.Second))
	}
	clock.Advance(time.Minute)

	cancelled, cancel := context.WithCancel(ctx)
	cancel()
	require.ErrorIs(t, m.Cleanup(cancelled), context.Canceled)
	assert.Equal(t, 5000, m.Len(), "a cancelled Cleanup stops before its next batch")

	require.NoError(t, m.Cleanup(ctx))
	assert.Zero(t, m.Len())
}

func TestMemoryPersistent(t *testing.T) {
	var p storage.Persistence = storage.NewMemory()
	assert.False(t, p.Persistent())
}

func newSealer(t testing.TB) *crypto.Sealer {
	t.Helper()
	key, err := crypto.GenerateKey()
	require.NoError(t, err)
	s, err := crypto.NewSealer(key)
	require.NoError(t, err)
	return s
}

// Memory counts an expired entry until something removes it: Cleanup, or a Take
// of its key. Get does not remove, so it does not change the count.
func TestMemoryCountIncludesExpiredUntilRemoved(t *testing.T) {
	ctx := t.Context()
	clock := newFakeClock()
	m := storage.NewMemoryWithClock(clock.Now)
	require.NoError(t, m.Save(ctx, "txn:a", []byte("v"), time.Second))
	require.NoError(t, m.Save(ctx, "txn:b", []byte("v"), time.Second))
	require.NoError(t, m.Save(ctx, "txn:c", []byte("v"), time.Hour))
	require.NoError(t, m.Save(ctx, "nonamespace", []byte("v"), time.Hour))
	clock.Advance(time.Second)

	count := func() int {
		t.Helper()
		n, err := m.Count(ctx, "txn:")
		require.NoError(t, err)
		return n
	}
	_, err := m.Get(ctx, "txn:a")
	require.ErrorIs(t, err, storage.ErrNotFound)
	assert.Equal(t, 3, count(), "expired entries still count before their removal")

	_, err = m.Take(ctx, "txn:a")
	require.ErrorIs(t, err, storage.ErrNotFound)
	assert.Equal(t, 2, count(), "a Take of an expired key removes it")

	require.NoError(t, m.Cleanup(ctx))
	assert.Equal(t, 1, count(), "Cleanup removes the rest")
	assert.Equal(t, 2, m.Len())
}

func TestMemorySortedScan(t *testing.T) {
	storagetest.RunSortedScan(t, func(t *testing.T) storage.TokenStorage { return storage.NewMemory() })
}

func TestScanLimit(t *testing.T) {
	for limit, want := range map[int]int{-1: storage.DefaultScanLimit, 0: storage.DefaultScanLimit, 1: 1, 1000: 1000, 1001: storage.MaxScanLimit} {
		assert.Equal(t, want, storage.ScanLimit(limit), "limit %d", limit)
	}
}
