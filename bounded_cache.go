package oauthproxy

import "sync"

// boundedCache is a map that starts over when it is full: for caches whose
// keys anonymous requests can choose (redirect URIs, client records), so they
// never hold more than max entries, and whose entries are only a shortcut to
// an answer that can always be worked out again.
type boundedCache[V any] struct {
	mu  sync.RWMutex
	m   map[string]V
	max int
}

func (c *boundedCache[V]) get(key string) (V, bool) {
	c.mu.RLock()
	v, ok := c.m[key]
	c.mu.RUnlock()
	return v, ok
}

// getBytes is get for a key held as bytes, without converting it to a string
// (the compiler looks it up in place).
func (c *boundedCache[V]) getBytes(key []byte) (V, bool) {
	c.mu.RLock()
	v, ok := c.m[string(key)]
	c.mu.RUnlock()
	return v, ok
}

func (c *boundedCache[V]) put(key string, v V) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.m == nil || len(c.m) >= c.max {
		c.m = make(map[string]V, c.max/4)
	}
	c.m[key] = v
}

// len is the number of entries held.
func (c *boundedCache[V]) len() int {
	c.mu.RLock()
	defer c.mu.RUnlock()
	return len(c.m)
}
