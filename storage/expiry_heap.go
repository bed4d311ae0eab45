package storage

// minHeapCap is the capacity below which a heap never shrinks. Each of the
// store's shards has its own heap, so this is kept small.
const minHeapCap = 64

// heapArity is how many children each heap slot has. Four halves the depth of
// a binary heap, so a deadline that sinks to the bottom (an overwrite with a
// fresh ttl, or the last slot moved into a removed one) rewrites the index of
// half as many entries, for comparisons that read the heap's own contiguous
// slots. On BenchmarkMemoryFlow 2, 4 and 8 measured the same within noise.
const heapArity = 4

// expirySlot is one place in an expiryHeap: the entry's deadline is kept
// beside the pointer so comparisons read only the heap's own memory. An
// entry, wherever it lies on the heap, is touched only to record its new
// index when it moves.
type expirySlot struct {
	expires int64
	e       *entry
}

// expiryHeap is a min-heap of entries ordered by deadline, with heapArity
// children per slot: the children of slot i are heapArity*i+1 … heapArity*i+heapArity.
type expiryHeap []expirySlot

// push adds e, whose expires is set and whose index is -1.
func (h *expiryHeap) push(e *entry) {
	*h = append(*h, expirySlot{expires: e.expires, e: e})
	h.up(len(*h) - 1)
}

// remove takes the entry at slot i out of the heap, sets its index to -1 and
// returns it.
func (h *expiryHeap) remove(i int) *entry {
	old := *h
	n := len(old) - 1
	e := old[i].e
	if i != n {
		old[i] = old[n]
	}
	old[n] = expirySlot{} // let the entry be collected
	*h = old[:n]
	if i != n {
		h.fix(i)
	}
	e.index = -1
	if c := cap(old); c > minHeapCap && n < c/4 {
		// Give back the memory of a past spike; halving keeps push amortized O(1).
		*h = append(make(expiryHeap, 0, c/2), old[:n]...)
	}
	return e
}

// setDeadline gives the entry at slot i the deadline expires (already stored
// in the entry) and restores the heap order.
func (h expiryHeap) setDeadline(i int, expires int64) {
	h[i].expires = expires
	h.fix(i)
}

// fix moves the slot at i up or down to where its deadline belongs.
func (h expiryHeap) fix(i int) {
	if !h.down(i) {
		h.up(i)
	}
}

// up moves the slot at i toward the root while its parent expires later,
// recording the new index of each entry it moves. Equal deadlines stay put,
// so a push with the latest deadline costs one comparison.
func (h expiryHeap) up(i int) {
	s := h[i]
	for i > 0 {
		p := (i - 1) / heapArity
		if h[p].expires <= s.expires {
			break
		}
		h.place(i, h[p])
		i = p
	}
	h.place(i, s)
}

// down moves the slot at i toward the leaves while a child expires earlier,
// recording the new index of each entry it moves, and reports whether it moved.
func (h expiryHeap) down(i int) bool {
	n := len(h)
	s := h[i]
	start := i
	for {
		first := heapArity*i + 1
		if first >= n || first < 0 { // first < 0: int overflow
			break
		}
		c := first
		for k := first + 1; k < min(first+heapArity, n); k++ {
			if h[k].expires < h[c].expires {
				c = k
			}
		}
		if h[c].expires >= s.expires {
			break
		}
		h.place(i, h[c])
		i = c
	}
	h.place(i, s)
	return i > start
}

// place puts s at slot i and records i in its entry.
func (h expiryHeap) place(i int, s expirySlot) {
	h[i] = s
	s.e.index = int32(i)
}
