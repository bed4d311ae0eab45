package oauthproxy_test

// Security tests for S10 and S11: resource indicators (RFC 8707) and no token passthrough in swap mode.

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/oauthproxy-go/oauthproxy"
	"github.com/oauthproxy-go/oauthproxy/internal/pkce"
	"github.com/oauthproxy-go/oauthproxy/oauthproxytest"
	"github.com/oauthproxy-go/oauthproxy/storage"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// ---------------------------------------------------------------------------
// S10 resource indicators (RFC 8707)

// sgForeignResources are resource values that are not the env's Resource
// (BaseURL+"/mcp").
func sgForeignResources(base string) []string {
	return []string{
		"https://evil.example/mcp",
		base,
		base + "/",
		base + "/mcp/",
		base + "/MCP",
		base + "/mcp/other",
		base + "/mcp?tenant=1",
		strings.Replace(base, "http://", "https://", 1) + "/mcp",
		strings.Replace(base, "127.0.0.1", "localhost", 1) + "/mcp",
	}
}

func TestSecurity_S10_AuthorizeRefusesForeignResource(t *testing.T) {
	t.Parallel()
	store := newRecordingStore(storage.NewMemory())
	e := newEnv(t, withSecStore(store))
	c := e.register("none")
	for _, resource := range sgForeignResources(e.srv.URL) {
		params := authorizeParams(c, pkce.Challenge(pkce.GenerateVerifier()))
		params.Set("resource", resource)
		mark := store.mark()
		h := e.secAuthorize(newSecBrowser(t), params)
		q := secClientRedirect(t, h, clientRedirect)
		assert.Equal(t, "invalid_target", q.Get("error"), resource)
		assert.Equal(t, "client-state-123", q.Get("state"), resource)
		assert.Equal(t, e.srv.URL, q.Get("iss"), resource)
		assert.Empty(t, q.Get("code"), resource)
		assert.Empty(t, store.changedSince(mark), "%s: no transaction is recorded", resource)
	}
}

func TestSecurity_S10_TokenEndpointRefusesForeignResource(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	c := e.register("client_secret_basic")
	code, verifier := e.code(c)
	exchange := func(resource string) tokenResult {
		return e.token(c, url.Values{
			"grant_type":    {"authorization_code"},
			"code":          {code},
			"redirect_uri":  {clientRedirect},
			"code_verifier": {verifier},
			"resource":      {resource},
		})
	}
	for _, resource := range sgForeignResources(e.srv.URL) {
		res := exchange(resource)
		assert.Equal(t, http.StatusBadRequest, res.Status, resource)
		assert.Equal(t, "invalid_target", res.str("error"), resource)
		assert.Empty(t, res.str("access_token"), resource)
	}
	tok := exchange(e.srv.URL + "/mcp")
	require.Equal(t, http.StatusOK, tok.Status, "a refused request does not spend the code: %v", tok.Body)

	rt := tok.str("refresh_token")
	for _, resource := range sgForeignResources(e.srv.URL) {
		res := e.token(c, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {rt}, "resource": {resource}})
		assert.Equal(t, http.StatusBadRequest, res.Status, resource)
		assert.Equal(t, "invalid_target", res.str("error"), resource)
		assert.Empty(t, res.str("access_token"), resource)
	}
	res := e.token(c, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {rt}, "resource": {e.srv.URL + "/mcp"}})
	require.Equal(t, http.StatusOK, res.Status, "a refused refresh does not spend the token: %v", res.Body)
	e.sgRequireLive(c, res.str("access_token"), res.str("refresh_token"))
}

