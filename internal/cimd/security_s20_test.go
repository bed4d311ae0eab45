package cimd

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestSecurity_S20_CIMDFailureFetchedOnce: a failing client_id URL asked for many times at
// once and then one after another costs one outbound request per cache window; after the
// window it is fetched again. Fetch failures are kept 1 minute, invalid documents 5.
func TestSecurity_S20_CIMDFailureFetchedOnce(t *testing.T) {
	tests := []struct {
		name   string
		answer func(clientID string) http.HandlerFunc
		kind   error
		ttl    time.Duration
	}{
		{
			name:   "fetch failure (404)",
			answer: func(string) http.HandlerFunc { return notFound },
			kind:   ErrFetch,
			ttl:    time.Minute,
		},
		{
			name: "invalid document (client_id mismatch)",
			answer: func(string) http.HandlerFunc {
				return func(w http.ResponseWriter, _ *http.Request) {
					w.Header().Set("Content-Type", "application/json")
					_, _ = w.Write([]byte(`{"client_id":"https://other.example.com/c.json","redirect_uris":["http://127.0.0.1/cb"]}`))
				}
			},
			kind: ErrInvalidDocument,
			ttl:  5 * time.Minute,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ts := newTestServer(t)
			g := newGate(t)
			ts.mux.HandleFunc(docPath, g.wrap(tt.answer(ts.clientID())))
			clk := newTestClock()
			f := ts.fetcher(true)
			f.Now = clk.Now

			// Concurrently: the first caller's fetch is held at the server while the
			// others arrive; they share it instead of fetching (or being refused as busy).
			const n = 20
			urls := make([]string, n)
			for i := range urls {
				urls[i] = ts.clientID()
			}
			first := startFetches(f, urls[:1])
			require.Eventually(t, func() bool { return ts.requests.Load() == 1 }, 5*time.Second, time.Millisecond)
			rest := startFetches(f, urls[1:])
			time.Sleep(50 * time.Millisecond) // let the others reach the shared fetch
			g.open()
			errs := append(first.wait(), rest.wait()...)
			want := errs[0]
			require.ErrorIs(t, want, tt.kind)
			requireSafeErrorText(t, want)
			for _, err := range errs {
				require.ErrorIs(t, err, tt.kind)
				assert.NotErrorIs(t, err, ErrBusy)
				assert.Equal(t, want.Error(), err.Error())
			}
			assert.EqualValues(t, 1, ts.requests.Load(), "concurrent callers must share one fetch")

			// Sequentially, until just before the window ends: answered from the cache.
			for range n {
				_, err := f.Fetch(context.Background(), ts.clientID())
				require.ErrorIs(t, err, tt.kind)
				assert.Equal(t, want.Error(), err.Error())
				requireSafeErrorText(t, err)
			}
			clk.Advance(tt.ttl - time.Second)
			_, err := f.Fetch(context.Background(), ts.clientID())
			require.ErrorIs(t, err, tt.kind)
			assert.EqualValues(t, 1, ts.requests.Load(), "a remembered failure must not be fetched again")

			// After the window: fetched again, once.
			clk.Advance(time.Second)
			for range 3 {
				_, err = f.Fetch(context.Background(), ts.clientID())
				require.ErrorIs(t, err, tt.kind)
			}
			assert.EqualValues(t, 2, ts.requests.Load(), "an expired failure is fetched again, and remembered again")
		})
	}
}

