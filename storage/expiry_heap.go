package storage

import "container/heap"

// entry is one stored value. Entries with a deadline also sit in an expiryHeap so
// Cleanup visits only what has expired; index tracks their heap slot so overwrite,
// Delete and Take can fix or remove them in O(log n).
type entry struct {
	key   string // shares its bytes with the map key
	value []byte
	// expires is the deadline as nanoseconds since the store's start, or noExpiry.
	expires int64
	// index is the slot in the expiry heap, or -1 when not in it.
	index int
}

// minHeapCap is the capacity below which a heap never shrinks. Each of the
// store's shards has its own heap, so this is kept small.
const minHeapCap = 64

// expiryHeap is a min-heap of entries ordered by deadline (container/heap).
type expiryHeap []*entry

var _ heap.Interface = (*expiryHeap)(nil)

func (h expiryHeap) Len() int           { return len(h) }
func (h expiryHeap) Less(i, j int) bool { return h[i].expires < h[j].expires }

func (h expiryHeap) Swap(i, j int) {
	h[i], h[j] = h[j], h[i]
	h[i].index = i
	h[j].index = j
}

func (h *expiryHeap) Push(x any) {
	e := x.(*entry)
	e.index = len(*h)
	*h = append(*h, e)
}

func (h *expiryHeap) Pop() any {
	old := *h
	n := len(old) - 1
	e := old[n]
	old[n] = nil // let the entry be collected
	e.index = -1
	*h = old[:n]
	if c := cap(old); c > minHeapCap && n < c/4 {
		// Give back the memory of a past spike; halving keeps Push amortized O(1).
		*h = append(make(expiryHeap, 0, c/2), old[:n]...)
	}
	return e
}