func TestSecurity_S10_AccessTokenAudienceIsTheResource(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name     string
		resource string // Config.Resource; "" for the default
	}{
		{name: "default resource"},
		{name: "configured resource", resource: "https://mcp.example.com/tools/mcp"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			e := newEnv(t, withConfig(func(c *oauthproxy.Config) { c.Resource = tc.resource }))
			resource := tc.resource
			if resource == "" {
				resource = e.srv.URL + "/mcp"
			}
			c := e.register("none")
			verifier := pkce.GenerateVerifier()
			params := authorizeParams(c, pkce.Challenge(verifier))
			params.Set("resource", resource)
			loc := e.login(e.browser(), params)
			require.Empty(t, loc.Query().Get("error"), loc.Query().Get("error_description"))

			tok := e.token(c, url.Values{
				"grant_type":    {"authorization_code"},
				"code":          {loc.Query().Get("code")},
				"redirect_uri":  {clientRedirect},
				"code_verifier": {verifier},
				"resource":      {resource},
			})
			require.Equal(t, http.StatusOK, tok.Status, "%v", tok.Body)
			aud, err := secClaims(t, tok.str("access_token")).GetAudience()
			require.NoError(t, err)
			assert.Equal(t, []string{resource}, []string(aud))

			res := e.token(c, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {tok.str("refresh_token")}, "resource": {resource}})
			require.Equal(t, http.StatusOK, res.Status, "%v", res.Body)
			aud, err = secClaims(t, res.str("access_token")).GetAudience()
			require.NoError(t, err)
			assert.Equal(t, []string{resource}, []string(aud))

			resp, claims := e.callMCP(res.str("access_token"))
			require.Equal(t, http.StatusOK, resp.StatusCode)
			assert.Equal(t, resource, claims["Audience"])
		})
	}
}

func TestSecurity_S10_BearerRefusesTokenForAnotherResource(t *testing.T) {
	t.Parallel()
	e := newEnv(t) // proxy A: Resource = BaseURL+"/mcp"
	c := e.register("none")
	tok := e.secTokens(c)
	access := tok.str("access_token")
	ctx := context.Background()

	// Proxy B differs from A only in Resource: same issuer, same keys.
	cfgB := e.cfg
	cfgB.Resource = e.srv.URL + "/other-mcp"
	b := sgNew(t, cfgB)
	_, err := b.VerifyAccessToken(ctx, access)
	assert.ErrorIs(t, err, oauthproxy.ErrInvalidToken)
	_, err = b.LoadUpstreamTokens(ctx, access)
	assert.ErrorIs(t, err, oauthproxy.ErrInvalidToken)
	rec := sgServe(b.RequireBearer(sgOK), sgBearerRequest(access))
	assert.Equal(t, http.StatusUnauthorized, rec.Code)
	assert.Contains(t, rec.Header().Get("WWW-Authenticate"), `error="invalid_token"`)
	assert.NotEqual(t, "ok", rec.Body.String(), "the protected handler is not reached")

	// A second instance of A's configuration accepts it: only the audience
	// made the difference.
	a2 := sgNew(t, e.cfg)
	_, err = a2.VerifyAccessToken(ctx, access)
	assert.NoError(t, err)
	assert.Equal(t, http.StatusOK, sgServe(a2.RequireBearer(sgOK), sgBearerRequest(access)).Code)
}

// ---------------------------------------------------------------------------
// S11 no token passthrough in swap mode

