package oauthproxy_test

// S20: rate limits per endpoint class and client address, and the client
// address itself (forwarded headers believed only from TrustedProxies).

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/oauthproxy-go/oauthproxy"
	"github.com/oauthproxy-go/oauthproxy/internal/pkce"
	"github.com/oauthproxy-go/oauthproxy/ratelimit"
	redislimit "github.com/oauthproxy-go/oauthproxy/ratelimit/redis"
	"github.com/oauthproxy-go/oauthproxy/storage"
	"github.com/oauthproxy-go/oauthproxy/storage/redis/redistest"
)

// Both limiters are RateLimiters.
var (
	_ oauthproxy.RateLimiter = (*ratelimit.Memory)(nil)
	_ oauthproxy.RateLimiter = (*redislimit.Limiter)(nil)
)

// withRateLimits sets Config.RateLimits.
func withRateLimits(l oauthproxy.RateLimits) envOption {
	return withConfig(func(c *oauthproxy.Config) { c.RateLimits = l })
}

// rlResponse is one raw HTTP answer.
type rlResponse struct {
	Status int
	Header http.Header
	Body   string
}

// rlRequest describes a request the test sends from a chosen loopback address.
type rlRequest struct {
	from   string // local address to connect from; default 127.0.0.1
	method string
	path   string
	body   string
	ctype  string
	header map[string]string
}

// send makes req against base from req.from, over a fresh connection.
func (req rlRequest) send(t *testing.T, base string) rlResponse {
	t.Helper()
	from := req.from
	if from == "" {
		from = "127.0.0.1"
	}
	dialer := &net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(from)}}
	hc := &http.Client{
		Transport:     &http.Transport{DialContext: dialer.DialContext, DisableKeepAlives: true},
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
	r, err := http.NewRequest(req.method, base+req.path, strings.NewReader(req.body))
	require.NoError(t, err)
	if req.ctype != "" {
		r.Header.Set("Content-Type", req.ctype)
	}
	for k, v := range req.header {
		r.Header.Set(k, v)
	}
	resp, err := hc.Do(r)
	require.NoError(t, err)
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return rlResponse{resp.StatusCode, resp.Header, string(body)}
}

// rlRegister is a valid registration request.
func rlRegister(from string, header map[string]string) rlRequest {
	return rlRequest{from: from, method: http.MethodPost, path: "/oauth/register", ctype: "application/json", header: header,
		body: `{"redirect_uris":["` + clientRedirect + `"],"token_endpoint_auth_method":"none"}`}
}

// requireRateLimited checks the S20 refusal: 429, Retry-After in whole
// seconds, no-store, and the RFC 6749 §5.2 JSON body.
func requireRateLimited(t *testing.T, r rlResponse, maxWait time.Duration) {
	t.Helper()
	require.Equal(t, http.StatusTooManyRequests, r.Status, "body: %s", r.Body)
	secs, err := strconv.Atoi(r.Header.Get("Retry-After"))
	require.NoError(t, err, "Retry-After %q is delay-seconds (RFC 9110 §10.2.3)", r.Header.Get("Retry-After"))
	assert.GreaterOrEqual(t, secs, 1)
	assert.LessOrEqual(t, secs, int(maxWait/time.Second))
	assert.Equal(t, "no-store", r.Header.Get("Cache-Control"))
	assert.Equal(t, "application/json", r.Header.Get("Content-Type"))
	var body map[string]string
	require.NoError(t, json.Unmarshal([]byte(r.Body), &body), r.Body)
	assert.Equal(t, map[string]string{
		"error":             "temporarily_unavailable",
		"error_description": "too many requests, retry later",
	}, body)
}

