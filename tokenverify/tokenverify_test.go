package tokenverify_test

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/modelcontextprotocol/go-sdk/auth"
	"github.com/oauthproxy-go/oauthproxy"
	"github.com/oauthproxy-go/oauthproxy/mcpauth"
	"github.com/oauthproxy-go/oauthproxy/tokenverify"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The verifier reads a real sign-in's token exactly as the proxy does.
func TestVerify_ReadsTheProxysClaims(t *testing.T) {
	w := newWorld(t)
	tok := w.signIn()
	want, err := w.proxy.VerifyAccessToken(t.Context(), tok.AccessToken)
	require.NoError(t, err)
	for _, introspect := range []bool{false, true} {
		got, err := w.verifier(introspect).Verify(t.Context(), tok.AccessToken)
		require.NoError(t, err)
		assert.Equal(t, want, got)
	}
}

// TestSecurity_S07_VerifierPinsES256AndTheProxysKeys: only ES256 tokens
// with typ at+jwt, signed by a key the proxy publishes, with exp; no alg
// none, no HS256 keyed with public material, no unknown kid.
func TestSecurity_S07_VerifierPinsES256AndTheProxysKeys(t *testing.T) {
	w := newWorld(t)
	v := w.verifier(false)
	kid := w.proxy.GetJSONWebKeySet().Keys[0].KeyID
	c := w.claims()
	good := forge(t, jwt.SigningMethodES256, w.key, c, map[string]any{"kid": kid})
	_, err := v.Verify(t.Context(), good)
	require.NoError(t, err, "the control: a well-formed token verifies")

	point, err := w.key.PublicKey.Bytes()
	require.NoError(t, err)
	noneTok := jwt.NewWithClaims(jwt.SigningMethodNone, c)
	noneTok.Header["typ"], noneTok.Header["kid"] = "at+jwt", kid
	none, err := noneTok.SignedString(jwt.UnsafeAllowNoneSignatureType)
	require.NoError(t, err)
	refused := map[string]string{
		"alg none":                   none,
		"HS256 keyed with the point": forge(t, jwt.SigningMethodHS256, point, c, map[string]any{"kid": kid}),
		"ES384 header":               forge(t, jwt.SigningMethodES256, w.key, c, map[string]any{"kid": kid, "alg": "ES384"}),
		"unknown kid":                forge(t, jwt.SigningMethodES256, w.key, c, map[string]any{"kid": "nope"}),
		"another key":                forge(t, jwt.SigningMethodES256, newKey(t), c, map[string]any{"kid": kid}),
		"typ JWT":                    forge(t, jwt.SigningMethodES256, w.key, c, map[string]any{"kid": kid, "typ": "JWT"}),
		"no typ":                     forge(t, jwt.SigningMethodES256, w.key, c, map[string]any{"kid": kid, "typ": nil}),
		"crit":                       forge(t, jwt.SigningMethodES256, w.key, c, map[string]any{"kid": kid, "crit": []string{"x"}}),
		"tampered":                   tamper(good),
		"no exp":                     forge(t, jwt.SigningMethodES256, w.key, with(c, "exp", nil), map[string]any{"kid": kid}),
		"no client_id":               forge(t, jwt.SigningMethodES256, w.key, with(c, "client_id", nil), map[string]any{"kid": kid}),
		"another issuer":             forge(t, jwt.SigningMethodES256, w.key, with(c, "iss", "http://127.0.0.1:1"), map[string]any{"kid": kid}),
		"oversized":                  strings.Repeat("a", 17<<10),
	}
	for name, tok := range refused {
		t.Run(name, func(t *testing.T) {
			_, err := v.Verify(t.Context(), tok)
			assert.ErrorIs(t, err, oauthproxy.ErrInvalidToken)
		})
	}
	// Forged kids fetch the keys at most once per MinRefetchInterval.
	assert.LessOrEqual(t, w.jwksFetches.Load(), int32(2), "one fetch, and at most one refetch for the unknown kids")
}

// TestSecurity_S10_VerifierChecksAudience: a token of the same proxy for
// another resource is refused; so is one past exp plus the leeway.
func TestSecurity_S10_VerifierChecksAudience(t *testing.T) {
	w := newWorld(t)
	v := w.verifier(false)
	kid := w.proxy.GetJSONWebKeySet().Keys[0].KeyID
	for _, aud := range []any{"http://127.0.0.1:9/other", []string{"http://127.0.0.1:9/other"}, nil} {
		_, err := v.Verify(t.Context(), forge(t, jwt.SigningMethodES256, w.key, with(w.claims(), "aud", aud), map[string]any{"kid": kid}))
		assert.ErrorIs(t, err, oauthproxy.ErrInvalidToken, "aud %v", aud)
	}
	tok := forge(t, jwt.SigningMethodES256, w.key, w.claims(), map[string]any{"kid": kid})
	w.clock.Advance(time.Minute + tokenverify.DefaultLeeway - time.Second)
	_, err := v.Verify(t.Context(), tok)
	require.NoError(t, err, "within the leeway")
	w.clock.Advance(2 * time.Second)
	_, err = v.Verify(t.Context(), tok)
	assert.ErrorIs(t, err, oauthproxy.ErrTokenExpired)
}

