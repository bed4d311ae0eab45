package oauthproxy_test

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/oauthproxy-go/oauthproxy"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// rsID and rsSecret are the resource server's IntrospectionCredentials.
const (
	rsID     = "mcp-server"
	rsSecret = "resource-server-secret-0123456789"
)

func withIntrospection() envOption {
	return withConfig(func(c *oauthproxy.Config) {
		c.IntrospectionCredentials = map[string]string{rsID: rsSecret}
	})
}

func rsCreds() oauthproxy.ClientCredentials {
	return oauthproxy.ClientCredentials{ClientID: rsID, ClientSecret: rsSecret, Method: oauthproxy.AuthMethodClientSecretBasic}
}

// introspect asks as the resource server.
func (d *direct) introspect(token, hint string) *oauthproxy.Introspection {
	d.t.Helper()
	in, err := d.p.IntrospectToken(d.ctx, &oauthproxy.IntrospectionRequest{Token: token, TokenTypeHint: hint, Client: rsCreds()})
	require.NoError(d.t, err)
	return in
}

// A resource server sees an active access token's claims, the members RFC
// 7662 §2.2 names, and they agree with what the bearer check reads.
func TestIntrospect_ActiveAccessToken(t *testing.T) {
	d := newDirect(t, withIntrospection())
	c := d.register("none")
	tok := d.tokens(c)
	claims, err := d.p.VerifyAccessToken(d.ctx, tok.AccessToken)
	require.NoError(t, err)

	in := d.introspect(tok.AccessToken, "")
	assert.Equal(t, &oauthproxy.Introspection{
		Active:    true,
		Scope:     tok.Scope,
		ClientID:  c.ClientID,
		TokenType: "Bearer",
		ExpiresAt: claims.ExpiresAt.Unix(),
		IssuedAt:  claims.IssuedAt.Unix(),
		Subject:   claims.Subject,
		Audience:  directBaseURL + "/mcp",
		Issuer:    directBaseURL,
		TokenID:   claims.TokenID,
	}, in)
	assert.Equal(t, in, d.introspect(tok.AccessToken, "refresh_token"), "the hint only orders the lookups")
}

// Every token the bearer check would refuse is {active:false} and nothing
// more (RFC 7662 §2.2), and so is a refresh token shown to a resource server.
func TestIntrospect_InactiveTokens(t *testing.T) {
	d := newDirect(t, withIntrospection(), withConfig(func(c *oauthproxy.Config) { c.AccessTokenTTL = time.Minute }))
	c := d.register("none")
	other := newDirect(t, withConfig(func(c *oauthproxy.Config) { c.JWTSigningKey = []byte(strings.Repeat("x", 32)) }))

	cases := map[string]func() string{
		"malformed":     func() string { return "not-a-token" },
		"foreign":       func() string { return other.tokens(other.register("none")).AccessToken },
		"refresh token": func() string { return d.tokens(c).RefreshToken },
		"oversized":     func() string { return strings.Repeat("a", 17<<10) },
		"tampered":      func() string { return tamperJWT(d.tokens(c).AccessToken) },
		"expired": func() string {
			tok := d.tokens(c).AccessToken
			d.clock.Advance(time.Minute)
			return tok
		},
		"revoked": func() string {
			tok := d.tokens(c)
			require.NoError(t, d.p.RevokeToken(d.ctx, &oauthproxy.RevocationRequest{Token: tok.RefreshToken, Client: creds(c)}))
			return tok.AccessToken
		},
	}
	for name, token := range cases {
		t.Run(name, func(t *testing.T) {
			tok := token()
			mark := d.store.mark()
			assert.Equal(t, &oauthproxy.Introspection{}, d.introspect(tok, ""))
			b, _ := json.Marshal(d.introspect(tok, "refresh_token"))
			assert.JSONEq(t, `{"active":false}`, string(b))
			d.store.unchanged(t, mark, "introspection changes nothing")
		})
	}
}

// tamperJWT changes one character inside a JWT's signature.
func tamperJWT(jwt string) string {
	i := strings.LastIndex(jwt, ".") + 5
	c := "A"
	if jwt[i] == 'A' {
		c = "B"
	}
	return jwt[:i] + c + jwt[i+1:]
}