// TestSecurity_S20_RefusalIs429PerClass: each endpoint class, past its limit,
// answers 429 with Retry-After, no-store and an OAuth JSON error, and records
// an EventRateLimited naming the class and the client.
func TestSecurity_S20_RefusalIs429PerClass(t *testing.T) {
	perMinute := ratelimit.PerMinute(1)
	l := &eventLog{}
	e := newEnv(t, withEventLog(l), withRateLimits(oauthproxy.RateLimits{
		Register: perMinute, Authorize: perMinute, Token: perMinute, Revoke: perMinute,
		Consent: ratelimit.PerMinute(2),
	}))
	form := "application/x-www-form-urlencoded"
	classes := []struct {
		class    string
		cors     bool
		requests []rlRequest // the last one is refused
	}{
		{"register", true, []rlRequest{rlRegister("", nil), rlRegister("", nil)}},
		{"authorize", false, []rlRequest{{method: http.MethodGet, path: "/oauth/authorize?client_id=x"}, {method: http.MethodGet, path: "/oauth/authorize?client_id=x"}}},
		// The consent page, its POST and the callback share one budget.
		{"consent", false, []rlRequest{
			{method: http.MethodGet, path: "/oauth/consent?txn=x"},
			{method: http.MethodPost, path: "/oauth/consent", ctype: form, body: "txn=x"},
			{method: http.MethodGet, path: "/oauth/callback?state=x&code=y"},
		}},
		{"token", true, []rlRequest{
			{method: http.MethodPost, path: "/oauth/token", ctype: form, body: "grant_type=refresh_token&refresh_token=x&client_id=x"},
			{method: http.MethodPost, path: "/oauth/token", ctype: form, body: "grant_type=refresh_token&refresh_token=x&client_id=x"},
		}},
		{"revoke", true, []rlRequest{
			{method: http.MethodPost, path: "/oauth/revoke", ctype: form, body: "token=x&client_id=x"},
			{method: http.MethodPost, path: "/oauth/revoke", ctype: form, body: "token=x&client_id=x"},
		}},
	}
	for _, c := range classes {
		t.Run(c.class, func(t *testing.T) {
			last := len(c.requests) - 1
			for i, req := range c.requests[:last] {
				r := req.send(t, e.srv.URL)
				assert.NotEqual(t, http.StatusTooManyRequests, r.Status, "request %d is within the limit", i)
			}
			r := c.requests[last].send(t, e.srv.URL)
			requireRateLimited(t, r, time.Minute)
			if c.cors {
				assert.Equal(t, "*", r.Header.Get("Access-Control-Allow-Origin"), "browser clients can read the 429")
			}
			ev := lastEvent(l, oauthproxy.EventRateLimited)
			assert.Equal(t, c.class, ev.Reason)
			assert.Equal(t, "127.0.0.1", ev.RemoteAddr)
		})
	}
}

// lastEvent is the latest event of type typ; the test fails without one.
func lastEvent(l *eventLog, typ oauthproxy.EventType) oauthproxy.Event {
	l.mu.Lock()
	defer l.mu.Unlock()
	for i := len(l.events) - 1; i >= 0; i-- {
		if l.events[i].Type == typ {
			return l.events[i]
		}
	}
	return oauthproxy.Event{}
}

