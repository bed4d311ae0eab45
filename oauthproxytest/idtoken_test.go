package oauthproxytest_test

import (
	"crypto/rsa"
	"encoding/base64"
	"encoding/json"
	"math/big"
	"net/http"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/oauthproxy-go/oauthproxy/oauthproxytest"
)

// jwksKeys fetches the JWK Set and returns its RSA keys by kid.
func jwksKeys(t *testing.T, s *oauthproxytest.Server) map[string]*rsa.PublicKey {
	t.Helper()
	resp, body := get(t, newClient(t), s.JWKSURL())
	require.Equal(t, http.StatusOK, resp.StatusCode)
	var set struct {
		Keys []struct{ Kty, Alg, Use, Kid, N, E string }
	}
	require.NoError(t, json.Unmarshal([]byte(body), &set))
	keys := map[string]*rsa.PublicKey{}
	for _, k := range set.Keys {
		require.Equal(t, "RSA", k.Kty)
		require.Equal(t, "RS256", k.Alg)
		n, err := base64.RawURLEncoding.DecodeString(k.N)
		require.NoError(t, err)
		e, err := base64.RawURLEncoding.DecodeString(k.E)
		require.NoError(t, err)
		keys[k.Kid] = &rsa.PublicKey{N: new(big.Int).SetBytes(n), E: int(new(big.Int).SetBytes(e).Int64())}
	}
	return keys
}

// verifyIDToken checks the signature against the JWKS and the standard claims.
func verifyIDToken(t *testing.T, s *oauthproxytest.Server, raw string, now time.Time) jwt.MapClaims {
	t.Helper()
	keys := jwksKeys(t, s)
	claims := jwt.MapClaims{}
	_, err := jwt.ParseWithClaims(raw, claims, func(tok *jwt.Token) (any, error) {
		return keys[tok.Header["kid"].(string)], nil
	},
		jwt.WithValidMethods([]string{"RS256"}),
		jwt.WithIssuer(s.Issuer()),
		jwt.WithAudience(testClientID),
		jwt.WithExpirationRequired(),
		jwt.WithIssuedAt(),
		jwt.WithTimeFunc(func() time.Time { return now }),
	)
	require.NoError(t, err)
	return claims
}

func TestIDToken(t *testing.T) {
	clock := newFakeClock()
	s := newIdP(t, oauthproxytest.Options{IssueIDToken: true, Now: clock.Now})
	p := authParams()
	p.Set("scope", "openid email profile")
	p.Set("nonce", "n-0S6_WzA2Mj")
	res := exchange(t, s, authorizeCode(t, s, p), nil)
	require.Equal(t, http.StatusOK, res.status)
	require.NotEmpty(t, res.str("id_token"))

	claims := verifyIDToken(t, s, res.str("id_token"), clock.Now())
	assert.Equal(t, "user-1", claims["sub"])
	assert.Equal(t, "n-0S6_WzA2Mj", claims["nonce"])
	assert.Equal(t, "user@example.com", claims["email"])
	assert.Equal(t, "Test User", claims["name"])
	assert.EqualValues(t, clock.Now().Unix(), claims["iat"])
	assert.EqualValues(t, clock.Now().Add(time.Hour).Unix(), claims["exp"])

	// An id_token from a refresh keeps auth_time and drops the nonce (OIDC Core §12.2).
	clock.Advance(10 * time.Minute)
	refreshed := refresh(t, s, res.str("refresh_token"), nil)
	require.Equal(t, http.StatusOK, refreshed.status)
	rc := verifyIDToken(t, s, refreshed.str("id_token"), clock.Now())
	assert.NotContains(t, rc, "nonce")
	assert.Equal(t, claims["auth_time"], rc["auth_time"])

	// The token is expired for a verifier whose clock is past exp.
	_, err := jwt.Parse(res.str("id_token"), func(*jwt.Token) (any, error) {
		for _, k := range jwksKeys(t, s) {
			return k, nil
		}
		return nil, nil
	}, jwt.WithTimeFunc(func() time.Time { return clock.Now().Add(2 * time.Hour) }))
	assert.ErrorIs(t, err, jwt.ErrTokenExpired)
}

func TestIDTokenOnlyWithOpenIDScope(t *testing.T) {
	s := newIdP(t, oauthproxytest.Options{IssueIDToken: true})
	assert.NotContains(t, login(t, s, "email").body, "id_token")

	plain := newIdP(t, oauthproxytest.Options{})
	assert.NotContains(t, login(t, plain, "openid").body, "id_token")
}

func TestDiscovery(t *testing.T) {
	s := newIdP(t, oauthproxytest.Options{AuthMethod: oauthproxytest.AuthMethodPost})
	for _, path := range []string{"/.well-known/openid-configuration", "/.well-known/oauth-authorization-server"} {
		resp, body := get(t, newClient(t), s.URL()+path)
		require.Equal(t, http.StatusOK, resp.StatusCode)
		var doc map[string]any
		require.NoError(t, json.Unmarshal([]byte(body), &doc))
		assert.Equal(t, s.Issuer(), doc["issuer"])
		assert.Equal(t, s.AuthorizationEndpoint(), doc["authorization_endpoint"])
		assert.Equal(t, s.TokenEndpoint(), doc["token_endpoint"])
		assert.Equal(t, s.UserInfoEndpoint(), doc["userinfo_endpoint"])
		assert.Equal(t, s.JWKSURL(), doc["jwks_uri"])
		assert.Equal(t, []any{"S256"}, doc["code_challenge_methods_supported"])
		assert.Equal(t, []any{"client_secret_post"}, doc["token_endpoint_auth_methods_supported"])
	}
}
