package oauthproxy_test

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/oauthproxy-go/oauthproxy"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func withES256(keys ...crypto.Signer) envOption {
	return withConfig(func(c *oauthproxy.Config) {
		c.JWTSigningKey = nil
		c.AccessTokenSigningKeys = keys
	})
}

// jwtHeader decodes a token's JOSE header.
func jwtHeader(t *testing.T, token string) map[string]any {
	t.Helper()
	seg, _, _ := strings.Cut(token, ".")
	b, err := base64.RawURLEncoding.DecodeString(seg)
	require.NoError(t, err)
	var h map[string]any
	require.NoError(t, json.Unmarshal(b, &h))
	return h
}

// With AccessTokenSigningKeys, tokens are ES256 with the first key's kid;
// the proxy, the JWKS it serves and an independent JOSE library all agree.
func TestES256_TokensVerifyWithThePublishedKeys(t *testing.T) {
	signing, older := newES256Key(t), newES256Key(t)
	e := newEnv(t, withES256(signing, older))
	c := e.register("none")
	code, verifier := e.code(c)
	tok := e.exchange(c, code, verifier).str("access_token")

	var meta oauthproxy.AuthorizationServerMetadata
	resp, err := http.Get(e.srv.URL + "/.well-known/oauth-authorization-server")
	require.NoError(t, err)
	require.NoError(t, json.NewDecoder(resp.Body).Decode(&meta))
	resp.Body.Close()
	require.Equal(t, e.srv.URL+"/.well-known/jwks.json", meta.JWKSURI)

	resp, err = http.Get(meta.JWKSURI)
	require.NoError(t, err)
	defer resp.Body.Close()
	require.Equal(t, http.StatusOK, resp.StatusCode)
	assert.Equal(t, "public, max-age=600", resp.Header.Get("Cache-Control"))
	var set oauthproxy.JSONWebKeySet
	require.NoError(t, json.NewDecoder(resp.Body).Decode(&set))
	require.Len(t, set.Keys, 2, "every key of the ring verifies")
	assert.Equal(t, e.proxy.GetJSONWebKeySet(), &set)

	h := jwtHeader(t, tok)
	assert.Equal(t, "ES256", h["alg"])
	assert.Equal(t, "at+jwt", h["typ"])
	assert.Equal(t, set.Keys[0].KeyID, h["kid"], "the first key signs")
	for i, k := range []*ecdsa.PrivateKey{signing, older} {
		jwk := set.Keys[i]
		assert.Equal(t, "EC", jwk.KeyType)
		assert.Equal(t, "P-256", jwk.Curve)
		assert.Equal(t, "ES256", jwk.Algorithm)
		point, err := k.PublicKey.Bytes()
		require.NoError(t, err)
		assert.Equal(t, base64.RawURLEncoding.EncodeToString(point[1:33]), jwk.X)
		assert.Equal(t, base64.RawURLEncoding.EncodeToString(point[33:]), jwk.Y)
	}

	// golang-jwt, on its own, with the published key.
	parsed, err := jwt.Parse(tok, func(*jwt.Token) (any, error) { return &signing.PublicKey, nil },
		jwt.WithValidMethods([]string{"ES256"}), jwt.WithIssuer(e.srv.URL), jwt.WithAudience(e.srv.URL+"/mcp"))
	require.NoError(t, err)
	assert.True(t, parsed.Valid)

	res, body := e.callMCP(tok)
	require.Equal(t, http.StatusOK, res.StatusCode)
	assert.Equal(t, c.ID, body["ClientID"])
}

// Rotation: a token of the old key still verifies once a new key signs, and
// the proxy's HS256 setting does not matter to an ES256 proxy.
func TestES256_RotationKeepsOldTokens(t *testing.T) {
	old, next := newES256Key(t), newES256Key(t)
	before := newDirect(t, withES256(old))
	tok := before.tokens(before.register("none")).AccessToken

	after := newDirect(t, withES256(next, old), withConfig(func(c *oauthproxy.Config) { c.TokenStorage = before.store }))
	_, err := after.p.VerifyAccessToken(after.ctx, tok)
	require.NoError(t, err, "the old key still verifies")
	fresh := after.tokens(after.register("none")).AccessToken
	assert.NotEqual(t, jwtHeader(t, tok)["kid"], jwtHeader(t, fresh)["kid"])
	_, err = before.p.VerifyAccessToken(before.ctx, fresh)
	assert.ErrorIs(t, err, oauthproxy.ErrInvalidToken, "a ring without the new key does not know its kid")
}

// es256Claims are claims the ES256 test proxy would accept.
func es256Claims(d *direct) jwt.MapClaims {
	now := d.clock.Now()
	return jwt.MapClaims{
		"iss": directBaseURL, "aud": directBaseURL + "/mcp", "sub": "user-1", "client_id": "c",
		"gid": "g", "jti": "j", "iat": now.Unix(), "exp": now.Add(time.Minute).Unix(),
	}
}

// forge signs claims with method and key, with header fields set (nil
// deletes one).
func forge(t *testing.T, method jwt.SigningMethod, key any, claims jwt.MapClaims, header map[string]any) string {
	t.Helper()
	tok := jwt.NewWithClaims(method, claims)
	tok.Header["typ"] = "at+jwt"
	for k, v := range header {
		if v == nil {
			delete(tok.Header, k)
		} else {
			tok.Header[k] = v
		}
	}
	s, err := tok.SignedString(key)
	require.NoError(t, err)
	return s
}