// TestSecurity_S20_RefusedRequestNeverReachesHandler: a refused registration
// stores no client, and a refused code exchange does not spend the code.
func TestSecurity_S20_RefusedRequestNeverReachesHandler(t *testing.T) {
	store := newRecordingStore(storage.NewMemory())
	l := &eventLog{}
	e := newEnv(t, withEventLog(l), withSecStore(store), withRateLimits(oauthproxy.RateLimits{
		Register: ratelimit.PerMinute(2), Token: ratelimit.PerMinute(1),
	}))
	c := e.register("none")
	require.Equal(t, http.StatusCreated, rlRegister("", nil).send(t, e.srv.URL).Status)
	saves := len(store.saves())
	requireRateLimited(t, rlRegister("", nil).send(t, e.srv.URL), time.Minute)
	assert.Equal(t, saves, len(store.saves()), "the refused registration stored nothing")
	assert.Len(t, eventsOf(l, oauthproxy.EventClientRegistered), 2)

	// A code, then the token budget of 127.0.0.1 spent on a bad request.
	code, verifier := e.code(c)
	exchange := func(from string) rlResponse {
		return rlRequest{from: from, method: http.MethodPost, path: "/oauth/token", ctype: "application/x-www-form-urlencoded",
			body: url.Values{
				"grant_type": {"authorization_code"}, "code": {code}, "redirect_uri": {clientRedirect},
				"code_verifier": {verifier}, "client_id": {c.ID},
			}.Encode()}.send(t, e.srv.URL)
	}
	require.Equal(t, http.StatusBadRequest, e.token(c, url.Values{"grant_type": {"authorization_code"}, "code": {"nope"}}).Status)
	requireRateLimited(t, exchange("127.0.0.1"), time.Minute)
	assert.Empty(t, eventsOf(l, oauthproxy.EventCodeRedeemed), "the refused exchange did not redeem")
	// The same code still works from an address with budget left.
	r := exchange("127.0.0.2")
	require.Equal(t, http.StatusOK, r.Status, r.Body)
	assert.Contains(t, r.Body, "access_token")
}

func eventsOf(l *eventLog, typ oauthproxy.EventType) []oauthproxy.Event {
	l.mu.Lock()
	defer l.mu.Unlock()
	var out []oauthproxy.Event
	for _, e := range l.events {
		if e.Type == typ {
			out = append(out, e)
		}
	}
	return out
}

// TestSecurity_S20_LimitsAreIndependentPerClassAndAddress: spending one
// class's budget leaves the other classes alone, and one address's budget
// leaves other addresses alone.
func TestSecurity_S20_LimitsAreIndependentPerClassAndAddress(t *testing.T) {
	e := newEnv(t, withRateLimits(oauthproxy.RateLimits{
		Register: ratelimit.PerMinute(1), Token: ratelimit.PerMinute(1), Authorize: ratelimit.PerMinute(1),
	}))
	require.Equal(t, http.StatusCreated, rlRegister("", nil).send(t, e.srv.URL).Status)
	requireRateLimited(t, rlRegister("", nil).send(t, e.srv.URL), time.Minute)

	token := rlRequest{method: http.MethodPost, path: "/oauth/token", ctype: "application/x-www-form-urlencoded", body: "grant_type=refresh_token"}
	assert.Equal(t, http.StatusUnauthorized, token.send(t, e.srv.URL).Status, "the token class has its own budget")
	authorize := rlRequest{method: http.MethodGet, path: "/oauth/authorize"}
	assert.Equal(t, http.StatusBadRequest, authorize.send(t, e.srv.URL).Status, "the authorize class has its own budget")

	assert.Equal(t, http.StatusCreated, rlRegister("127.0.0.2", nil).send(t, e.srv.URL).Status, "another address has its own budget")
	requireRateLimited(t, rlRegister("127.0.0.2", nil).send(t, e.srv.URL), time.Minute)
	requireRateLimited(t, rlRegister("", nil).send(t, e.srv.URL), time.Minute)
}