// TestSecurity_S20_CIMDFetchCaps: with a slow server, many distinct client_ids never put more
// than 2 fetches in flight to one host name, whatever the port, or 8 in all; the rest are
// refused at once with ErrBusy.
func TestSecurity_S20_CIMDFetchCaps(t *testing.T) {
	tests := []struct {
		name         string
		hosts        int // distinct host names, all resolving to 127.0.0.1
		ports        int // servers, each on its own port
		urlsPerPort  int // per host name and port
		wantAdmitted int
	}{
		{name: "per host", hosts: 1, ports: 1, urlsPerPort: 6, wantAdmitted: 2},
		{name: "per host, any port", hosts: 1, ports: 3, urlsPerPort: 2, wantAdmitted: 2},
		{name: "global", hosts: 6, ports: 1, urlsPerPort: 3, wantAdmitted: 8},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			servers := make([]*testServer, tt.ports)
			for i := range servers {
				servers[i] = newTestServer(t)
			}
			g := newGate(t)
			// Every name resolves to 127.0.0.1; the httptest certificate covers *.example.com.
			resolver, _ := fakeDNS(t, netip.MustParseAddr("127.0.0.1"))
			var urls []string
			for _, ts := range servers {
				ts.mux.HandleFunc("/", g.wrap(notFound))
				for h := range tt.hosts {
					for i := range tt.urlsPerPort {
						name := fmt.Sprintf("h%d.example.com", h)
						if i%2 == 1 {
							name = strings.ToUpper(name) // host names are case-insensitive
						}
						urls = append(urls, hostURL(ts, name)+fmt.Sprint(i))
					}
				}
			}
			f := servers[0].fetcher(true) // every server has the same certificate
			f.Resolver = resolver

			run := startFetches(f, urls)
			wantBusy := len(urls) - tt.wantAdmitted
			require.Eventually(t, func() bool {
				inFlight, _, _ := g.counts()
				return int(run.finished.Load()) == wantBusy && inFlight == tt.wantAdmitted
			}, 5*time.Second, time.Millisecond, "the admitted fetches reach the server, the rest return at once")
			g.open()
			errs := run.wait()

			_, maxInFlight, maxPerHost := g.counts()
			assert.Equal(t, tt.wantAdmitted, maxInFlight, "fetches in flight at the servers")
			assert.LessOrEqual(t, maxPerHost, 2, "fetches in flight to one host name")
			assert.LessOrEqual(t, maxInFlight, 8)
			busy := 0
			for _, err := range errs {
				require.ErrorIs(t, err, ErrFetch)
				if errors.Is(err, ErrBusy) {
					busy++
					requireSafeErrorText(t, err)
				} else {
					assert.Contains(t, err.Error(), "HTTP status 404")
				}
			}
			assert.Equal(t, wantBusy, busy)
			var requests int32
			for _, ts := range servers {
				requests += ts.requests.Load()
			}
			assert.EqualValues(t, tt.wantAdmitted, requests)
		})
	}
}

// TestSecurity_S20_CIMDBusyRefusalNotCached: a client_id refused because the host's fetch
// slots were full is fetched as soon as a slot is free; the refusal says nothing about it.
func TestSecurity_S20_CIMDBusyRefusalNotCached(t *testing.T) {
	ts := newTestServer(t)
	g := newGate(t)
	ts.mux.HandleFunc("/slow/", g.wrap(notFound))
	clientID := ts.clientID()
	ts.serveJSON(docPath, docJSON(t, clientID, nil))
	f := ts.fetcher(true)

	slow := startFetches(f, []string{ts.URL + "/slow/a", ts.URL + "/slow/b"})
	require.Eventually(t, func() bool { inFlight, _, _ := g.counts(); return inFlight == 2 }, 5*time.Second, time.Millisecond)
	for range 3 {
		_, err := f.Fetch(context.Background(), clientID)
		require.ErrorIs(t, err, ErrBusy)
		require.ErrorIs(t, err, ErrFetch)
		requireSafeErrorText(t, err)
	}
	assert.Equal(t, 5*time.Second, f.RetryAfter(), "a busy slot frees within the fetch timeout")
	assert.Zero(t, f.failures.len(), "a busy refusal is not a failure of the client_id")

	g.open()
	for _, err := range slow.wait() {
		require.ErrorIs(t, err, ErrFetch)
		require.NotErrorIs(t, err, ErrBusy)
	}
	doc, err := f.Fetch(context.Background(), clientID)
	require.NoError(t, err, "once a slot is free the client_id is fetched")
	assert.Equal(t, clientID, doc.ClientID)
	assert.EqualValues(t, 3, ts.requests.Load())
}

