package cimd

import (
	"context"
	"net"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// testClock is a settable clock for the failure cache.
type testClock struct {
	mu  sync.Mutex
	now time.Time
}

func newTestClock() *testClock { return &testClock{now: time.Unix(1_700_000_000, 0)} }

func (c *testClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *testClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

// gate holds every request it wraps until opened, and counts the requests in flight at the
// server, in total and per host name, with the highest counts seen.
type gate struct {
	release   chan struct{}
	closeOnce sync.Once

	mu          sync.Mutex
	inFlight    int
	maxInFlight int
	perHost     map[string]int
	maxPerHost  int
}

// newGate returns a closed-until-opened gate; it opens itself at cleanup, so register it
// after the server it guards (cleanups run last-in first-out) and the server can shut down.
func newGate(t *testing.T) *gate {
	g := &gate{release: make(chan struct{}), perHost: make(map[string]int)}
	t.Cleanup(g.open)
	return g
}

func (g *gate) open() { g.closeOnce.Do(func() { close(g.release) }) }

// wrap counts the request in flight, waits for the gate, then runs answer.
func (g *gate) wrap(answer http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		host, _, _ := net.SplitHostPort(strings.ToLower(r.Host))
		g.mu.Lock()
		g.inFlight++
		g.maxInFlight = max(g.maxInFlight, g.inFlight)
		g.perHost[host]++
		g.maxPerHost = max(g.maxPerHost, g.perHost[host])
		g.mu.Unlock()
		defer func() {
			g.mu.Lock()
			g.inFlight--
			g.perHost[host]--
			g.mu.Unlock()
		}()
		select {
		case <-g.release:
			answer(w, r)
		case <-r.Context().Done():
		}
	}
}

// counts returns the requests in flight now and the highest totals seen.
func (g *gate) counts() (inFlight, maxInFlight, maxPerHost int) {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.inFlight, g.maxInFlight, g.maxPerHost
}

// notFound answers 404, a fetch failure.
func notFound(w http.ResponseWriter, r *http.Request) { http.NotFound(w, r) }

// fetchRun is a set of concurrent fetches; finished counts those that have returned.
type fetchRun struct {
	wg       sync.WaitGroup
	errs     []error
	finished atomic.Int32
}

// startFetches fetches every URL concurrently.
func startFetches(f *Fetcher, urls []string) *fetchRun {
	run := &fetchRun{errs: make([]error, len(urls))}
	for i, u := range urls {
		run.wg.Go(func() {
			_, run.errs[i] = f.Fetch(context.Background(), u)
			run.finished.Add(1)
		})
	}
	return run
}

// wait returns the errors, in the order of the URLs, once every fetch has returned.
func (run *fetchRun) wait() []error {
	run.wg.Wait()
	return run.errs
}
