package oauthproxy_test

// Fault injection at the upstream token endpoint (issue 8, item 1): each fault
// at each place the proxy calls it — the code exchange at the callback, the
// upstream refresh behind a refresh_token grant, and ForwardPKCE's exchange at
// /token — gives the client a clear OAuth error, leaves nothing half-written
// in storage, and the same client succeeds once the fault is gone.

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/oauthproxy-go/oauthproxy"
	"github.com/oauthproxy-go/oauthproxy/internal/pkce"
	"github.com/oauthproxy-go/oauthproxy/oauthproxytest"
	"github.com/stretchr/testify/require"
)

// upstreamTimeout is the proxy's HTTP client timeout in these tests: short,
// so a hanging upstream costs little, and long enough for a real exchange
// under the race detector on a busy machine.
const upstreamTimeout = 1500 * time.Millisecond

// maxUpstreamBody is the cap on a token response the proxy reads (S14).
const maxUpstreamBody = 1 << 20

// upstreamRig is a proxy whose upstream token endpoint is reached through a
// relay (so it can refuse connections), with a transport that counts what the
// proxy reads, and a storage whose keys the test can list.
type upstreamRig struct {
	*env
	relay  *upstreamRelay
	reads  *readCounter
	store  *faultStore
	client registered
}

func newUpstreamRig(t *testing.T, opts ...envOption) *upstreamRig {
	t.Helper()
	r := &upstreamRig{relay: newUpstreamRelay(t), reads: newReadCounter(t), store: newFaultStore()}
	opts = append([]envOption{withFaultStore(r.store), withConfig(func(c *oauthproxy.Config) {
		c.UpstreamTokenEndpoint = r.relay.URL() + "/token"
		c.HTTPClient = &http.Client{Transport: r.reads, Timeout: upstreamTimeout}
	})}, opts...)
	r.env = newEnv(t, opts...)
	r.relay.setTarget(r.idp.URL())
	r.client = r.register("client_secret_basic")
	return r
}

// upstreamFault is one way the upstream token endpoint misbehaves. inject
// arms it for the next token request; clear, if set, ends it (the others
// affect one request only). The client must get code with status at /token,
// and code at the callback.
type upstreamFault struct {
	name   string
	inject func(r *upstreamRig)
	clear  func(r *upstreamRig)
	status int
	code   string
	// check, if set, runs after the failed request.
	check func(t *testing.T, r *upstreamRig, took time.Duration)
}

func upstreamFaults() []upstreamFault {
	failNext := func(status int, body, contentType string) func(*upstreamRig) {
		return func(r *upstreamRig) { r.idp.FailNext(status, body, contentType) }
	}
	huge := `{"access_token":"` + strings.Repeat("a", 10<<20) + `","token_type":"Bearer"}`
	return []upstreamFault{
		{
			name:   "connection refused",
			inject: func(r *upstreamRig) { r.relay.down() },
			clear:  func(r *upstreamRig) { r.relay.up() },
			status: http.StatusServiceUnavailable, code: "temporarily_unavailable",
		},
		{
			name:   "hangs past the timeout",
			inject: func(r *upstreamRig) { r.idp.HangNext(nil) },
			status: http.StatusServiceUnavailable, code: "temporarily_unavailable",
			check: func(t *testing.T, _ *upstreamRig, took time.Duration) {
				require.GreaterOrEqual(t, took, upstreamTimeout, "the proxy waited for its HTTP client's timeout")
			},
		},
		{
			name:   "HTTP 500",
			inject: failNext(http.StatusInternalServerError, "<html><body>Internal Server Error</body></html>", "text/html"),
			status: http.StatusInternalServerError, code: "server_error",
		},
		{
			name:   "HTTP 502",
			inject: failNext(http.StatusBadGateway, "Bad Gateway", "text/plain"),
			status: http.StatusServiceUnavailable, code: "temporarily_unavailable",
		},
		{
			name:   "HTTP 503",
			inject: failNext(http.StatusServiceUnavailable, "Service Unavailable", "text/plain"),
			status: http.StatusServiceUnavailable, code: "temporarily_unavailable",
		},
		{
			name:   "malformed JSON",
			inject: failNext(http.StatusOK, `{"access_token":"at-1","token_type":"Bearer",`, "application/json"),
			status: http.StatusInternalServerError, code: "server_error",
		},
		{
			name:   "10 MiB response",
			inject: failNext(http.StatusOK, huge, "application/json"),
			status: http.StatusInternalServerError, code: "server_error",
			check: func(t *testing.T, r *upstreamRig, _ time.Duration) {
				// The proxy stops reading at the cap: its memory stays bounded
				// whatever the upstream sends.
				read := r.reads.maxRead()
				require.Positive(t, read, "the counting transport saw the body")
				require.LessOrEqual(t, read, int64(maxUpstreamBody+1), "bytes read of a 10 MiB body")
			},
		},
		{
			name:   "wrong content type",
			inject: failNext(http.StatusOK, "<!doctype html><html><body>Sign in to continue</body></html>", "text/html"),
			status: http.StatusInternalServerError, code: "server_error",
		},
		{
			name:   "token response without access_token",
			inject: failNext(http.StatusOK, `{"token_type":"Bearer","expires_in":3600,"refresh_token":"upstream-rt"}`, "application/json"),
			status: http.StatusInternalServerError, code: "server_error",
		},
	}
}

