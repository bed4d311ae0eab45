package storage

import (
	"fmt"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"
	"unsafe"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// checkInvariants verifies, shard by shard, that the map and the expiry heap
// describe the same entries: every deadline entry is in its shard's heap at its
// recorded index, nothing else is, each heap is ordered, and every key sits in
// the shard its hash picks.
func checkInvariants(t *testing.T, m *Memory) {
	t.Helper()
	for i := range m.shards {
		s := &m.shards[i]
		s.mu.RLock()
		checkShard(t, m, s)
		s.mu.RUnlock()
	}
}

func checkShard(t *testing.T, m *Memory, s *shard) {
	t.Helper()
	// Plain comparisons in the loops: this runs after every operation of
	// TestMemoryMatchesModel.
	inHeap := 0
	for k, e := range s.entries {
		switch {
		case k != e.key:
			t.Fatalf("map key %q holds the entry of %q", k, e.key)
		case m.shardFor(k) != s:
			t.Fatalf("key %q in the wrong shard", k)
		case e.expires == noExpiry && e.index != -1:
			t.Fatalf("permanent entry %q in heap at %d", k, e.index)
		case e.expires == noExpiry:
			continue
		case e.index < 0 || int(e.index) >= len(s.expiry):
			t.Fatalf("expiring entry %q missing from heap (index %d of %d)", k, e.index, len(s.expiry))
		case s.expiry[e.index].e != e:
			t.Fatalf("heap slot %d holds another entry than %q", e.index, k)
		}
		inHeap++
	}
	require.Len(t, s.expiry, inHeap, "heap holds entries the map does not")
	require.Equal(t, countedByKeys(s), countedByShard(t, m, s), "per-namespace counts disagree with the entries")
	requireHeap(t, s.expiry)
}

func TestCleanupOnceIsBounded(t *testing.T) {
	ctx := t.Context()
	var now time.Time
	m := NewMemoryWithClock(func() time.Time { return now })
	// Fill one shard with keys that hash to it, so its backlog spans batches.
	target := &m.shards[0]
	n := 3*cleanupBatch + 7
	for i, saved := 0, 0; saved < n; i++ {
		k := fmt.Sprint(i)
		if m.shardFor(k) != target {
			continue
		}
		require.NoError(t, m.Save(ctx, k, nil, time.Second))
		saved++
	}
	require.Equal(t, n, m.Len())
	now = now.Add(time.Second)

	batches := 0
	for target.cleanupOnce(m.elapsed()) {
		batches++
		require.Equal(t, n-batches*cleanupBatch, m.Len(), "one lock hold removes exactly one batch")
		checkInvariants(t, m)
	}
	assert.Equal(t, 3, batches)
	assert.Zero(t, m.Len())
	checkInvariants(t, m)
}

func TestKeysSpreadOverShards(t *testing.T) {
	ctx := t.Context()
	m := NewMemory()
	const n = 100 * shardCount
	for i := range n {
		require.NoError(t, m.Save(ctx, fmt.Sprintf("grant:%d", i), nil, time.Hour))
	}
	for i := range m.shards {
		got := len(m.shards[i].entries)
		assert.Greater(t, got, n/shardCount/2, "shard %d holds %d of %d", i, got, n)
		assert.Less(t, got, 2*n/shardCount, "shard %d holds %d of %d", i, got, n)
	}
	checkInvariants(t, m)
}

func TestCleanupTakesShardLocks(t *testing.T) {
	ctx := t.Context()
	var clock atomic.Int64
	m := NewMemoryWithClock(func() time.Time { return time.Unix(0, clock.Load()) })
	for i := range 20 * cleanupBatch {
		require.NoError(t, m.Save(ctx, fmt.Sprintf("code:%d", i), nil, time.Second))
	}
	require.NoError(t, m.Save(ctx, "live", []byte("v"), time.Hour))
	clock.Add(int64(time.Minute))

	// Hold every shard's lock: Cleanup must block on the first and finish once
	// they are released, leaving the live entry.
	for i := range m.shards {
		m.shards[i].mu.Lock()
	}
	done := make(chan error)
	go func() { done <- m.Cleanup(ctx) }()
	select {
	case <-done:
		t.Fatal("Cleanup ran without taking a shard lock")
	case <-time.After(10 * time.Millisecond):
	}
	for i := range m.shards {
		m.shards[i].mu.Unlock()
	}
	require.NoError(t, <-done)
	assert.Equal(t, 1, m.Len())
	got, err := m.Get(ctx, "live")
	require.NoError(t, err)
	assert.Equal(t, []byte("v"), got)
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
	for i := range m.shards {
		assert.LessOrEqual(t, cap(m.shards[i].expiry), 2*minHeapCap, "shard %d", i)
	}
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

// countedByKeys counts s's entries per namespace the slow way, for
// comparison with the counts the shard keeps. The caller holds s.mu.
func countedByKeys(s *shard) map[string]int {
	want := make(map[string]int)
	for k := range s.entries {
		if ns := NamespaceOf(k); ns != "" {
			want[ns]++
		}
	}
	return want
}

// countedByShard is the shard's own per-namespace counts as a map by name,
// non-zero ones only. The caller holds s.mu.
func countedByShard(t *testing.T, m *Memory, s *shard) map[string]int {
	t.Helper()
	got := make(map[string]int)
	if s.counts == nil {
		return got
	}
	if ids := m.namespaces.ids.Load(); ids != nil {
		for ns, id := range *ids {
			if n := s.counts.byID[id-1]; n != 0 {
				got[ns] = n
			}
		}
	}
	for ns, n := range s.counts.overflow {
		if _, ok := got[ns]; ok {
			t.Fatalf("namespace %q counted both by id and in the overflow map", ns)
		}
		got[ns] = *n
	}
	return got
}

// A shard fills one cache line exactly, so neighbouring shards' locks never
// share one (false sharing would make shards contend like one lock).
func TestShardIsOneCacheLine(t *testing.T) {
	assert.Equal(t, uintptr(64), unsafe.Sizeof(shard{}))
}

func heapInUse() uint64 {
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return ms.HeapAlloc
}
