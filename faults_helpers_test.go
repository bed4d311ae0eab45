package oauthproxy_test

// Helpers for the fault injection tests (faults_*_test.go): a storage that
// fails chosen calls, a relay in front of the fake upstream's token endpoint
// that can stop listening, an HTTP transport that counts what the proxy read,
// and checks of the errors a client sees.

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"log"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/oauthproxy-go/oauthproxy/storage"
	"github.com/stretchr/testify/require"
)

// ---------------------------------------------------------------------------
// A failing storage

// Storage calls a faultStore can fail.
const (
	opSave   = "Save"
	opGet    = "Get"
	opTake   = "Take"
	opDelete = "Delete"
)

// errInjected is what a failed call returns: neither storage.ErrNotFound nor
// storage.ErrCorrupt, like a backend that cannot be reached.
var errInjected = errors.New("faults: injected storage failure")

// faultRule fails calls of one kind (op; "" for any) whose key starts with
// prefix: the next skip matching calls go through, then times of them fail
// (times < 0: every one until the rule is cleared).
type faultRule struct {
	op, prefix string
	skip       int
	times      int
}

// faultStore is a storage.TokenStorage over storage.NewMemory() that fails
// the calls its rule selects, and lists the keys the memory store holds, so a
// test can tell what a failed request left behind. It sits under the proxy's
// encryption wrapper: keys are the proxy's own, values are sealed.
type faultStore struct {
	mem *storage.Memory

	mu    sync.Mutex
	rule  *faultRule
	fired int                 // calls failed since the rule was set
	saved map[string]struct{} // every key ever saved, to list the live ones
}

var _ storage.TokenStorage = (*faultStore)(nil)

func newFaultStore() *faultStore {
	return &faultStore{mem: storage.NewMemory(), saved: make(map[string]struct{})}
}

// failNth fails only the nth (from 1) call of kind op on a key with prefix,
// counting from now.
func (s *faultStore) failNth(op, prefix string, n int) {
	s.setRule(&faultRule{op: op, prefix: prefix, skip: n - 1, times: 1})
}

// failAfter lets n more calls of any kind through, then fails every call
// until clear: storage going down partway through a request.
func (s *faultStore) failAfter(n int) {
	s.setRule(&faultRule{skip: n, times: -1})
}

// failAll fails every call of kind op on a key with prefix until clear.
func (s *faultStore) failAll(op, prefix string) {
	s.setRule(&faultRule{op: op, prefix: prefix, times: -1})
}

func (s *faultStore) setRule(r *faultRule) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.rule, s.fired = r, 0
}

// clear removes the rule and reports how many calls it failed.
func (s *faultStore) clear() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	fired := s.fired
	s.rule, s.fired = nil, 0
	return fired
}

// fail reports whether this call is one the rule fails.
func (s *faultStore) fail(op, key string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	r := s.rule
	if r == nil || r.times == 0 || (r.op != "" && r.op != op) || !strings.HasPrefix(key, r.prefix) {
		return false
	}
	if r.skip > 0 {
		r.skip--
		return false
	}
	if r.times > 0 {
		r.times--
	}
	s.fired++
	return true
}

func (s *faultStore) Save(ctx context.Context, key string, value []byte, ttl time.Duration) error {
	if s.fail(opSave, key) {
		return errInjected
	}
	s.mu.Lock()
	s.saved[key] = struct{}{}
	s.mu.Unlock()
	return s.mem.Save(ctx, key, value, ttl)
}

func (s *faultStore) Get(ctx context.Context, key string) ([]byte, error) {
	if s.fail(opGet, key) {
		return nil, errInjected
	}
	return s.mem.Get(ctx, key)
}

func (s *faultStore) Take(ctx context.Context, key string) ([]byte, error) {
	if s.fail(opTake, key) {
		return nil, errInjected
	}
	return s.mem.Take(ctx, key)
}

func (s *faultStore) Delete(ctx context.Context, key string) error {
	if s.fail(opDelete, key) {
		return errInjected
	}
	return s.mem.Delete(ctx, key)
}

func (s *faultStore) Cleanup(ctx context.Context) error { return s.mem.Cleanup(ctx) }

