package oauthproxy_test

// Security tests for S22: tokens carry no scope the upstream did not grant,
// and a client's registered scope limits what it may request.

import (
	"encoding/json"
	"net/http"
	"net/url"
	"testing"
	"time"

	"github.com/oauthproxy-go/oauthproxy"
	"github.com/oauthproxy-go/oauthproxy/internal/pkce"
	"github.com/oauthproxy-go/oauthproxy/oauthproxytest"
	"github.com/oauthproxy-go/oauthproxy/storage"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// loginWithScope runs a browser login for c asking for scope ("" for none)
// and redeems the code.
func (e *env) loginWithScope(c registered, scope string) tokenResult {
	e.t.Helper()
	verifier := pkce.GenerateVerifier()
	q := authorizeParams(c, pkce.Challenge(verifier))
	if scope == "" {
		q.Del("scope")
	} else {
		q.Set("scope", scope)
	}
	loc := e.login(e.browser(), q)
	require.Empty(e.t, loc.Query().Get("error"), loc.Query().Get("error_description"))
	tok := e.exchange(c, loc.Query().Get("code"), verifier)
	require.Equal(e.t, http.StatusOK, tok.Status, "%v", tok.Body)
	return tok
}

// TestSecurity_S22_TokensCarryNoScopeTheUpstreamDidNotGrant: when the
// upstream's token response says it granted less than requested (RFC 6749
// §5.1; GitHub writes it comma-separated), the proxy's token, its grant and
// every later refresh carry only what was both requested and granted.
func TestSecurity_S22_TokensCarryNoScopeTheUpstreamDidNotGrant(t *testing.T) {
	for _, comma := range []bool{false, true} {
		name := "space-separated"
		if comma {
			name = "comma-separated"
		}
		t.Run(name, func(t *testing.T) {
			clk := newSecClock()
			e := newEnv(t, withSecClock(clk), withIdP(func(o *oauthproxytest.Options) {
				o.CommaSeparatedScope = comma
				o.Now = clk.Now
			}))
			e.idp.DeclineScopes("profile")
			c := e.register("none")

			tok := e.loginWithScope(c, "openid email profile")
			assert.Equal(t, "openid email", tok.str("scope"))
			assert.Equal(t, "openid email", secClaims(t, tok.str("access_token"))["scope"])
			resp, claims := e.callMCP(tok.str("access_token"))
			require.Equal(t, http.StatusOK, resp.StatusCode)
			assert.Equal(t, []any{"openid", "email"}, claims["Scopes"])

			// The grant holds only the granted scope, so a refresh cannot
			// ask for the rest (RFC 6749 §6).
			wide := e.token(c, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {tok.str("refresh_token")}, "scope": {"openid profile"}})
			assert.Equal(t, "invalid_scope", wide.str("error"), "%v", wide.Body)

			// The upstream grants less at its own refresh: the grant narrows.
			e.idp.DeclineScopes("profile", "email")
			clk.Advance(2 * time.Hour) // the upstream access token has expired
			ref := e.refresh(c, tok.str("refresh_token"))
			require.Equal(t, http.StatusOK, ref.Status, "%v", ref.Body)
			assert.Equal(t, "openid", ref.str("scope"))
			assert.Equal(t, "openid", secClaims(t, ref.str("access_token"))["scope"])
		})
	}
}

// TestSecurity_S22_PassThroughRecordsOnlyTheGrantedScope: in pass-through
// mode the client holds the upstream's own token; what the proxy records for
// the bearer check is what was both requested and granted.
func TestSecurity_S22_PassThroughRecordsOnlyTheGrantedScope(t *testing.T) {
	e := newEnv(t, withConfig(func(c *oauthproxy.Config) { c.DisableTokenSwap = true }))
	e.idp.DeclineScopes("profile")
	c := e.register("none")
	tok := e.loginWithScope(c, "openid email profile")
	assert.Equal(t, "openid email", tok.str("scope"), "the upstream token's own scope")
	resp, claims := e.callMCP(tok.str("access_token"))
	require.Equal(t, http.StatusOK, resp.StatusCode)
	assert.Equal(t, []any{"openid", "email"}, claims["Scopes"])

	e.idp.DeclineScopes("profile", "email")
	ref := e.refresh(c, tok.str("refresh_token"))
	require.Equal(t, http.StatusOK, ref.Status, "%v", ref.Body)
	resp, claims = e.callMCP(ref.str("access_token"))
	require.Equal(t, http.StatusOK, resp.StatusCode)
	assert.Equal(t, []any{"openid"}, claims["Scopes"])
}

// registerWithScope registers a public client with a scope (RFC 7591 §2).
func (e *env) registerWithScope(scope string) registered {
	e.t.Helper()
	body, _ := json.Marshal(map[string]any{
		"redirect_uris":              []string{clientRedirect},
		"token_endpoint_auth_method": "none",
		"grant_types":                []string{"authorization_code", "refresh_token"},
		"scope":                      scope,
	})
	res := secRegister(e.t, e.srv.URL, string(body))
	require.Equal(e.t, http.StatusCreated, res.Status, "%v", res.Body)
	return registered{ID: res.str("client_id"), AuthMethod: "none"}
}

// TestSecurity_S22_RegisteredScopeLimitsRequests: a client that registered a
// scope may not request beyond it (invalid_scope, redirected to the client:
// it is not about client_id or redirect_uri), gets the default set narrowed
// to it when it requests nothing, and cannot widen it at refresh.
func TestSecurity_S22_RegisteredScopeLimitsRequests(t *testing.T) {
	store := newRecordingStore(storage.NewMemory())
	e := newEnv(t, withSecStore(store))
	c := e.registerWithScope("openid email")

	mark := store.mark()
	q := authorizeParams(c, pkce.Challenge(pkce.GenerateVerifier()))
	q.Set("scope", "openid profile")
	got := secClientRedirect(t, e.secAuthorize(newSecBrowser(t), q), clientRedirect)
	assert.Equal(t, "invalid_scope", got.Get("error"))
	assert.Equal(t, "client-state-123", got.Get("state"))
	assert.Equal(t, e.srv.URL, got.Get("iss"))
	assert.Empty(t, store.changedSince(mark), "a refused request stores nothing")

	assert.Equal(t, "openid", e.loginWithScope(c, "openid").str("scope"), "within the registered scope")
	tok := e.loginWithScope(c, "")
	assert.Equal(t, "openid email", tok.str("scope"), "the default set, narrowed to the registered scope")
	wide := e.token(c, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {tok.str("refresh_token")}, "scope": {"openid email profile"}})
	assert.Equal(t, "invalid_scope", wide.str("error"), "%v", wide.Body)

	t.Run("no registered scope among the defaults", func(t *testing.T) {
		// Registered while the server offered "repo"; it no longer does.
		store := newRecordingStore(storage.NewMemory())
		before := newEnv(t, withSecStore(store), withConfig(func(c *oauthproxy.Config) {
			c.Scopes = []string{"openid", "email", "profile", "repo"}
		}))
		c := before.registerWithScope("repo")
		after := newEnv(t, withSecStore(store))
		q := authorizeParams(c, pkce.Challenge(pkce.GenerateVerifier()))
		q.Del("scope")
		mark := store.mark()
		got := secClientRedirect(t, after.secAuthorize(newSecBrowser(t), q), clientRedirect)
		assert.Equal(t, "invalid_scope", got.Get("error"), "no unscoped request goes upstream")
		assert.Empty(t, store.changedSince(mark))
	})
}