func TestSecurity_S11_UpstreamTokensNeverReachTheClient(t *testing.T) {
	t.Parallel()
	rec := &sgUpstreamRecorder{}
	// Upstream access tokens that are always within the refresh leeway make
	// every proxy refresh refresh upstream too, with rotation, so the refresh
	// responses are checked against fresh upstream tokens.
	e := newEnv(t, withSGUpstreamRecorder(rec), withIdP(func(o *oauthproxytest.Options) {
		o.AccessTokenTTL = 30 * time.Second
		o.RotateRefreshTokens = true
	}))
	c := e.register("client_secret_basic")

	var seen []string // everything the client and its browser were shown
	see := func(header http.Header, body string) {
		seen = append(seen, body)
		for k, vs := range header {
			seen = append(seen, k+": "+strings.Join(vs, ", "))
		}
	}
	b := newSecBrowser(t)
	verifier := pkce.GenerateVerifier()
	page, form := e.secOpenConsent(b, authorizeParams(c, pkce.Challenge(verifier)))
	see(page.Header, page.Body)
	cb := b.get(e.secToCallback(b, e.secDecide(b, form, "approve")))
	see(cb.Header, cb.Body)
	q := secClientRedirect(t, cb, clientRedirect)

	tok := e.exchange(c, q.Get("code"), verifier)
	require.Equal(t, http.StatusOK, tok.Status, "%v", tok.Body)
	seeToken := func(r tokenResult) {
		raw, _ := json.Marshal(r.Body)
		see(r.Header, string(raw))
	}
	seeToken(tok)
	rt := tok.str("refresh_token")
	var access string
	for range 2 {
		r := e.refresh(c, rt)
		require.Equal(t, http.StatusOK, r.Status, "%v", r.Body)
		seeToken(r)
		rt, access = r.str("refresh_token"), r.str("access_token")
	}
	require.GreaterOrEqual(t, e.idp.Stats().Refreshes, 2, "the proxy refreshed upstream")
	resp, echo := e.callMCP(access)
	require.Equal(t, http.StatusOK, resp.StatusCode)
	raw, _ := json.Marshal(echo)
	see(resp.Header, string(raw))

	ut, err := e.proxy.LoadUpstreamTokens(context.Background(), access)
	require.NoError(t, err)
	upstream := rec.tokens()
	require.Contains(t, upstream, ut.AccessToken, "the recorder saw the upstream's tokens")
	require.Contains(t, upstream, ut.RefreshToken)
	require.GreaterOrEqual(t, len(upstream), 6)
	for _, secret := range upstream {
		for _, s := range seen {
			if !assert.NotContains(t, s, secret, "an upstream token reached the client") {
				return
			}
		}
	}

	// The upstream's access token is not a bearer token at the proxy's
	// resource, nor is its refresh token a refresh token at the proxy.
	for _, upstreamAccess := range []string{ut.AccessToken, upstream[0]} {
		resp, _ := e.callMCP(upstreamAccess)
		assert.Equal(t, http.StatusUnauthorized, resp.StatusCode)
		assert.Contains(t, resp.Header.Get("WWW-Authenticate"), `error="invalid_token"`)
		_, err := e.proxy.VerifyAccessToken(context.Background(), upstreamAccess)
		assert.ErrorIs(t, err, oauthproxy.ErrInvalidToken)
	}
	res := e.refresh(c, ut.RefreshToken)
	assert.Equal(t, http.StatusBadRequest, res.Status)
	assert.Equal(t, "invalid_grant", res.str("error"))
}

func TestSecurity_S11_PassThroughHandsOutTheUpstreamToken(t *testing.T) {
	t.Parallel()
	rec := &sgUpstreamRecorder{}
	e := newEnv(t, withPassThrough(), withSGUpstreamRecorder(rec))
	c := e.register("none")
	tok := e.secTokens(c)
	access := tok.str("access_token")

	assert.Contains(t, rec.tokens(), access, "the client holds the upstream's access token")
	assert.Contains(t, rec.tokens(), tok.str("refresh_token"), "and the upstream's refresh token")
	ut, err := e.proxy.LoadUpstreamTokens(context.Background(), access)
	require.NoError(t, err)
	assert.Equal(t, access, ut.AccessToken)
	resp, claims := e.callMCP(access)
	require.Equal(t, http.StatusOK, resp.StatusCode, "the upstream token works at the resource")
	assert.Equal(t, c.ID, claims["ClientID"])

	// Only tokens the proxy handed out are accepted.
	resp, _ = e.callMCP("some-upstream-token-the-proxy-never-issued")
	assert.Equal(t, http.StatusUnauthorized, resp.StatusCode)
	assert.Contains(t, resp.Header.Get("WWW-Authenticate"), `error="invalid_token"`)
}
