package storage

import (
	"runtime"
	"strings"
	"testing"
	"time"
	"unsafe"

	"github.com/stretchr/testify/require"
)

// newEntry copies the key, whatever its length, so a key sliced from a large
// buffer never pins it, and the entry starts outside the heap.
func TestNewEntryCopiesKey(t *testing.T) {
	buf := strings.Repeat("grantsub:0123456789", 20)
	for n := range len(buf) {
		key := buf[:n]
		e := newEntry(key)
		require.Equal(t, key, e.key)
		require.Equal(t, int32(-1), e.index)
		if n > 0 {
			require.NotSame(t, unsafe.StringData(key), unsafe.StringData(e.key), "key of %d bytes shares the caller's bytes", n)
		}
	}
}

// Storing the key inside the entry must never cost more heap than the entry
// plus a separate copy of the key, as the store kept them before, for any
// key length.
func TestNewEntryIsNoLarger(t *testing.T) {
	const rounds = 4096
	keep := make([]*entry, rounds) // keeps the allocations from being elided
	for n := range 200 {
		key := strings.Repeat("k", n)
		separate := allocated(func() {
			for i := range keep {
				keep[i] = &entry{key: strings.Clone(key), index: -1}
			}
		})
		inline := allocated(func() {
			for i := range keep {
				keep[i] = newEntry(key)
			}
		})
		// TotalAlloc counts small objects a span at a time, a few bytes per
		// object of noise; size classes this large are 16 bytes apart, so a
		// slack of 4 still catches an object that took a larger class.
		require.LessOrEqual(t, inline, separate+4*rounds, "key of %d bytes: %d B inline, %d B apart", n, inline/rounds, separate/rounds)
	}
	runtime.KeepAlive(keep)
}

// allocated returns the bytes f allocates, size-class rounding included.
func allocated(f func()) uint64 {
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	f()
	runtime.ReadMemStats(&after)
	return after.TotalAlloc - before.TotalAlloc
}

// The keys Scan returns are copies: a stored key lies inside its entry, and a
// caller keeping a page of keys must not keep the entries and their values.
func TestScanKeysAreCopies(t *testing.T) {
	ctx := t.Context()
	m := NewMemory()
	require.NoError(t, m.Save(ctx, "grant:1", make([]byte, 1<<10), time.Hour))
	keys, _, err := m.Scan(ctx, "grant:", "", 10)
	require.NoError(t, err)
	require.Equal(t, []string{"grant:1"}, keys)
	s := m.shardFor("grant:1")
	require.NotSame(t, unsafe.StringData(s.entries["grant:1"].key), unsafe.StringData(keys[0]))
}

// requireOverflowKeysOwned checks that no shard's overflow map keeps, as a
// key, a slice of an entry's key (which would keep that entry in memory).
func requireOverflowKeysOwned(t *testing.T, m *Memory) {
	t.Helper()
	for i := range m.shards {
		s := &m.shards[i]
		if s.counts == nil {
			continue
		}
		for ns := range s.counts.overflow {
			for k := range s.entries {
				require.NotSame(t, unsafe.StringData(k), unsafe.StringData(ns), "overflow key %q shares %q's bytes", ns, k)
			}
		}
	}
}
