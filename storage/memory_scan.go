package storage

import (
	"container/heap"
	"context"
	"strings"
)

var _ Scanner = (*Memory)(nil)

// Scan returns, in ascending order, up to limit unexpired keys that start with
// prefix and sort after cursor (the last key of the previous page). Memory
// keeps no order, so each page visits every entry, one shard's read lock at a
// time, and keeps only the limit smallest candidates: O(keys) time, O(limit)
// memory. ctx is checked between shards.
func (m *Memory) Scan(ctx context.Context, prefix, cursor string, limit int) ([]string, string, error) {
	if err := CheckScanPrefix(prefix); err != nil {
		return nil, "", err
	}
	limit = ScanLimit(limit)
	now := m.elapsed()
	// A max-heap of the smallest keys seen so far, one more than the page so
	// that a full heap tells whether a next page exists.
	smallest := make(keyMaxHeap, 0, limit+1)
	for i := range m.shards {
		if err := ctx.Err(); err != nil {
			return nil, "", err
		}
		s := &m.shards[i]
		s.mu.RLock()
		for k, e := range s.entries {
			if !strings.HasPrefix(k, prefix) || k <= cursor || expired(e, now) {
				continue
			}
			if len(smallest) <= limit {
				heap.Push(&smallest, k)
			} else if k < smallest[0] {
				smallest[0] = k
				heap.Fix(&smallest, 0)
			}
		}
		s.mu.RUnlock()
	}
	more := len(smallest) > limit
	if more {
		heap.Pop(&smallest) // the largest: it starts the next page
	}
	keys := make([]string, len(smallest))
	for i := len(keys) - 1; i >= 0; i-- {
		// A copy: the stored key lies inside its entry (newEntry), which a
		// caller holding the key would keep in memory, value and all, after
		// the entry leaves the store.
		keys[i] = strings.Clone(heap.Pop(&smallest).(string))
	}
	if !more {
		return keys, "", nil
	}
	return keys, keys[len(keys)-1], nil
}

// keyMaxHeap is a container/heap of strings, largest first.
type keyMaxHeap []string

func (h keyMaxHeap) Len() int           { return len(h) }
func (h keyMaxHeap) Less(i, j int) bool { return h[i] > h[j] }
func (h keyMaxHeap) Swap(i, j int)      { h[i], h[j] = h[j], h[i] }
func (h *keyMaxHeap) Push(x any)        { *h = append(*h, x.(string)) }
func (h *keyMaxHeap) Pop() any {
	old := *h
	x := old[len(old)-1]
	*h = old[:len(old)-1]
	return x
}