// keys lists the live keys with prefix in the memory store, bypassing the rule.
func (s *faultStore) keys(prefix string) []string {
	s.mu.Lock()
	candidates := make([]string, 0, len(s.saved))
	for k := range s.saved {
		if strings.HasPrefix(k, prefix) {
			candidates = append(candidates, k)
		}
	}
	s.mu.Unlock()
	var live []string
	for _, k := range candidates {
		if _, err := s.mem.Get(context.Background(), k); err == nil {
			live = append(live, k)
		}
	}
	slices.Sort(live)
	return live
}

// faultNamespaces are the key prefixes the proxy uses in swap mode.
var faultNamespaces = []string{
	"client:", "txn:", "code:", "grant:", "refresh:", "usedcode:", "rotated:", "revoked:",
}

// census counts the live keys of every namespace.
func (s *faultStore) census() map[string]int {
	out := make(map[string]int, len(faultNamespaces))
	for _, ns := range faultNamespaces {
		out[ns] = len(s.keys(ns))
	}
	return out
}

// requireCensus checks the live keys per namespace: want lists the namespaces
// whose count changed from before; every other one must be as it was.
func requireCensus(t *testing.T, s *faultStore, before map[string]int, want map[string]int, msgAndArgs ...any) {
	t.Helper()
	expected := make(map[string]int, len(before))
	for ns, n := range before {
		expected[ns] = n
	}
	for ns, n := range want {
		expected[ns] = n
	}
	require.Equal(t, expected, s.census(), msgAndArgs...)
}

// requireConsistent checks that every stored code and refresh token points
// at a grant that is stored or revoked: nothing references state a failed
// request did not write. The values must be readable, so the proxy runs with
// DisableEncryption.
func requireConsistent(t *testing.T, s *faultStore, msgAndArgs ...any) {
	t.Helper()
	ctx := context.Background()
	for _, ns := range []string{"code:", "refresh:"} {
		for _, key := range s.keys(ns) {
			b, err := s.mem.Get(ctx, key)
			if errors.Is(err, storage.ErrNotFound) {
				continue // expired or taken since it was listed
			}
			require.NoError(t, err)
			var rec struct {
				GrantID string `json:"grant_id"`
			}
			require.NoError(t, json.Unmarshal(b, &rec), "%s holds a JSON record (DisableEncryption)", key)
			if rec.GrantID == "" {
				continue // a ForwardPKCE code: its grant is made at /token
			}
			_, grantErr := s.mem.Get(ctx, "grant:"+rec.GrantID)
			_, revokedErr := s.mem.Get(ctx, "revoked:"+rec.GrantID)
			require.True(t, grantErr == nil || revokedErr == nil,
				"%s points at grant %s, which is neither stored nor revoked %v", key, rec.GrantID, msgAndArgs)
		}
	}
}

// withFaultStore makes the proxy keep its state in s.
func withFaultStore(s *faultStore) envOption {
	return withSecStore(s)
}

// ---------------------------------------------------------------------------
// A relay in front of the upstream token endpoint

// upstreamRelay forwards requests from a fixed loopback port to the fake
// upstream. down stops listening, so the proxy's connections are refused;
// up listens on the same port again.
type upstreamRelay struct {
	t         *testing.T
	addr      string
	transport *http.Transport

	mu     sync.Mutex
	target *url.URL
	srv    *http.Server
	served chan struct{} // closed when srv.Serve returns
}

// newUpstreamRelay listens on a free loopback port; setTarget names where to
// forward. It is closed when the test ends.
func newUpstreamRelay(t *testing.T) *upstreamRelay {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	r := &upstreamRelay{t: t, addr: ln.Addr().String(), transport: &http.Transport{}}
	r.serve(ln)
	t.Cleanup(func() {
		r.down()
		r.transport.CloseIdleConnections()
	})
	return r
}

// URL is the relay's base URL.
func (r *upstreamRelay) URL() string { return "http://" + r.addr }

func (r *upstreamRelay) setTarget(base string) {
	u, err := url.Parse(base)
	require.NoError(r.t, err)
	r.mu.Lock()
	defer r.mu.Unlock()
	r.target = u
}

func (r *upstreamRelay) serve(ln net.Listener) {
	proxy := &httputil.ReverseProxy{
		Rewrite: func(pr *httputil.ProxyRequest) {
			r.mu.Lock()
			target := r.target
			r.mu.Unlock()
			pr.SetURL(target)
		},
		Transport: r.transport,
		// A proxy that hangs up mid-body (the 10 MiB case) is expected.
		ErrorLog: log.New(io.Discard, "", 0),
	}
	srv := &http.Server{Handler: proxy, ReadHeaderTimeout: 5 * time.Second}
	served := make(chan struct{})
	go func() {
		defer close(served)
		_ = srv.Serve(ln) // ErrServerClosed after down
	}()
	r.mu.Lock()
	r.srv, r.served = srv, served
	r.mu.Unlock()
}