// TestSecurity_S16_VerifierChallenges: the same answers as the proxy's
// RequireBearer, naming this server's metadata, which Handler serves.
func TestSecurity_S16_VerifierChallenges(t *testing.T) {
	w := newWorld(t)
	v := w.verifier(false)
	tok := w.signIn().AccessToken
	h := v.RequireBearer(http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		c, ok := oauthproxy.ClaimsFromContext(r.Context())
		if ok {
			_, _ = rw.Write([]byte(c.Subject))
		}
	}), "tools")
	do := func(h http.Handler, token string) *httptest.ResponseRecorder {
		r := httptest.NewRequest(http.MethodPost, w.resource, nil)
		if token != "" {
			r.Header.Set("Authorization", "Bearer "+token)
		}
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, r)
		return rec
	}
	meta := `resource_metadata="http://127.0.0.1:9/.well-known/oauth-protected-resource/mcp"`

	rec := do(h, "")
	assert.Equal(t, http.StatusUnauthorized, rec.Code)
	assert.Equal(t, "Bearer "+meta, rec.Header().Get("WWW-Authenticate"))
	rec = do(h, "garbage")
	assert.Equal(t, http.StatusUnauthorized, rec.Code)
	assert.Contains(t, rec.Header().Get("WWW-Authenticate"), meta+`, error="invalid_token"`)
	rec = do(h, tok)
	assert.Equal(t, http.StatusOK, rec.Code)
	assert.Equal(t, "user-1", rec.Body.String())
	rec = do(v.RequireBearer(http.NotFoundHandler(), "admin"), tok)
	assert.Equal(t, http.StatusForbidden, rec.Code)
	assert.Contains(t, rec.Header().Get("WWW-Authenticate"), `error="insufficient_scope", error_description="the access token lacks a required scope", scope="admin"`)

	// The proxy's RequireBearer says the same thing for the same cases.
	rec = do(w.proxy.RequireBearer(http.NotFoundHandler(), "admin"), tok)
	assert.Equal(t, http.StatusForbidden, rec.Code)
	assert.Contains(t, rec.Header().Get("WWW-Authenticate"), `error="insufficient_scope", error_description="the access token lacks a required scope", scope="admin"`)

	rec = httptest.NewRecorder()
	v.Handler().ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "http://127.0.0.1:9/.well-known/oauth-protected-resource/mcp", nil))
	require.Equal(t, http.StatusOK, rec.Code)
	var prm oauthproxy.ProtectedResourceMetadata
	require.NoError(t, json.Unmarshal(rec.Body.Bytes(), &prm))
	assert.Equal(t, w.resource, prm.Resource)
	assert.Equal(t, []string{w.srv.URL}, prm.AuthorizationServers)

	// The proxy unreachable before any key was fetched: 503, not 401.
	down := w.verifier(false, func(c *tokenverify.Config) { c.Issuer = "http://127.0.0.1:1" })
	rec = do(down.RequireBearer(http.NotFoundHandler()), tok)
	assert.Equal(t, http.StatusServiceUnavailable, rec.Code)
}

// Revocation on the proxy: with introspection the verifier refuses the
// token once its cached answer (IntrospectionCacheTTL) is over; with JWKS
// alone only when the token expires (AccessTokenTTL plus Leeway).
func TestVerify_RevocationBounds(t *testing.T) {
	w := newWorld(t)
	tok := w.signIn()
	jwksOnly, introspecting := w.verifier(false), w.verifier(true)
	for _, v := range []*tokenverify.Verifier{jwksOnly, introspecting} {
		_, err := v.Verify(t.Context(), tok.AccessToken)
		require.NoError(t, err)
	}
	w.revokeWith(tok.RefreshToken)

	_, err := introspecting.Verify(t.Context(), tok.AccessToken)
	require.NoError(t, err, "the active answer is remembered for IntrospectionCacheTTL")
	w.clock.Advance(tokenverify.DefaultIntrospectionCacheTTL)
	_, err = introspecting.Verify(t.Context(), tok.AccessToken)
	assert.ErrorIs(t, err, oauthproxy.ErrTokenRevoked)
	_, err = introspecting.Verify(t.Context(), tok.AccessToken)
	assert.ErrorIs(t, err, oauthproxy.ErrTokenRevoked, "a refusal is not cached")

	_, err = jwksOnly.Verify(t.Context(), tok.AccessToken)
	require.NoError(t, err, "JWKS alone cannot see a revocation")
	w.clock.Advance(time.Minute + tokenverify.DefaultLeeway - tokenverify.DefaultIntrospectionCacheTTL)
	_, err = jwksOnly.Verify(t.Context(), tok.AccessToken)
	assert.ErrorIs(t, err, oauthproxy.ErrTokenExpired, "refused by AccessTokenTTL plus Leeway")

	bad := w.verifier(true, func(c *tokenverify.Config) { c.IntrospectionClientSecret = "wrong-secret-0123456789" })
	fresh := w.signIn().AccessToken
	_, err = bad.Verify(t.Context(), fresh)
	require.Error(t, err)
	assert.False(t, errors.Is(err, oauthproxy.ErrInvalidToken), "bad credentials are the server's problem (503), not the token's: %v", err)
}

