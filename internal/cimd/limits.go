package cimd

import (
	"sync"
	"time"
)

// Fetch bound defaults, used when the Fetcher field is zero.
const (
	// defaultMaxConcurrentFetches caps fetches in flight at once, all hosts together.
	defaultMaxConcurrentFetches = 8
	// defaultMaxFetchesPerHost caps fetches in flight to one host name, so one slow or
	// hostile host cannot take every slot.
	defaultMaxFetchesPerHost = 2
)

// errBusy is returned, and never cached, when a fetch slot is not free at once.
var errBusy = fetchFailed(ErrBusy, "too many client metadata documents are being fetched, try again shortly")

// fetchLimits counts fetches in flight, in total and per host name. A full limit refuses
// at once rather than queueing: a fetch can hold its slot for the whole fetch timeout, and
// a queue of callers waiting behind hostile URLs would be a new unbounded resource. The
// per-host map holds only hosts with a fetch in flight, so it is bounded by maxTotal.
type fetchLimits struct {
	mu         sync.Mutex
	maxTotal   int
	maxPerHost int
	total      int
	perHost    map[string]int
}

func newFetchLimits(maxTotal, maxPerHost int) *fetchLimits {
	return &fetchLimits{maxTotal: maxTotal, maxPerHost: maxPerHost, perHost: make(map[string]int)}
}

// acquire takes a slot for host, or reports false when the total or the host's limit is
// reached. The caller must call release once after a true result.
func (l *fetchLimits) acquire(host string) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.total >= l.maxTotal || l.perHost[host] >= l.maxPerHost {
		return false
	}
	l.total++
	l.perHost[host]++
	return true
}

func (l *fetchLimits) release(host string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.total--
	if l.perHost[host]--; l.perHost[host] <= 0 {
		delete(l.perHost, host)
	}
}

// RetryAfter is how long a caller refused with ErrBusy should wait before trying again:
// the fetch timeout, the longest any fetch holds its slot.
func (f *Fetcher) RetryAfter() time.Duration {
	if f == nil {
		return defaultTimeout
	}
	return durationOr(f.Timeout, defaultTimeout)
}