// TestSecurity_S07_AsymmetricAlgorithmIsPinned: an ES256 proxy accepts
// ES256 tokens of its ring only, with typ at+jwt: no HS256 (not even keyed
// with the public key, the classic confusion), no alg none, no unknown kid,
// no critical extension. An HS256 proxy refuses ES256 tokens.
func TestSecurity_S07_AsymmetricAlgorithmIsPinned(t *testing.T) {
	key := newES256Key(t)
	d := newDirect(t, withES256(key))
	kid := d.p.GetJSONWebKeySet().Keys[0].KeyID
	claims := es256Claims(d)

	good := forge(t, jwt.SigningMethodES256, key, claims, map[string]any{"kid": kid})
	_, err := d.p.VerifyAccessToken(d.ctx, good)
	require.NoError(t, err, "the control: a well-formed token of the ring verifies")

	pub, err := key.PublicKey.Bytes()
	require.NoError(t, err)
	jwkJSON, _ := json.Marshal(d.p.GetJSONWebKeySet().Keys[0])
	none := func() string {
		tok := jwt.NewWithClaims(jwt.SigningMethodNone, claims)
		tok.Header["typ"], tok.Header["kid"] = "at+jwt", kid
		s, err := tok.SignedString(jwt.UnsafeAllowNoneSignatureType)
		require.NoError(t, err)
		return s
	}
	refused := map[string]string{
		"alg none":                    none(),
		"HS256 keyed with the point":  forge(t, jwt.SigningMethodHS256, pub, claims, map[string]any{"kid": kid}),
		"HS256 keyed with the JWK":    forge(t, jwt.SigningMethodHS256, jwkJSON, claims, map[string]any{"kid": kid}),
		"HS256 of the HS256 default":  forge(t, jwt.SigningMethodHS256, testJWTKey, claims, map[string]any{"kid": kid}),
		"ES384 header":                forge(t, jwt.SigningMethodES256, key, claims, map[string]any{"kid": kid, "alg": "ES384"}),
		"unknown kid":                 forge(t, jwt.SigningMethodES256, key, claims, map[string]any{"kid": "other"}),
		"no kid":                      forge(t, jwt.SigningMethodES256, key, claims, nil),
		"another key, the ring's kid": forge(t, jwt.SigningMethodES256, newES256Key(t), claims, map[string]any{"kid": kid}),
		"typ JWT":                     forge(t, jwt.SigningMethodES256, key, claims, map[string]any{"kid": kid, "typ": "JWT"}),
		"crit":                        forge(t, jwt.SigningMethodES256, key, claims, map[string]any{"kid": kid, "crit": []string{"exp"}}),
		"tampered signature":          tamperJWT(good),
		"no exp":                      forge(t, jwt.SigningMethodES256, key, without(claims, "exp"), map[string]any{"kid": kid}),
		"another audience":            forge(t, jwt.SigningMethodES256, key, with(claims, "aud", "https://other.example/mcp"), map[string]any{"kid": kid}),
		"another issuer":              forge(t, jwt.SigningMethodES256, key, with(claims, "iss", "https://other.example"), map[string]any{"kid": kid}),
	}
	for name, tok := range refused {
		t.Run(name, func(t *testing.T) {
			_, err := d.p.VerifyAccessToken(d.ctx, tok)
			assert.ErrorIs(t, err, oauthproxy.ErrInvalidToken)
		})
	}

	hs := newDirect(t)
	_, err = hs.p.VerifyAccessToken(hs.ctx, good)
	assert.ErrorIs(t, err, oauthproxy.ErrInvalidToken, "an HS256 proxy refuses ES256 tokens")
	hsTok := hs.tokens(hs.register("none")).AccessToken
	_, err = d.p.VerifyAccessToken(d.ctx, hsTok)
	assert.ErrorIs(t, err, oauthproxy.ErrInvalidToken, "an ES256 proxy refuses the HS256 tokens of the same issuer")
}

func with(c jwt.MapClaims, k string, v any) jwt.MapClaims {
	out := jwt.MapClaims{}
	for name, val := range c {
		out[name] = val
	}
	out[k] = v
	return out
}

func without(c jwt.MapClaims, k string) jwt.MapClaims {
	out := with(c, k, nil)
	delete(out, k)
	return out
}

// New refuses keys that are not P-256 ECDSA, repeats, and a ring beside an
// HS256 key.
func TestES256_ConfigValidation(t *testing.T) {
	rsaKey, err := rsa.GenerateKey(rand.Reader, 2048)
	require.NoError(t, err)
	p384, err := ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	require.NoError(t, err)
	_, edKey, err := ed25519.GenerateKey(rand.Reader)
	require.NoError(t, err)
	k := newES256Key(t)
	cases := map[string]struct {
		keys []crypto.Signer
		hmac []byte
		want string
	}{
		"RSA":          {keys: []crypto.Signer{rsaKey}, want: "P-256"},
		"P-384":        {keys: []crypto.Signer{p384}, want: "P-256"},
		"Ed25519":      {keys: []crypto.Signer{edKey}, want: "P-256"},
		"nil":          {keys: []crypto.Signer{nil}, want: "nil"},
		"repeated":     {keys: []crypto.Signer{k, k}, want: "repeats"},
		"with JWT key": {keys: []crypto.Signer{k}, hmac: testJWTKey, want: "not both"},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			cfg, _ := testSetup(withConfig(func(c *oauthproxy.Config) {
				c.AccessTokenSigningKeys, c.JWTSigningKey = tc.keys, tc.hmac
			}))
			cfg.BaseURL, cfg.UpstreamAuthorizationEndpoint, cfg.UpstreamTokenEndpoint = directBaseURL, directBaseURL+"/a", directBaseURL+"/t"
			_, err := oauthproxy.New(cfg)
			require.ErrorContains(t, err, "AccessTokenSigningKeys")
			assert.ErrorContains(t, err, tc.want)
		})
	}
}
