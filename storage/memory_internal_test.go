package storage

import (
	"fmt"
	"runtime"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// checkInvariants verifies that the map and the expiry heap describe the same
// entries: every deadline entry is in the heap at its recorded index, nothing
// else is, and the heap is ordered.
func checkInvariants(t *testing.T, m *Memory) {
	t.Helper()
	m.mu.RLock()
	defer m.mu.RUnlock()
	inHeap := 0
	for k, e := range m.entries {
		require.Equal(t, k, e.key)
		if e.expires == noExpiry {
			require.Equal(t, -1, e.index, "permanent entry %q in heap", k)
			continue
		}
		require.GreaterOrEqual(t, e.index, 0, "expiring entry %q missing from heap", k)
		require.Same(t, e, m.expiry[e.index])
		inHeap++
	}
	require.Len(t, m.expiry, inHeap, "heap holds entries the map does not")
	for i := 1; i < len(m.expiry); i++ {
		require.LessOrEqual(t, m.expiry[(i-1)/2].expires, m.expiry[i].expires, "heap order at %d", i)
	}
}

func TestCleanupOnceIsBounded(t *testing.T) {
	ctx := t.Context()
	var now time.Time
	m := NewMemoryWithClock(func() time.Time { return now })
	n := 3*cleanupBatch + 7
	for i := range n {
		require.NoError(t, m.Save(ctx, fmt.Sprint(i), nil, time.Second))
	}
	now = now.Add(time.Second)

	batches := 0
	for m.cleanupOnce(m.elapsed()) {
		batches++
		require.Equal(t, n-batches*cleanupBatch, m.Len(), "one lock hold removes exactly one batch")
		checkInvariants(t, m)
	}
	assert.Equal(t, 3, batches)
	assert.Zero(t, m.Len())
	checkInvariants(t, m)
}

func TestHeapStaysConsistentUnderTraffic(t *testing.T) {
	ctx := t.Context()
	m := NewMemory()
	var wg sync.WaitGroup
	for w := range 8 {
		wg.Go(func() {
			for i := range 2000 {
				k := fmt.Sprintf("w%d:%d", w, i%100)
				// A mix of permanent, already-expiring and long deadlines.
				ttl := []time.Duration{0, time.Millisecond, time.Hour}[i%3]
				assert.NoError(t, m.Save(ctx, k, []byte("v"), ttl))
				_, _ = m.Get(ctx, k)
				switch i % 4 {
				case 0:
					_, _ = m.Take(ctx, k)
				case 1:
					assert.NoError(t, m.Delete(ctx, k))
				}
			}
		})
	}
	wg.Go(func() {
		for range 200 {
			assert.NoError(t, m.Cleanup(ctx))
		}
	})
	wg.Wait()
	checkInvariants(t, m)
}

func TestHeapShrinksAfterSpike(t *testing.T) {
	ctx := t.Context()
	var now time.Time
	m := NewMemoryWithClock(func() time.Time { return now })
	for i := range 100_000 {
		require.NoError(t, m.Save(ctx, fmt.Sprint(i), nil, time.Second))
	}
	now = now.Add(time.Second)
	require.NoError(t, m.Cleanup(ctx))
	assert.LessOrEqual(t, cap(m.expiry), 2*minHeapCap)
}

func TestMemoryPerEntryOverhead(t *testing.T) {
	if testing.Short() {
		t.Skip("allocates ~100k entries")
	}
	const n = 100_000
	const valueSize = 32
	ctx := t.Context()
	keys := make([]string, n)
	for i := range keys {
		keys[i] = fmt.Sprintf("refresh:%032x", i) // hash-sized keys, as the proxy uses
	}

	before := heapInUse()
	m := NewMemory()
	value := make([]byte, valueSize)
	for _, k := range keys {
		require.NoError(t, m.Save(ctx, k, value, time.Hour))
	}
	after := heapInUse()
	runtime.KeepAlive(m)
	runtime.KeepAlive(keys) // else freeing them would hide the cost of the entries

	perEntry := float64(after-before)/n - valueSize
	t.Logf("per-entry overhead beyond the value: %.0f bytes", perEntry)
	assert.Less(t, perEntry, 512.0)
}

func heapInUse() uint64 {
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return ms.HeapAlloc
}