// down closes the listener and every connection: nothing listens on the port.
func (r *upstreamRelay) down() {
	r.mu.Lock()
	srv, served := r.srv, r.served
	r.srv, r.served = nil, nil
	r.mu.Unlock()
	if srv == nil {
		return
	}
	_ = srv.Close()
	<-served
}

// up listens on the relay's port again. Another process could take the port
// in between; that is unlikely enough on loopback to fail the test outright.
func (r *upstreamRelay) up() {
	r.t.Helper()
	var ln net.Listener
	var err error
	for range 20 {
		if ln, err = net.Listen("tcp", r.addr); err == nil {
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	require.NoError(r.t, err, "listen on the relay's port %s again", r.addr)
	r.serve(ln)
}

// ---------------------------------------------------------------------------
// An HTTP transport that counts what the proxy read

// readCounter is the proxy's upstream transport; it counts the bytes the
// proxy read from each response body.
type readCounter struct {
	next *http.Transport
	mu   sync.Mutex
	max  int64 // most bytes read from one body since reset
}

func newReadCounter(t *testing.T) *readCounter {
	c := &readCounter{next: &http.Transport{}}
	t.Cleanup(c.next.CloseIdleConnections)
	return c
}

func (c *readCounter) RoundTrip(req *http.Request) (*http.Response, error) {
	resp, err := c.next.RoundTrip(req)
	if err != nil {
		return nil, err
	}
	resp.Body = &countingBody{ReadCloser: resp.Body, c: c}
	return resp, nil
}

func (c *readCounter) reset() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.max = 0
}

// maxRead is the most bytes the proxy read from one response since reset.
func (c *readCounter) maxRead() int64 {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.max
}

type countingBody struct {
	io.ReadCloser
	c *readCounter
	n int64
}

func (b *countingBody) Read(p []byte) (int, error) {
	n, err := b.ReadCloser.Read(p)
	b.n += int64(n)
	b.c.mu.Lock()
	b.c.max = max(b.c.max, b.n)
	b.c.mu.Unlock()
	return n, err
}

// ---------------------------------------------------------------------------
// What the client sees

// onSubtest points a shared env's assertions at the running subtest (they
// must not fail the parent from the subtest's goroutine). Subtests that
// share an env run one at a time.
func (e *env) onSubtest(t *testing.T) {
	parent := e.t
	e.t = t
	t.Cleanup(func() { e.t = parent })
}

// requireTokenError checks an RFC 6749 §5.2 error response: the status, a
// JSON body with the code, and no caching (RFC 6749 §5.1).
func requireTokenError(t *testing.T, res tokenResult, status int, code string, msgAndArgs ...any) {
	t.Helper()
	require.Equal(t, status, res.Status, "%v %v", res.Body, msgAndArgs)
	require.Equal(t, code, res.str("error"), "%v %v", res.Body, msgAndArgs)
	require.Contains(t, res.Header.Get("Content-Type"), "application/json")
	require.Equal(t, "no-store", res.Header.Get("Cache-Control"))
	require.Empty(t, res.str("access_token"))
	require.Empty(t, res.str("refresh_token"))
}

// requireErrorRedirect checks an authorization error response (RFC 6749
// §4.1.2.1): the client's redirect URI with error, state and iss (RFC 9207),
// and no code.
func requireErrorRedirect(t *testing.T, e *env, h secHop, code string) {
	t.Helper()
	q := secClientRedirect(t, h, clientRedirect)
	require.Equal(t, code, q.Get("error"), "%v", q)
	require.Equal(t, "client-state-123", q.Get("state"))
	require.Equal(t, e.srv.URL, q.Get("iss"))
	require.Empty(t, q.Get("code"))
}

// tokenRequest posts form to /oauth/token as c, never calling t.FailNow, so
// goroutines may use it.
func tokenRequest(srvURL string, c registered, form url.Values) (tokenResult, error) {
	form, id, secret := secAuthForm(c, form)
	return secToken(srvURL, form, id, secret)
}
