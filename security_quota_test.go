package oauthproxy_test

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/oauthproxy-go/oauthproxy"
	"github.com/oauthproxy-go/oauthproxy/internal/pkce"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// logLines counts the log lines that contain every one of parts.
func (l *eventLog) logLines(parts ...string) int {
	l.mu.Lock()
	defer l.mu.Unlock()
	n := 0
	for _, line := range strings.Split(l.logs.String(), "\n") {
		all := line != ""
		for _, p := range parts {
			all = all && strings.Contains(line, p)
		}
		if all {
			n++
		}
	}
	return n
}

// reasons lists the Reason of every event of type typ, in order.
func (l *eventLog) reasons(typ oauthproxy.EventType) []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	var out []string
	for _, e := range l.events {
		if e.Type == typ {
			out = append(out, e.Reason)
		}
	}
	return out
}

// TestSecurity_S19_ClientQuota: once MaxClients clients are registered, new
// registrations get 503 temporarily_unavailable with Retry-After and an
// audit event, and store nothing; clients already registered keep signing
// in and refreshing. When registrations expire, there is room again.
func TestSecurity_S19_ClientQuota(t *testing.T) {
	clk := newSecClock()
	store, withStore := withCountingStoreAt(clk.Now)
	var events eventLog
	e := newEnv(t, withStore, withSecClock(clk), withEventLog(&events), withConfig(func(c *oauthproxy.Config) {
		c.MaxClients = 3
		c.ClientIdleTTL = time.Hour
	}))
	first := e.register("none")
	tok := e.secTokens(first)
	e.register("client_secret_basic")
	e.register("client_secret_post")

	for i := 0; i < 2; i++ {
		res := secRegister(t, e.srv.URL, secRegistrationBody("none", clientRedirect))
		require.Equal(t, http.StatusServiceUnavailable, res.Status, "%v", res.Body)
		assert.Equal(t, "temporarily_unavailable", res.str("error"))
		assert.Equal(t, "60", res.Header.Get("Retry-After"))
		assert.Equal(t, "no-store", res.Header.Get("Cache-Control"))
		assert.Equal(t, 3, store.live(t, "client:"), "a refused registration stores nothing")
	}
	assert.Equal(t, []string{"clients", "clients"}, events.reasons(oauthproxy.EventQuotaExceeded))
	// A flood of refusals logs one Warn a minute, and no request error.
	assert.Equal(t, 1, events.logLines(`"level":"WARN"`, "quota.exceeded"))
	assert.Zero(t, events.logLines(`"level":"ERROR"`))

	// Established sessions are unaffected: refresh, bearer and a new sign-in
	// of a registered client all work while the quota is full.
	ref := e.refresh(first, tok.str("refresh_token"))
	require.Equal(t, http.StatusOK, ref.Status, "%v", ref.Body)
	resp, _ := e.callMCP(ref.str("access_token"))
	assert.Equal(t, http.StatusOK, resp.StatusCode)
	e.secTokens(first)

	// Registrations idle past ClientIdleTTL expire; after cleanup and a
	// recount there is room again.
	clk.Advance(2 * time.Hour)
	require.NoError(t, store.Cleanup(t.Context()))
	res := secRegister(t, e.srv.URL, secRegistrationBody("none", clientRedirect))
	require.Equal(t, http.StatusCreated, res.Status, "%v", res.Body)
}

// TestSecurity_S19_PendingAuthorizationQuota: once MaxPendingAuthorizations
// sign-ins are in flight, /authorize answers the client's redirect URI with
// error=temporarily_unavailable (RFC 6749 §4.1.2.1) and stores nothing, while
// issued codes are still redeemed, tokens refreshed and bearer calls served.
// A completed sign-in frees its place.
func TestSecurity_S19_PendingAuthorizationQuota(t *testing.T) {
	clk := newSecClock()
	store, withStore := withCountingStoreAt(clk.Now)
	var events eventLog
	e := newEnv(t, withStore, withSecClock(clk), withEventLog(&events), withConfig(func(c *oauthproxy.Config) {
		c.MaxPendingAuthorizations = 2
	}))
	c := e.register("none")
	tok := e.secTokens(c)
	// A code issued before the quota fills, redeemed after.
	code, verifier := e.code(c)

	// Two sign-ins left at the consent page fill the quota.
	b := newSecBrowser(t)
	_, pending := e.secOpenConsent(b, authorizeParams(c, pkce.Challenge(pkce.GenerateVerifier())))
	e.secOpenConsent(newSecBrowser(t), authorizeParams(c, pkce.Challenge(pkce.GenerateVerifier())))
	require.Equal(t, 2, store.live(t, "txn:"))

	h := e.secAuthorize(newSecBrowser(t), authorizeParams(c, pkce.Challenge(pkce.GenerateVerifier())))
	q := secClientRedirect(t, h, clientRedirect)
	assert.Equal(t, "temporarily_unavailable", q.Get("error"))
	assert.Equal(t, "client-state-123", q.Get("state"))
	assert.Equal(t, e.srv.URL, q.Get("iss"))
	assert.Equal(t, 2, store.live(t, "txn:"), "a refused authorization stores nothing")
	assert.Equal(t, []string{"pending_authorizations"}, events.reasons(oauthproxy.EventQuotaExceeded))

	// Established sessions are unaffected.
	ex := e.exchange(c, code, verifier)
	require.Equal(t, http.StatusOK, ex.Status, "%v", ex.Body)
	ref := e.refresh(c, tok.str("refresh_token"))
	require.Equal(t, http.StatusOK, ref.Status, "%v", ref.Body)
	resp, _ := e.callMCP(ref.str("access_token"))
	assert.Equal(t, http.StatusOK, resp.StatusCode)

	// Completing a pending sign-in frees its place at once, without waiting
	// for the next recount.
	done := b.get(e.secToCallback(b, e.secDecide(b, pending, "approve")))
	require.Empty(t, secClientRedirect(t, done, clientRedirect).Get("error"))
	require.Equal(t, 1, store.live(t, "txn:"))
	h = e.secAuthorize(newSecBrowser(t), authorizeParams(c, pkce.Challenge(pkce.GenerateVerifier())))
	require.Equal(t, http.StatusFound, h.Status, h.Body)
	assert.Equal(t, "/oauth/consent", h.Location.Path)
}

// TestSecurity_S19_QuotasValidated: a negative quota is a configuration
// error; zero means the documented default.
func TestSecurity_S19_QuotasValidated(t *testing.T) {
	cfg, _ := testSetup(withConfig(func(c *oauthproxy.Config) {
		c.BaseURL = "http://127.0.0.1:1"
		c.UpstreamAuthorizationEndpoint = "http://127.0.0.1:2/authorize"
		c.UpstreamTokenEndpoint = "http://127.0.0.1:2/token"
		c.MaxClients = -1
		c.MaxPendingAuthorizations = -5
	}))
	_, err := oauthproxy.New(cfg)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "MaxClients must not be negative")
	assert.Contains(t, err.Error(), "MaxPendingAuthorizations must not be negative")
}
