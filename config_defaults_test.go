package oauthproxy_test

// Config: the defaults New fills in and the token TTLs, observed through behaviour.

import (
	"context"
	"net/http"
	"net/url"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/oauthproxy-go/oauthproxy"
	"github.com/oauthproxy-go/oauthproxy/internal/pkce"
	"github.com/oauthproxy-go/oauthproxy/oauthproxytest"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// ---------------------------------------------------------------------------
// Defaults, observed

func TestDefaults_RedirectPathServed(t *testing.T) {
	e := newEnv(t)
	// Served: a callback without state is a 400 error page, not a 404.
	resp, err := http.Get(e.srv.URL + "/oauth/callback")
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, http.StatusBadRequest, resp.StatusCode)

	c := e.register("none")
	e.code(c)
	assert.Equal(t, e.srv.URL+"/oauth/callback", e.idp.LastAuthorizeQuery().Get("redirect_uri"))
}

func TestDefaults_Resource(t *testing.T) {
	e := newEnv(t)
	assert.Equal(t, e.srv.URL+"/mcp", e.proxy.GetProtectedResourceMetadata().Resource)
	resp, err := http.Get(e.srv.URL + "/.well-known/oauth-protected-resource/mcp")
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, http.StatusOK, resp.StatusCode)

	c := e.register("none")
	code, verifier := e.code(c)
	tok := e.exchange(c, code, verifier)
	require.Equal(t, http.StatusOK, tok.Status)
	assert.Equal(t, []any{e.srv.URL + "/mcp"}, audience(t, tok.str("access_token")))
}

// jwtClaims reads a JWT's claims without verifying it.
func jwtClaims(t *testing.T, token string) jwt.MapClaims {
	t.Helper()
	claims := jwt.MapClaims{}
	_, _, err := jwt.NewParser().ParseUnverified(token, claims)
	require.NoError(t, err)
	return claims
}

// audience returns aud as a list, whatever its JSON form.
func audience(t *testing.T, token string) []any {
	switch aud := jwtClaims(t, token)["aud"].(type) {
	case string:
		return []any{aud}
	case []any:
		return aud
	default:
		return nil
	}
}

func TestDefaults_TTLs(t *testing.T) {
	d := newDirect(t)
	c := d.register("none")

	t.Run("AccessTokenTTL 1h", func(t *testing.T) {
		issued := d.clock.Now()
		tok := d.tokens(c)
		assert.Equal(t, int64(3600), tok.ExpiresIn)
		claims := jwtClaims(t, tok.AccessToken)
		assert.Equal(t, float64(issued.Add(time.Hour).Unix()), claims["exp"])
	})
	t.Run("AuthorizationCodeTTL 5 min", func(t *testing.T) {
		code1, v1 := d.login(c)
		code2, v2 := d.login(c)
		d.clock.Advance(5*time.Minute - time.Second)
		_, err := d.p.ExchangeAuthorizationCode(d.ctx, codeRequest(c, code1, v1))
		require.NoError(t, err)
		d.clock.Advance(time.Second)
		_, err = d.p.ExchangeAuthorizationCode(d.ctx, codeRequest(c, code2, v2))
		assert.Equal(t, oauthproxy.ErrCodeInvalidGrant, oauthErr(t, err).Code)
	})
	t.Run("TransactionTTL 10 min", func(t *testing.T) {
		challenge := pkce.Challenge(pkce.GenerateVerifier())
		r1, err := d.p.Authorize(d.ctx, authRequest(c, challenge))
		require.NoError(t, err)
		r2, err := d.p.Authorize(d.ctx, authRequest(c, challenge))
		require.NoError(t, err)
		d.clock.Advance(10*time.Minute - time.Second)
		_, err = d.p.ConsentPage(d.ctx, r1.TransactionID, "")
		require.NoError(t, err)
		d.clock.Advance(time.Second)
		_, err = d.p.ConsentPage(d.ctx, r2.TransactionID, "")
		assert.True(t, oauthErr(t, err).NoRedirect, "the transaction expired")
	})
	t.Run("RefreshTokenTTL 30 days", func(t *testing.T) {
		d := newDirect(t)
		c := d.register("none")
		t1 := d.tokens(c)
		t2 := d.tokens(c)
		d.clock.Advance(30*24*time.Hour - time.Minute)
		_, err := d.refresh(c, t1.RefreshToken)
		require.NoError(t, err, "valid just before 30 days")
		d.clock.Advance(time.Minute)
		_, err = d.refresh(c, t2.RefreshToken)
		assert.Equal(t, oauthproxy.ErrCodeInvalidGrant, oauthErr(t, err).Code)
	})
}

func TestDefaults_UpstreamAuthMethodIsBasic(t *testing.T) {
	e := newEnv(t, withIdP(func(o *oauthproxytest.Options) { o.AuthMethod = oauthproxytest.AuthMethodBasic }))
	c := e.register("none")
	e.code(c)
	assert.Equal(t, oauthproxytest.AuthMethodBasic, e.idp.LastTokenAuthMethod())
	assert.Empty(t, e.idp.LastTokenRequest().Get("client_secret"), "the secret is not also in the body")
}

