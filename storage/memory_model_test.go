package storage

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// modelEntry is what a plain map says the store holds under a key.
type modelEntry struct {
	value   []byte
	expires time.Time // zero: never
}

func (e modelEntry) expired(now time.Time) bool {
	return !e.expires.IsZero() && !now.Before(e.expires)
}

// TestMemoryMatchesModel runs random saves (new keys and overwrites, with and
// without a ttl, ties included), reads, takes, deletes, clock steps and
// cleanups against a plain map, on keys crowded into two shards so their
// heaps are several levels deep. After every operation the answers and the
// per-namespace counts must equal the model's, and every shard must pass
// checkShard: heap order, each deadline entry in its heap at its recorded
// index with its deadline, nothing else in the heap, vacated slots cleared.
func TestMemoryMatchesModel(t *testing.T) {
	ctx := t.Context()
	now := time.Date(2025, 6, 1, 12, 0, 0, 0, time.UTC)
	m := NewMemoryWithClock(func() time.Time { return now })
	rng := rand.New(rand.NewPCG(1, 2))

	namespaces := []string{"grant:", "refresh:", "code:", "grantsub:", ""}
	var keys []string
	for i := 0; len(keys) < 400; i++ {
		k := fmt.Sprintf("%s%08x", namespaces[i%len(namespaces)], i)
		if s := m.shardFor(k); s == &m.shards[0] || s == &m.shards[1] {
			keys = append(keys, k)
		}
	}
	ttls := []time.Duration{0, time.Second, 5 * time.Second, time.Minute, time.Hour}
	model := make(map[string]modelEntry)

	for op := range 20_000 {
		k := keys[rng.IntN(len(keys))]
		want, held := model[k]
		switch r := rng.IntN(100); {
		case r < 40:
			ttl := ttls[rng.IntN(len(ttls))]
			v := []byte(fmt.Sprint(op))
			require.NoError(t, m.Save(ctx, k, v, ttl))
			e := modelEntry{value: v}
			if ttl > 0 {
				e.expires = now.Add(ttl)
			}
			model[k] = e
		case r < 60:
			got, err := m.Get(ctx, k)
			if held && !want.expired(now) {
				require.NoError(t, err, "op %d: Get %q", op, k)
				require.True(t, bytes.Equal(want.value, got), "op %d: Get %q", op, k)
			} else {
				require.ErrorIs(t, err, ErrNotFound, "op %d: Get %q", op, k)
			}
		case r < 72:
			got, err := m.Take(ctx, k)
			if held && !want.expired(now) {
				require.NoError(t, err, "op %d: Take %q", op, k)
				require.True(t, bytes.Equal(want.value, got), "op %d: Take %q", op, k)
			} else {
				require.ErrorIs(t, err, ErrNotFound, "op %d: Take %q", op, k)
			}
			delete(model, k) // a Take removes an expired entry too
		case r < 82:
			require.NoError(t, m.Delete(ctx, k))
			delete(model, k)
		case r < 97:
			now = now.Add(time.Duration(rng.IntN(3000)) * time.Millisecond)
		default:
			require.NoError(t, m.Cleanup(ctx))
			for k, e := range model {
				if e.expired(now) {
					delete(model, k)
				}
			}
		}
		for i := range 2 { // the shards the keys were picked for
			s := &m.shards[i]
			s.mu.RLock()
			checkShard(t, m, s)
			s.mu.RUnlock()
		}
		requireModelCounts(t, m, model, namespaces)
	}
	checkInvariants(t, m)
}

// requireModelCounts checks Count and Len against the model, expired entries
// included as the store counts them until they are removed.
func requireModelCounts(t *testing.T, m *Memory, model map[string]modelEntry, namespaces []string) {
	t.Helper()
	want := make(map[string]int)
	for k := range model {
		want[NamespaceOf(k)]++
	}
	for _, ns := range namespaces {
		if ns == "" {
			continue
		}
		got, err := m.Count(t.Context(), ns)
		require.NoError(t, err)
		require.Equal(t, want[ns], got, "Count(%q)", ns)
	}
	require.Equal(t, len(model), m.Len())
}

// TestExpiryHeapRemovesEveryPosition removes from each position of heaps of
// every size up to a few levels, with duplicate deadlines, and checks the
// order, the recorded indexes and the cleared tail after each removal.
func TestExpiryHeapRemovesEveryPosition(t *testing.T) {
	for size := 1; size <= 2*heapArity*heapArity+3; size++ {
		for at := range size {
			var h expiryHeap
			for i := range size {
				e := newEntry(fmt.Sprint(i))
				e.expires = int64((i * 7919) % 13) // ties on purpose
				h.push(e)
			}
			victim := h[at].e
			require.Same(t, victim, h.remove(at))
			require.Equal(t, int32(-1), victim.index)
			require.Len(t, h, size-1)
			requireHeap(t, h)
			for h2 := h; len(h2) > 0; {
				first := h2[0].expires
				e := h2.remove(0)
				require.Equal(t, first, e.expires)
				for _, s := range h2 {
					require.GreaterOrEqual(t, s.expires, first, "remove(0) returned a later deadline than one left")
				}
				requireHeap(t, h2)
			}
		}
	}
}

// requireHeap checks h's order, that each entry records its own slot and
// deadline, and that slots past the end hold no entry (so the GC can free it).
func requireHeap(t *testing.T, h expiryHeap) {
	t.Helper()
	for i, s := range h {
		switch {
		case s.e.index != int32(i):
			t.Fatalf("the entry at slot %d records slot %d", i, s.e.index)
		case s.e.expires != s.expires:
			t.Fatalf("slot %d holds deadline %d, its entry %d", i, s.expires, s.e.expires)
		case i > 0 && h[(i-1)/heapArity].expires > s.expires:
			t.Fatalf("heap order broken at slot %d", i)
		}
	}
	for i, s := range h[len(h):cap(h)] {
		if s.e != nil {
			t.Fatalf("vacated slot %d still holds an entry", len(h)+i)
		}
	}
}