// A confidential client sees its own access and refresh tokens, never
// another client's, and a rotated refresh token is inactive.
func TestIntrospect_ConfidentialClientSeesOnlyItsOwnTokens(t *testing.T) {
	d := newDirect(t)
	a, b := d.register("client_secret_basic"), d.register("client_secret_post")
	ta, tb := d.tokens(a), d.tokens(b)
	ask := func(c *oauthproxy.ClientInformation, token, hint string) *oauthproxy.Introspection {
		in, err := d.p.IntrospectToken(d.ctx, &oauthproxy.IntrospectionRequest{Token: token, TokenTypeHint: hint, Client: creds(c)})
		require.NoError(t, err)
		return in
	}
	assert.True(t, ask(a, ta.AccessToken, "").Active)
	assert.False(t, ask(a, tb.AccessToken, "").Active, "another client's access token")
	assert.False(t, ask(b, ta.RefreshToken, "refresh_token").Active, "another client's refresh token")

	in := ask(a, ta.RefreshToken, "refresh_token")
	require.True(t, in.Active)
	assert.Equal(t, a.ClientID, in.ClientID)
	assert.Equal(t, "user-1", in.Subject)
	assert.Empty(t, in.TokenType, "token_type names access token types only")
	assert.Equal(t, d.clock.Now().Add(oauthproxy.DefaultRefreshTokenTTL).Unix(), in.ExpiresAt)

	_, err := d.refresh(a, ta.RefreshToken)
	require.NoError(t, err)
	assert.False(t, ask(a, ta.RefreshToken, "refresh_token").Active, "a rotated refresh token")
}

// TestSecurity_S03_IntrospectionAuthenticatesTheCaller: RFC 7662 §2.1 wants
// the caller authenticated. Public clients, unknown ids, wrong secrets (of
// resource servers and of clients) are invalid_client 401, and nothing is
// looked up or stored.
func TestSecurity_S03_IntrospectionAuthenticatesTheCaller(t *testing.T) {
	d := newDirect(t, withIntrospection())
	public, confidential := d.register("none"), d.register("client_secret_basic")
	tok := d.tokens(public).AccessToken
	cases := map[string]oauthproxy.ClientCredentials{
		"public client":       creds(public),
		"no credentials":      {Method: oauthproxy.AuthMethodNone},
		"unknown id":          {ClientID: "nobody", ClientSecret: rsSecret, Method: oauthproxy.AuthMethodClientSecretBasic},
		"wrong rs secret":     {ClientID: rsID, ClientSecret: rsSecret + "x", Method: oauthproxy.AuthMethodClientSecretBasic},
		"rs secret prefix":    {ClientID: rsID, ClientSecret: rsSecret[:len(rsSecret)-1], Method: oauthproxy.AuthMethodClientSecretPost},
		"rs without secret":   {ClientID: rsID, Method: oauthproxy.AuthMethodNone},
		"wrong client secret": {ClientID: confidential.ClientID, ClientSecret: "wrong", Method: oauthproxy.AuthMethodClientSecretBasic},
	}
	for name, cred := range cases {
		t.Run(name, func(t *testing.T) {
			mark := d.store.mark()
			_, err := d.p.IntrospectToken(d.ctx, &oauthproxy.IntrospectionRequest{Token: tok, Client: cred})
			oe := oauthErr(t, err)
			assert.Equal(t, oauthproxy.ErrCodeInvalidClient, oe.Code)
			assert.Equal(t, http.StatusUnauthorized, oe.Status)
			d.store.unchanged(t, mark)
		})
	}
	_, err := d.p.IntrospectToken(d.ctx, &oauthproxy.IntrospectionRequest{Client: rsCreds()})
	assert.Equal(t, oauthproxy.ErrCodeInvalidRequest, oauthErr(t, err).Code, "token is required")
}