// TestSecurity_S20_PreflightsAndMetadataAreNotLimited: CORS preflights do not
// spend a budget (other OPTIONS requests do), and the metadata documents are
// never limited.
func TestSecurity_S20_PreflightsAndMetadataAreNotLimited(t *testing.T) {
	one := ratelimit.PerMinute(1)
	e := newEnv(t, withRateLimits(oauthproxy.RateLimits{Register: one, Authorize: one, Consent: one, Token: one, Revoke: one}))
	preflight := rlRequest{method: http.MethodOptions, path: "/oauth/register", header: map[string]string{
		"Origin": "https://app.example", "Access-Control-Request-Method": "POST",
	}}
	for range 3 {
		assert.Equal(t, http.StatusNoContent, preflight.send(t, e.srv.URL).Status)
	}
	assert.Equal(t, http.StatusCreated, rlRegister("", nil).send(t, e.srv.URL).Status, "the preflights spent nothing")
	// An OPTIONS request that is not a preflight is answered the same way:
	// it never reaches the endpoint, so it cannot register around the limit.
	notPreflight := rlRegister("", nil)
	notPreflight.method = http.MethodOptions
	res := notPreflight.send(t, e.srv.URL)
	assert.Equal(t, http.StatusNoContent, res.Status)
	assert.NotContains(t, res.Body, "client_id", "an OPTIONS request must not register a client")
	requireRateLimited(t, rlRegister("", nil).send(t, e.srv.URL), time.Minute)

	for _, path := range []string{"/.well-known/oauth-authorization-server", "/.well-known/oauth-protected-resource"} {
		for range 3 {
			assert.Equal(t, http.StatusOK, rlRequest{method: http.MethodGet, path: path}.send(t, e.srv.URL).Status, path)
		}
	}
}

// TestSecurity_S20_ForwardedHeadersIgnoredWithoutTrustedProxies: by default a
// client cannot pick its own address with X-Forwarded-For or Forwarded.
func TestSecurity_S20_ForwardedHeadersIgnoredWithoutTrustedProxies(t *testing.T) {
	l := &eventLog{}
	e := newEnv(t, withEventLog(l), withRateLimits(oauthproxy.RateLimits{Register: ratelimit.PerMinute(1)}))
	require.Equal(t, http.StatusCreated, rlRegister("", map[string]string{"X-Forwarded-For": "198.51.100.1"}).send(t, e.srv.URL).Status)
	assert.Equal(t, "127.0.0.1", lastEvent(l, oauthproxy.EventClientRegistered).RemoteAddr, "the audit trail names the peer")
	for _, h := range []map[string]string{
		{"X-Forwarded-For": "198.51.100.2"},
		{"Forwarded": "for=198.51.100.3"},
		{"X-Forwarded-For": "198.51.100.4", "Forwarded": "for=198.51.100.4"},
	} {
		requireRateLimited(t, rlRegister("", h).send(t, e.srv.URL), time.Minute)
	}
}

// TestSecurity_S20_ForwardedHeadersBelievedOnlyFromTrustedPeer: behind a
// trusted proxy (127.0.0.1 here) each forwarded client has its own budget and
// is named in the audit trail; spoofed left-most entries change nothing; and a
// peer outside TrustedProxies (127.0.0.2) is keyed by its own address
// whatever it claims.
func TestSecurity_S20_ForwardedHeadersBelievedOnlyFromTrustedPeer(t *testing.T) {
	l := &eventLog{}
	e := newEnv(t, withEventLog(l), withRateLimits(oauthproxy.RateLimits{Register: ratelimit.PerMinute(1)}),
		withConfig(func(c *oauthproxy.Config) { c.TrustedProxies = []string{"127.0.0.1/32"} }))
	xff := func(v string) map[string]string { return map[string]string{"X-Forwarded-For": v} }

	require.Equal(t, http.StatusCreated, rlRegister("", xff("198.51.100.1")).send(t, e.srv.URL).Status)
	assert.Equal(t, "198.51.100.1", lastEvent(l, oauthproxy.EventClientRegistered).RemoteAddr)
	require.Equal(t, http.StatusCreated, rlRegister("", map[string]string{"Forwarded": `for="198.51.100.2:4711";proto=https`}).send(t, e.srv.URL).Status,
		"another forwarded client, through RFC 7239 Forwarded")
	assert.Equal(t, "198.51.100.2", lastEvent(l, oauthproxy.EventClientRegistered).RemoteAddr)

	// 198.51.100.1 prepends made-up hops: the trusted proxy appended its
	// real address last, and that is what counts.
	requireRateLimited(t, rlRegister("", xff("203.0.113.7, 10.0.0.1, 198.51.100.1")).send(t, e.srv.URL), time.Minute)
	assert.Equal(t, "198.51.100.1", lastEvent(l, oauthproxy.EventRateLimited).RemoteAddr)
	// Both headers, naming different clients: neither is believed, and the
	// request counts against the proxy's own address.
	require.Equal(t, http.StatusCreated,
		rlRegister("", map[string]string{"X-Forwarded-For": "198.51.100.1", "Forwarded": "for=198.51.100.9"}).send(t, e.srv.URL).Status)
	assert.Equal(t, "127.0.0.1", lastEvent(l, oauthproxy.EventClientRegistered).RemoteAddr)

	// An untrusted peer's headers are ignored.
	require.Equal(t, http.StatusCreated, rlRegister("127.0.0.2", xff("198.51.100.3")).send(t, e.srv.URL).Status)
	assert.Equal(t, "127.0.0.2", lastEvent(l, oauthproxy.EventClientRegistered).RemoteAddr)
	requireRateLimited(t, rlRegister("127.0.0.2", xff("198.51.100.4")).send(t, e.srv.URL), time.Minute)
}