// TestSecurity_S20_CIMDCallerCancelDoesNotFailOthers: a caller that gives up stops waiting at
// once, but the shared fetch goes on for the others, and the cancellation is not remembered.
func TestSecurity_S20_CIMDCallerCancelDoesNotFailOthers(t *testing.T) {
	ts := newTestServer(t)
	g := newGate(t)
	clientID := ts.clientID()
	ts.mux.HandleFunc(docPath, g.wrap(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(docJSON(t, clientID, nil)))
	}))
	f := ts.fetcher(true)

	ctx, cancel := context.WithCancel(context.Background())
	canceled := make(chan error, 1)
	go func() {
		_, err := f.Fetch(ctx, clientID)
		canceled <- err
	}()
	require.Eventually(t, func() bool { return ts.requests.Load() == 1 }, 5*time.Second, time.Millisecond)
	other := startFetches(f, []string{clientID})
	time.Sleep(20 * time.Millisecond) // let the other caller join the shared fetch
	cancel()
	err := <-canceled
	require.ErrorIs(t, err, ErrFetch)
	require.ErrorIs(t, err, context.Canceled)

	g.open()
	require.NoError(t, other.wait()[0], "the shared fetch must not be canceled by the caller that started it")
	assert.EqualValues(t, 1, ts.requests.Load())
	assert.Zero(t, f.failures.len())
}

// TestSecurity_S20_CIMDFailureCacheBounded: many distinct failing client_ids keep the cache
// at its entry bound, evicting the oldest, which is then fetched again.
func TestSecurity_S20_CIMDFailureCacheBounded(t *testing.T) {
	ts := newTestServer(t)
	ts.mux.HandleFunc(docPath, notFound)
	f := ts.fetcher(true)
	f.FailureCacheSize = 50

	_, err := f.Fetch(context.Background(), ts.clientID())
	require.ErrorIs(t, err, ErrFetch)
	_, err = f.Fetch(context.Background(), ts.clientID())
	require.ErrorIs(t, err, ErrFetch)
	require.EqualValues(t, 1, ts.requests.Load())

	// A closed port on loopback: each fetch fails at once with "connection refused".
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	closed := "https://" + l.Addr().String() + "/gone/"
	require.NoError(t, l.Close())
	for i := range 3 * f.FailureCacheSize {
		_, err := f.Fetch(context.Background(), fmt.Sprint(closed, i))
		require.ErrorIs(t, err, ErrFetch)
		require.LessOrEqual(t, f.failures.len(), f.FailureCacheSize)
	}
	assert.Equal(t, f.FailureCacheSize, f.failures.len())
	_, cached := f.failures.get(fmt.Sprint(closed, 3*f.FailureCacheSize-1), f.now())
	assert.True(t, cached, "the newest failure is kept")

	_, err = f.Fetch(context.Background(), ts.clientID())
	require.ErrorIs(t, err, ErrFetch)
	assert.EqualValues(t, 2, ts.requests.Load(), "the oldest failure was evicted, so it is fetched again")
}

// TestSecurity_S20_CIMDFailureCacheMemoryBounded: at the default bound of 10,000 entries,
// with client_ids of the longest accepted length, the cache stays at 10,000 entries and a
// few MiB: it keeps a hash of each URL and the safe error text, never the URL or a cause.
func TestSecurity_S20_CIMDFailureCacheMemoryBounded(t *testing.T) {
	f := &Fetcher{}
	f.init.Do(f.setup)
	now := time.Unix(1_700_000_000, 0)
	prefix := "https://app.example.com/"
	pad := strings.Repeat("p", maxURLLength-len(prefix)-8)
	cause := errors.New(strings.Repeat("c", 4096)) // a large cause is not kept

	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	for i := range 2 * defaultFailureCacheSize {
		clientID := fmt.Sprintf("%s%s%08d", prefix, pad, i)
		require.Len(t, clientID, maxURLLength)
		err := fetchFailed(cause, "client metadata document URL answered with HTTP status %d, not 200", 500)
		safe, ttl := f.cacheableFailure(err)
		require.NotNil(t, safe)
		f.failures.add(clientID, safe, now, ttl)
	}
	runtime.GC()
	runtime.ReadMemStats(&after)
	require.Equal(t, defaultFailureCacheSize, f.failures.len())

	grown := int64(after.HeapAlloc) - int64(before.HeapAlloc)
	t.Logf("failure cache: %d entries, heap +%d bytes (%d per entry)", f.failures.len(), grown, grown/int64(f.failures.len()))
	// Keeping the 2 KiB URLs would take over 20 MB, the 4 KiB causes over 40 MB.
	assert.Less(t, grown, int64(8<<20))
	cached, ok := f.failures.get(fmt.Sprintf("%s%s%08d", prefix, pad, 2*defaultFailureCacheSize-1), now)
	require.True(t, ok)
	assert.NotErrorIs(t, cached, cause)
	runtime.KeepAlive(f)
}