// runFault injects f, runs the failing request and clears f.
func (r *upstreamRig) runFault(t *testing.T, f upstreamFault, request func()) {
	t.Helper()
	r.reads.reset()
	f.inject(r)
	start := time.Now()
	request()
	took := time.Since(start)
	if f.clear != nil {
		f.clear(r)
	}
	if f.check != nil {
		f.check(t, r, took)
	}
}

// TestFaults_Upstream_CodeExchangeAtCallback: the upstream fails while the
// callback redeems its code. The client gets an error redirect with state
// and iss; the transaction is spent, no grant and no code are stored; a fresh
// login of the same client then succeeds.
func TestFaults_Upstream_CodeExchangeAtCallback(t *testing.T) {
	t.Parallel()
	r := newUpstreamRig(t)
	for _, f := range upstreamFaults() {
		t.Run(f.name, func(t *testing.T) {
			r.onSubtest(t)
			b := newSecBrowser(t)
			callback := r.secCallbackURL(b, authorizeParams(r.client, pkce.Challenge(pkce.GenerateVerifier())))
			before := r.store.census()
			exchanges := r.idp.Stats().CodeExchanges

			r.runFault(t, f, func() {
				requireErrorRedirect(t, r.env, b.get(callback), f.code)
			})
			requireCensus(t, r.store, before, map[string]int{"txn:": before["txn:"] - 1},
				"the transaction is used up; no grant, code or token was written")
			require.Equal(t, exchanges, r.idp.Stats().CodeExchanges)

			code, verifier := r.code(r.client)
			tok := r.exchange(r.client, code, verifier)
			require.Equal(t, http.StatusOK, tok.Status, "%v", tok.Body)
			resp, _ := r.callMCP(tok.str("access_token"))
			require.Equal(t, http.StatusOK, resp.StatusCode)
		})
	}
}

// TestFaults_Upstream_RefreshOfExpiredUpstreamToken: the upstream access
// token is always inside the proxy's one-minute refresh leeway (the fake
// upstream issues 30-second tokens on a clock that does not move), so every
// refresh_token grant refreshes upstream. When that fails the client gets a
// clear error and keeps its refresh token: it is restored, nothing rotated,
// the grant untouched, and the same refresh token works once the fault is
// gone.
func TestFaults_Upstream_RefreshOfExpiredUpstreamToken(t *testing.T) {
	t.Parallel()
	clock := newStepClock()
	r := newUpstreamRig(t,
		withConfig(func(c *oauthproxy.Config) { c.Now = clock.Now }),
		withIdP(func(o *oauthproxytest.Options) { o.Now, o.AccessTokenTTL = clock.Now, 30*time.Second }))
	code, verifier := r.code(r.client)
	tok := r.exchange(r.client, code, verifier)
	require.Equal(t, http.StatusOK, tok.Status, "%v", tok.Body)
	rt := tok.str("refresh_token")

	for _, f := range upstreamFaults() {
		t.Run(f.name, func(t *testing.T) {
			r.onSubtest(t)
			before := r.store.census()
			refreshes := r.idp.Stats().Refreshes

			r.runFault(t, f, func() {
				requireTokenError(t, r.refresh(r.client, rt), f.status, f.code)
			})
			requireCensus(t, r.store, before, nil, "the refresh token is restored; nothing rotated or issued")
			require.Equal(t, refreshes, r.idp.Stats().Refreshes)

			ok := r.refresh(r.client, rt)
			require.Equal(t, http.StatusOK, ok.Status, "the same refresh token works after the fault: %v", ok.Body)
			require.Equal(t, refreshes+1, r.idp.Stats().Refreshes, "this time the upstream refreshed")
			resp, _ := r.callMCP(ok.str("access_token"))
			require.Equal(t, http.StatusOK, resp.StatusCode)
			rt = ok.str("refresh_token")
		})
	}
}

// TestFaults_Upstream_ForwardPKCEExchangeAtToken: with ForwardPKCE the
// upstream code is redeemed at /token with the client's verifier. When that
// fails the client gets a clear error, its code is put back (the upstream
// never redeemed the upstream code), no grant or token is stored, and the
// same code then succeeds.
func TestFaults_Upstream_ForwardPKCEExchangeAtToken(t *testing.T) {
	t.Parallel()
	r := newUpstreamRig(t, withConfig(func(c *oauthproxy.Config) { c.ForwardPKCE = true }))
	for _, f := range upstreamFaults() {
		t.Run(f.name, func(t *testing.T) {
			r.onSubtest(t)
			code, verifier := r.code(r.client)
			before := r.store.census()
			exchanges := r.idp.Stats().CodeExchanges

			r.runFault(t, f, func() {
				requireTokenError(t, r.exchange(r.client, code, verifier), f.status, f.code)
			})
			requireCensus(t, r.store, before, nil, "the code is restored; no grant or token was written")
			require.Equal(t, exchanges, r.idp.Stats().CodeExchanges)

			tok := r.exchange(r.client, code, verifier)
			require.Equal(t, http.StatusOK, tok.Status, "the same code works after the fault: %v", tok.Body)
			resp, _ := r.callMCP(tok.str("access_token"))
			require.Equal(t, http.StatusOK, resp.StatusCode)
			ref := r.refresh(r.client, tok.str("refresh_token"))
			require.Equal(t, http.StatusOK, ref.Status, "%v", ref.Body)
		})
	}
}