// TestSecurity_S20_RedisSharesBudgetAcrossReplicas: two proxy replicas, each
// with its own Redis limiter on one server, give an address one budget; with
// Redis gone they serve everybody (fail open) and log why.
func TestSecurity_S20_RedisSharesBudgetAcrossReplicas(t *testing.T) {
	srv := redistest.StartWithOptions(t, redistest.Options{})
	l := &eventLog{}
	d := newDeployment(t, withEventLog(l), withRateLimits(oauthproxy.RateLimits{Register: ratelimit.PerMinute(3)}))
	for _, name := range []string{"a", "b"} {
		limiter := redislimit.New(redistest.NewClient(t, srv.Addr()))
		d.start(name, storage.NewMemory(), func(c *oauthproxy.Config) { c.RateLimiter = limiter })
	}
	register := func(replica string) rlResponse {
		return rlRegister("", map[string]string{replicaHeader: replica}).send(t, d.srv.URL)
	}
	for _, replica := range []string{"a", "b", "a"} {
		require.Equal(t, http.StatusCreated, register(replica).Status, "replica %s", replica)
	}
	requireRateLimited(t, register("b"), time.Minute)
	requireRateLimited(t, register("a"), time.Minute)
	hops := d.routed()
	require.Len(t, hops, 5)
	assert.Equal(t, "b", hops[3].Replica, "the refusal came from the replica that had served nobody twice")

	srv.Stop()
	for _, replica := range []string{"a", "b"} {
		assert.Equal(t, http.StatusCreated, register(replica).Status, "replica %s fails open without Redis", replica)
	}
	assert.Contains(t, l.logs.String(), "rate limiter failed")
}

// failingLimiter is a RateLimiter that cannot decide.
type failingLimiter struct{ calls atomic.Int64 }

func (f *failingLimiter) Allow(context.Context, string, ratelimit.Limit) (ratelimit.Decision, error) {
	f.calls.Add(1)
	return ratelimit.Decision{}, errors.New("limiter unavailable")
}

// TestSecurity_S20_LimiterErrorFailsOpen: whatever Decision comes with an
// error, the request is served and the error logged.
func TestSecurity_S20_LimiterErrorFailsOpen(t *testing.T) {
	l := &eventLog{}
	f := &failingLimiter{}
	e := newEnv(t, withEventLog(l), withRateLimits(oauthproxy.RateLimits{Register: ratelimit.PerMinute(1)}),
		withConfig(func(c *oauthproxy.Config) { c.RateLimiter = f }))
	for range 3 {
		assert.Equal(t, http.StatusCreated, rlRegister("", nil).send(t, e.srv.URL).Status)
	}
	assert.Equal(t, int64(3), f.calls.Load(), "the configured limiter is the one asked")
	assert.Contains(t, l.logs.String(), "limiter unavailable")
	assert.Empty(t, eventsOf(l, oauthproxy.EventRateLimited))
}

