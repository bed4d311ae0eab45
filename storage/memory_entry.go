package storage

import (
	"strings"
	"unsafe"
)

// entry is one stored value. Entries with a deadline also sit in an expiryHeap so
// Cleanup visits only what has expired; index tracks their heap slot so overwrite,
// Delete and Take can fix or remove them in O(log n).
type entry struct {
	key   string // shares its bytes with the map key
	value []byte
	// expires is the deadline as nanoseconds since the store's start, or
	// noExpiry. Reads check it here; the heap keeps its own copy so that
	// ordering the heap never has to load the entry.
	expires int64
	// index is the slot in the expiry heap, or -1 when not in it. A shard's
	// heap never nears 2³¹ slots: each entry costs well over 100 bytes.
	index int32
	// ns is the entry's namespace id in the store's namespaceTable (noNamespace,
	// or overflowNamespace when the table was full), so removing the entry
	// updates its namespace's count without parsing or hashing the key.
	ns uint8
}

// newEntry returns an entry for key with index -1, the key copied (a key
// sliced from a large buffer must not pin that buffer). A key of up to
// maxInlineKey bytes is copied into the entry's own allocation, so the map
// lookup that compares it and the read of the entry that follows touch the
// same memory: one cache miss instead of two on a store too large for the
// cache. The one object is never larger than the entry and a separate key
// copy together, each rounded up to its size class (TestNewEntryIsNoLarger).
func newEntry(key string) *entry {
	switch n := len(key); {
	case n <= 8:
		return newInlineEntry[[8]byte](key)
	case n <= 24:
		return newInlineEntry[[24]byte](key)
	case n <= 40:
		return newInlineEntry[[40]byte](key)
	case n <= 56:
		return newInlineEntry[[56]byte](key)
	case n <= 72:
		return newInlineEntry[[72]byte](key)
	case n <= 88:
		return newInlineEntry[[88]byte](key)
	case n <= 104:
		return newInlineEntry[[104]byte](key)
	case n <= 120:
		return newInlineEntry[[120]byte](key)
	case n <= maxInlineKey:
		return newInlineEntry[[maxInlineKey]byte](key)
	default:
		return &entry{key: strings.Clone(key), index: -1}
	}
}

// maxInlineKey is the longest key newEntry stores inside the entry; the
// proxy's longest (grantsub:<43>:<uuid>) is 89 bytes.
const maxInlineKey = 136

// inlineKeyEntry is an entry followed by room for its key's bytes. The array
// lengths newEntry picks make the whole a Go size class (entry is 56 bytes).
type inlineKeyEntry[K any] struct {
	entry
	keyBytes K
}

func newInlineEntry[K any](key string) *entry {
	x := new(inlineKeyEntry[K])
	if len(key) > 0 {
		b := unsafe.Slice((*byte)(unsafe.Pointer(&x.keyBytes)), unsafe.Sizeof(x.keyBytes))
		copy(b, key)
		// The bytes are never written again, as a string's must not be. The
		// entry's key and the map's key point into the object, which keeps it
		// alive as long as either is reachable.
		x.key = unsafe.String(&b[0], len(key))
	}
	x.index = -1
	return &x.entry
}