// TestSecurity_S11_IntrospectionNeverShowsUpstreamTokens: what introspection
// says about a token holds no upstream token, over HTTP, with no-store.
func TestSecurity_S11_IntrospectionNeverShowsUpstreamTokens(t *testing.T) {
	e := newEnv(t, withIntrospection())
	c := e.register("client_secret_basic")
	code, verifier := e.code(c)
	tok := e.exchange(c, code, verifier)
	require.Equal(t, http.StatusOK, tok.Status)
	up, err := e.proxy.LoadUpstreamTokens(t.Context(), tok.str("access_token"))
	require.NoError(t, err)

	for _, caller := range []registered{c, {ID: rsID, Secret: rsSecret, AuthMethod: "client_secret_post"}} {
		res := postToken(t, http.DefaultClient, e.srv.URL+"/oauth/introspect", caller, url.Values{"token": {tok.str("access_token")}})
		require.Equal(t, http.StatusOK, res.Status)
		assert.Equal(t, true, res.Body["active"])
		assert.Equal(t, "no-store", res.Header.Get("Cache-Control"))
		raw, _ := json.Marshal(res.Body)
		for _, secret := range []string{up.AccessToken, up.RefreshToken, up.IDToken} {
			if secret != "" {
				assert.NotContains(t, string(raw), secret)
			}
		}
	}
}

// Over HTTP: the metadata names the endpoint, a bad caller gets the RFC 6749
// §5.2 JSON error with 401 (and a Basic challenge after Basic), no-store.
func TestIntrospect_HTTP(t *testing.T) {
	e := newEnv(t, withIntrospection())
	var meta oauthproxy.AuthorizationServerMetadata
	resp, err := http.Get(e.srv.URL + "/.well-known/oauth-authorization-server")
	require.NoError(t, err)
	require.NoError(t, json.NewDecoder(resp.Body).Decode(&meta))
	resp.Body.Close()
	assert.Equal(t, e.srv.URL+"/oauth/introspect", meta.IntrospectionEndpoint)
	assert.Equal(t, []string{"client_secret_basic", "client_secret_post"}, meta.IntrospectionEndpointAuthMethodsSupported)
	assert.Empty(t, meta.JWKSURI, "HS256 tokens: no public keys to publish")

	bad := registered{ID: rsID, Secret: "wrong-secret-0123456789", AuthMethod: "client_secret_basic"}
	res := postToken(t, http.DefaultClient, meta.IntrospectionEndpoint, bad, url.Values{"token": {"x"}})
	assert.Equal(t, http.StatusUnauthorized, res.Status)
	assert.Equal(t, "invalid_client", res.str("error"))
	assert.Equal(t, "no-store", res.Header.Get("Cache-Control"))
	assert.Contains(t, res.Header.Get("WWW-Authenticate"), "Basic")

	good := registered{ID: rsID, Secret: rsSecret, AuthMethod: "client_secret_basic"}
	res = postToken(t, http.DefaultClient, meta.IntrospectionEndpoint, good, url.Values{"token": {"x"}})
	assert.Equal(t, http.StatusOK, res.Status)
	assert.Equal(t, map[string]any{"active": false}, res.Body)
	assert.Equal(t, "no-store", res.Header.Get("Cache-Control"))

	res = postToken(t, http.DefaultClient, meta.IntrospectionEndpoint, good, url.Values{"token": {"x"}, "token_type_hint": {"a", "b"}})
	assert.Equal(t, http.StatusBadRequest, res.Status, "a repeated parameter")
	assert.Equal(t, "invalid_request", res.str("error"))
}

func TestIntrospect_ConfigValidation(t *testing.T) {
	for name, creds := range map[string]map[string]string{
		"short secret":  {"rs": "short"},
		"empty id":      {"": rsSecret},
		"id with space": {"a b": rsSecret},
	} {
		t.Run(name, func(t *testing.T) {
			cfg, _ := testSetup(withConfig(func(c *oauthproxy.Config) { c.IntrospectionCredentials = creds }))
			cfg.BaseURL, cfg.UpstreamAuthorizationEndpoint, cfg.UpstreamTokenEndpoint = directBaseURL, directBaseURL+"/a", directBaseURL+"/t"
			_, err := oauthproxy.New(cfg)
			require.ErrorContains(t, err, "IntrospectionCredentials")
			assert.NotContains(t, err.Error(), rsSecret, "secrets are never echoed")
		})
	}
}

// newES256Key is a fresh P-256 key for AccessTokenSigningKeys.
func newES256Key(t testing.TB) *ecdsa.PrivateKey {
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	require.NoError(t, err)
	return k
}