func TestDefaults_ProviderNameAndScopes(t *testing.T) {
	d := newDirect(t)
	c := d.register("none")
	req := authRequest(c, pkce.Challenge(pkce.GenerateVerifier()))
	req.Scope = ""
	res, err := d.p.Authorize(d.ctx, req)
	require.NoError(t, err)
	page, err := d.p.ConsentPage(d.ctx, res.TransactionID, "")
	require.NoError(t, err)
	u, _ := url.Parse(d.idp.URL())
	assert.Equal(t, u.Hostname(), page.ProviderName)
	assert.Equal(t, []string{"openid", "email", "profile"}, page.Scopes, "no scope requested: the configured set")

	named := newDirect(t, withConfig(func(c *oauthproxy.Config) { c.ProviderName = "GitHub" }))
	nc := named.register("none")
	res, err = named.p.Authorize(named.ctx, authRequest(nc, pkce.Challenge(pkce.GenerateVerifier())))
	require.NoError(t, err)
	page, err = named.p.ConsentPage(named.ctx, res.TransactionID, "")
	require.NoError(t, err)
	assert.Equal(t, "GitHub", page.ProviderName)
}

func TestDefaults_CustomPatternsReplaceLoopback(t *testing.T) {
	d := newDirect(t, withConfig(func(c *oauthproxy.Config) {
		c.AllowedRedirectURIPatterns = []string{"https://*.example.com/cb", "cursor://anysphere.cursor-retrieval/*"}
	}))
	for _, tt := range []struct {
		uri string
		ok  bool
	}{
		{"https://app.example.com/cb", true},
		{"cursor://anysphere.cursor-retrieval/oauth/user-x/callback", true},
		{"https://example.com/cb", false},
		{"https://a.b.example.com/cb", false},
		{"https://app.example.com/other", false},
		{"vscode://vscode.github-authentication/did-authenticate", false},
		{"http://127.0.0.1:3000/cb", false},
	} {
		_, err := d.p.RegisterClient(context.Background(), &oauthproxy.ClientMetadata{
			RedirectURIs: []string{tt.uri}, TokenEndpointAuthMethod: "none",
		})
		if tt.ok {
			assert.NoError(t, err, tt.uri)
		} else {
			assert.Equal(t, oauthproxy.ErrCodeInvalidRedirectURI, oauthErr(t, err).Code, tt.uri)
		}
	}
}

func TestConfig_AccessTokenTTL(t *testing.T) {
	d := newDirect(t, withConfig(func(c *oauthproxy.Config) { c.AccessTokenTTL = 10 * time.Minute }))
	c := d.register("none")
	issued := d.clock.Now()
	tok := d.tokens(c)
	assert.Equal(t, int64(600), tok.ExpiresIn)
	claims := jwtClaims(t, tok.AccessToken)
	assert.Equal(t, float64(issued.Unix()), claims["iat"])
	assert.Equal(t, float64(issued.Add(10*time.Minute).Unix()), claims["exp"])
	assert.Equal(t, float64(600), claims["exp"].(float64)-claims["iat"].(float64))

	// Not tied to the upstream's one hour.
	up, err := d.p.LoadUpstreamTokens(d.ctx, tok.AccessToken)
	require.NoError(t, err)
	assert.WithinDuration(t, issued.Add(time.Hour), up.Expiry, time.Second)

	d.clock.Advance(10*time.Minute - time.Second)
	_, err = d.p.VerifyAccessToken(d.ctx, tok.AccessToken)
	require.NoError(t, err)
	refreshed, err := d.refresh(c, tok.RefreshToken)
	require.NoError(t, err)
	assert.Equal(t, int64(600), refreshed.ExpiresIn, "refreshed tokens get the same TTL")

	d.clock.Advance(time.Second)
	_, err = d.p.VerifyAccessToken(d.ctx, tok.AccessToken)
	assert.ErrorIs(t, err, oauthproxy.ErrTokenExpired)
	_, err = d.p.VerifyAccessToken(d.ctx, refreshed.AccessToken)
	assert.NoError(t, err)
}

func TestConfig_ExpiresInIsTheConfiguredTTL(t *testing.T) {
	// JWT times have whole seconds; expires_in must still say the configured
	// TTL, whatever the sub-second part of the clock when the token is issued.
	for _, frac := range []time.Duration{0, 400 * time.Millisecond, 600 * time.Millisecond, 999 * time.Millisecond} {
		t.Run(frac.String(), func(t *testing.T) {
			d := newDirect(t)
			d.clock.Advance(frac)
			c := d.register("none")
			tok := d.tokens(c)
			assert.Equal(t, int64(3600), tok.ExpiresIn)
			claims := jwtClaims(t, tok.AccessToken)
			assert.Equal(t, float64(3600), claims["exp"].(float64)-claims["iat"].(float64))
			next, err := d.refresh(c, tok.RefreshToken)
			require.NoError(t, err)
			assert.Equal(t, int64(3600), next.ExpiresIn)
		})
	}
}