// TestSecurity_S20_FullFlowWithinSensibleLimits: a whole login (register,
// authorize, consent page and POST, callback, token) fits the limits the demo
// uses, so limits of that size do not break real clients.
func TestSecurity_S20_FullFlowWithinSensibleLimits(t *testing.T) {
	e := newEnv(t, withRateLimits(oauthproxy.RateLimits{
		Register: ratelimit.PerMinute(10), Authorize: ratelimit.PerMinute(30), Consent: ratelimit.PerMinute(30),
		Token: ratelimit.PerMinute(60), Revoke: ratelimit.PerMinute(30),
	}))
	c := e.register("none")
	verifier := pkce.GenerateVerifier()
	loc := e.login(e.browser(), authorizeParams(c, pkce.Challenge(verifier)))
	tok := e.exchange(c, loc.Query().Get("code"), verifier)
	require.Equal(t, http.StatusOK, tok.Status, tok.Body)
	resp, _ := e.callMCP(tok.str("access_token"))
	assert.Equal(t, http.StatusOK, resp.StatusCode)
}

// TestNew_RateLimitsAndTrustedProxiesValidation: bad limits and bad proxy
// entries are reported together, with the rest of the Config's problems.
func TestNew_RateLimitsAndTrustedProxiesValidation(t *testing.T) {
	cfg := validConfig()
	cfg.AccessTokenTTL = -1
	cfg.RateLimits = oauthproxy.RateLimits{
		Register: ratelimit.Limit{Rate: 1},
		Token:    ratelimit.Limit{Rate: -1, Per: time.Second},
		Revoke:   ratelimit.PerMinute(10),
	}
	cfg.TrustedProxies = []string{"10.0.0.0/8", "10.0.0.0/99", "proxy.internal"}
	_, err := oauthproxy.New(cfg)
	require.Error(t, err)
	for _, want := range []string{"AccessTokenTTL", "RateLimits.Register", "RateLimits.Token", "10.0.0.0/99", "proxy.internal"} {
		assert.Contains(t, err.Error(), want)
	}
	assert.NotContains(t, err.Error(), "RateLimits.Revoke")

	cfg = validConfig()
	cfg.TrustedProxies = []string{"10.0.0.0/8", "192.0.2.1", "2001:db8::/32"}
	cfg.RateLimits.Token = ratelimit.Limit{Rate: 5, Per: time.Second, Burst: 20}
	p, err := oauthproxy.New(cfg)
	require.NoError(t, err)
	p.Destroy()
}

// TestSecurity_S20_IPv6ClientsKeyedByPrefix: an IPv6 client is limited by its
// /64, which one subscriber usually holds whole, so stepping through its
// addresses buys no budget; the audit trail still names the full address.
func TestSecurity_S20_IPv6ClientsKeyedByPrefix(t *testing.T) {
	l := &eventLog{}
	e := newEnv(t, withEventLog(l), withRateLimits(oauthproxy.RateLimits{Register: ratelimit.PerMinute(1)}),
		withConfig(func(c *oauthproxy.Config) { c.TrustedProxies = []string{"127.0.0.1"} }))
	from := func(addr string) rlResponse {
		return rlRegister("", map[string]string{"X-Forwarded-For": addr}).send(t, e.srv.URL)
	}
	require.Equal(t, http.StatusCreated, from("2001:db8:1:2::1").Status)
	assert.Equal(t, "2001:db8:1:2::1", lastEvent(l, oauthproxy.EventClientRegistered).RemoteAddr)
	requireRateLimited(t, from("2001:db8:1:2:ffff:ffff:ffff:fffe"), time.Minute)
	require.Equal(t, http.StatusCreated, from("2001:db8:1:3::1").Status, "the next /64 is another client")
}
