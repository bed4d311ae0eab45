package cimd

import (
	"container/list"
	"crypto/sha256"
	"errors"
	"sync"
	"time"
)

// Failure cache defaults, used when the Fetcher field is zero.
const (
	// defaultFailureCacheSize bounds the remembered failures. An entry holds a 32-byte
	// hash of the URL and the package's own error text (under 100 bytes), never the URL
	// or the response, so 10,000 entries take a few MiB however long the URLs are.
	defaultFailureCacheSize = 10_000
	// defaultFetchFailureTTL: network errors, timeouts and bad statuses are often
	// transient (a deploy, a restart), so a client whose server recovers waits at most a
	// minute, while a client_id that keeps failing costs one outbound request a minute.
	defaultFetchFailureTTL = time.Minute
	// defaultInvalidDocumentTTL: a document that was fetched but breaks the rules stays
	// broken until its author fixes and redeploys it, which takes minutes anyway.
	defaultInvalidDocumentTTL = 5 * time.Minute
)

// failureCache remembers recent fetch failures by client_id URL, so a repeated or
// hostile stream of failing client_ids answers from memory instead of fetching again
// (SECURITY.md S20). It holds at most max entries; adding one more evicts the oldest.
// An entry is a SHA-256 of the URL, the expiry, and the error without its cause: the
// safe text and its sentinel, nothing fetched, so each entry is small and fixed in size.
type failureCache struct {
	mu      sync.Mutex
	max     int
	entries map[[sha256.Size]byte]*list.Element // of *failure
	order   *list.List                          // oldest first
}

type failure struct {
	key     [sha256.Size]byte
	err     error // a *cimdError without cause
	expires time.Time
}

func newFailureCache(maxEntries int) *failureCache {
	return &failureCache{max: maxEntries, entries: make(map[[sha256.Size]byte]*list.Element), order: list.New()}
}

// get returns the remembered failure for clientID, if one has not expired at now.
func (c *failureCache) get(clientID string, now time.Time) (error, bool) {
	key := sha256.Sum256([]byte(clientID))
	c.mu.Lock()
	defer c.mu.Unlock()
	el, ok := c.entries[key]
	if !ok {
		return nil, false
	}
	f := el.Value.(*failure)
	if !now.Before(f.expires) {
		c.order.Remove(el)
		delete(c.entries, key)
		return nil, false
	}
	return f.err, true
}

// add remembers err for clientID until now+ttl, evicting the oldest entries beyond max.
func (c *failureCache) add(clientID string, err error, now time.Time, ttl time.Duration) {
	key := sha256.Sum256([]byte(clientID))
	f := &failure{key: key, err: err, expires: now.Add(ttl)}
	c.mu.Lock()
	defer c.mu.Unlock()
	if el, ok := c.entries[key]; ok {
		c.order.Remove(el)
	}
	c.entries[key] = c.order.PushBack(f)
	for c.order.Len() > c.max {
		oldest := c.order.Front()
		c.order.Remove(oldest)
		delete(c.entries, oldest.Value.(*failure).key)
	}
}

// len reports how many failures are held, expired ones included until looked up or evicted.
func (c *failureCache) len() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.order.Len()
}

// cacheableFailure returns what to remember of a fetch error and for how long: the error
// without its cause (the cause may hold addresses or remote data and is only for the first
// caller's logs), or nil for a refusal because too many fetches are running (ErrBusy),
// which says nothing about the URL. (A shared fetch is never canceled by its callers, so a
// cancellation cannot reach here.)
func (f *Fetcher) cacheableFailure(err error) (safe *cimdError, ttl time.Duration) {
	var ce *cimdError
	if !errors.As(err, &ce) || errors.Is(err, ErrBusy) {
		return nil, 0
	}
	safe = &cimdError{kind: ce.kind, msg: ce.msg}
	if ce.kind == ErrInvalidDocument {
		return safe, durationOr(f.InvalidDocumentTTL, defaultInvalidDocumentTTL)
	}
	return safe, durationOr(f.FetchFailureTTL, defaultFetchFailureTTL)
}

func durationOr(d, def time.Duration) time.Duration {
	if d > 0 {
		return d
	}
	return def
}