// A proxy restarted with a new key first: the verifier fetches the keys
// again for the unknown kid, once per MinRefetchInterval.
func TestVerify_RefetchesOnUnknownKid(t *testing.T) {
	w := newWorld(t)
	v := w.verifier(false)
	old := w.signIn().AccessToken
	_, err := v.Verify(t.Context(), old)
	require.NoError(t, err)
	require.EqualValues(t, 1, w.jwksFetches.Load())

	next := newKey(t)
	w.proxy = w.startProxy(w.idp, next, w.key)
	fresh := w.signIn().AccessToken
	_, err = v.Verify(t.Context(), fresh)
	assert.ErrorIs(t, err, oauthproxy.ErrInvalidToken, "within MinRefetchInterval of the last fetch the new kid is unknown")
	assert.EqualValues(t, 1, w.jwksFetches.Load())

	w.clock.Advance(tokenverify.DefaultMinRefetchInterval)
	_, err = v.Verify(t.Context(), fresh)
	require.NoError(t, err)
	_, err = v.Verify(t.Context(), old)
	require.NoError(t, err, "the old key is still in the ring")
	assert.EqualValues(t, 2, w.jwksFetches.Load())
}

// Oversized or foreign key documents are refused, so the server answers 503.
func TestVerify_BoundedKeyFetch(t *testing.T) {
	big := httptest.NewServer(http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		rw.Header().Set("Content-Type", "application/json")
		if strings.HasPrefix(r.URL.Path, "/.well-known/oauth-authorization-server") {
			_ = json.NewEncoder(rw).Encode(map[string]string{"issuer": "http://" + r.Host, "jwks_uri": "http://" + r.Host + "/jwks"})
			return
		}
		_, _ = rw.Write([]byte(`{"keys":[` + strings.Repeat(" ", 70<<10) + `]}`))
	}))
	defer big.Close()
	v, err := tokenverify.New(tokenverify.Config{Issuer: big.URL, Resource: "http://127.0.0.1:9/mcp"})
	require.NoError(t, err)
	_, err = v.Verify(context.Background(), forge(t, jwt.SigningMethodES256, newKey(t), jwt.MapClaims{"exp": 1}, map[string]any{"kid": "k"}))
	require.ErrorContains(t, err, "more than")
	assert.False(t, errors.Is(err, oauthproxy.ErrInvalidToken))

	// A server whose metadata names another issuer (RFC 8414 §3.3), however
	// good its keys, is not used.
	w := newWorld(t)
	impostor := httptest.NewServer(http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		if strings.HasPrefix(r.URL.Path, "/.well-known/oauth-authorization-server") {
			rw.Header().Set("Content-Type", "application/json")
			_ = json.NewEncoder(rw).Encode(map[string]string{"issuer": w.srv.URL, "jwks_uri": w.srv.URL + "/.well-known/jwks.json"})
			return
		}
		http.NotFound(rw, r)
	}))
	defer impostor.Close()
	foreign := w.verifier(false, func(c *tokenverify.Config) { c.Issuer = impostor.URL })
	_, err = foreign.Verify(t.Context(), w.signIn().AccessToken)
	require.ErrorContains(t, err, "names issuer")
	assert.False(t, errors.Is(err, oauthproxy.ErrInvalidToken))
}

// The go-sdk verifier hands tools the same claims as mcpauth does behind the
// proxy, and a refusal is auth.ErrInvalidToken (401).
func TestTokenVerifier_GoSDK(t *testing.T) {
	w := newWorld(t)
	tok := w.signIn().AccessToken
	verify := w.verifier(false).TokenVerifier()
	info, err := verify(t.Context(), tok, nil)
	require.NoError(t, err)
	c, ok := mcpauth.ClaimsFromTokenInfo(info)
	require.True(t, ok)
	assert.Equal(t, "user-1", c.Subject)
	assert.Equal(t, "user-1", info.UserID)
	_, err = verify(t.Context(), tamper(tok), nil)
	assert.ErrorIs(t, err, auth.ErrInvalidToken)
}

func TestNew_Validation(t *testing.T) {
	for name, cfg := range map[string]tokenverify.Config{
		"no issuer":         {Resource: "https://a.example/mcp"},
		"http issuer":       {Issuer: "http://auth.example", Resource: "https://a.example/mcp"},
		"no resource":       {Issuer: "https://auth.example"},
		"half credentials":  {Issuer: "https://auth.example", Resource: "https://a.example/mcp", IntrospectionClientID: "x"},
		"negative leeway":   {Issuer: "https://auth.example", Resource: "https://a.example/mcp", Leeway: -1},
		"issuer with query": {Issuer: "https://auth.example/?x=1", Resource: "https://a.example/mcp"},
	} {
		_, err := tokenverify.New(cfg)
		assert.Error(t, err, name)
	}
}
