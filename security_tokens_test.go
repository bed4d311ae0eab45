package oauthproxy_test

// Security tests for S06-S07: refresh token binding and scope, token types and JWT verification.

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"encoding/base64"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/oauthproxy-go/oauthproxy"
	opcrypto "github.com/oauthproxy-go/oauthproxy/crypto"
	"github.com/oauthproxy-go/oauthproxy/storage"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// ---------------------------------------------------------------------------
// S06 refresh tokens (foundation part)

func TestSecurity_S06_ConcurrentRefreshSucceedsOnce(t *testing.T) {
	for _, method := range []string{"none", "client_secret_basic"} {
		t.Run(method, func(t *testing.T) {
			e := newEnv(t)
			c := e.register(method)
			tok := e.secTokens(c)
			form, id, secret := secAuthForm(c, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {tok.str("refresh_token")}})
			results, errs := secRace(20, func() (tokenResult, error) { return secToken(e.srv.URL, form, id, secret) })
			var winners []tokenResult
			for i, r := range results {
				require.NoError(t, errs[i])
				if r.Status == http.StatusOK {
					winners = append(winners, r)
					continue
				}
				assert.Equal(t, http.StatusBadRequest, r.Status)
				assert.Equal(t, "invalid_grant", r.str("error"))
			}
			require.Len(t, winners, 1, "exactly one concurrent refresh succeeds")
		})
	}
}

func TestSecurity_S06_RefreshTokenIsBoundToClient(t *testing.T) {
	store := newRecordingStore(storage.NewMemory())
	e := newEnv(t, withSecStore(store))
	owner := e.register("client_secret_post")
	tok := e.secTokens(owner)
	for _, thief := range []registered{e.register("none"), e.register("client_secret_basic"), e.register("client_secret_post")} {
		mark := store.mark()
		res := e.refresh(thief, tok.str("refresh_token"))
		assert.Equal(t, http.StatusBadRequest, res.Status, thief.AuthMethod)
		assert.Equal(t, "invalid_grant", res.str("error"))
		assert.Empty(t, res.str("access_token"))
		assert.Empty(t, store.changedSince(mark), "another client's attempt leaves the refresh token in place")
	}
	res := e.refresh(owner, tok.str("refresh_token"))
	assert.Equal(t, http.StatusOK, res.Status, "the owner can still refresh: %v", res.Body)
}

func TestSecurity_S06_RefreshMayOnlyNarrowScope(t *testing.T) {
	store := newRecordingStore(storage.NewMemory())
	e := newEnv(t, withSecStore(store))
	c := e.register("none")
	tok := e.secTokens(c) // scope "openid email"
	require.Equal(t, "openid email", tok.str("scope"))
	rt := tok.str("refresh_token")

	for _, scope := range []string{"openid email profile", "profile", "admin", "openid admin"} {
		mark := store.mark()
		res := e.token(c, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {rt}, "scope": {scope}})
		assert.Equal(t, http.StatusBadRequest, res.Status, scope)
		assert.Equal(t, "invalid_scope", res.str("error"), scope)
		assert.Empty(t, res.str("access_token"))
		assert.Empty(t, store.changedSince(mark), "a refused refresh leaves the token in place")
	}

	res := e.token(c, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {rt}, "scope": {"openid"}})
	require.Equal(t, http.StatusOK, res.Status, "narrowing works: %v", res.Body)
	assert.Equal(t, "openid", res.str("scope"))
	assert.Equal(t, "openid", secClaims(t, res.str("access_token"))["scope"])
	resp, claims := e.callMCP(res.str("access_token"))
	require.Equal(t, http.StatusOK, resp.StatusCode)
	assert.Equal(t, []any{"openid"}, claims["Scopes"], "the new access token carries only the narrowed scope")
}

// ---------------------------------------------------------------------------
// S07 token types and JWT verification

func TestSecurity_S07_RefreshTokenIsNotABearerToken(t *testing.T) {
	e := newEnv(t)
	c := e.register("none")
	tok := e.secTokens(c)
	resp, _ := e.callMCP(tok.str("refresh_token"))
	assert.Equal(t, http.StatusUnauthorized, resp.StatusCode)
	assert.Contains(t, resp.Header.Get("WWW-Authenticate"), `error="invalid_token"`)
	_, err := e.proxy.LoadUpstreamTokens(context.Background(), tok.str("refresh_token"))
	assert.ErrorIs(t, err, oauthproxy.ErrInvalidToken)

	// The access token still works: the refused call changed nothing.
	resp, _ = e.callMCP(tok.str("access_token"))
	assert.Equal(t, http.StatusOK, resp.StatusCode)
}

func TestSecurity_S07_AccessTokenIsNotARefreshToken(t *testing.T) {
	e := newEnv(t)
	c := e.register("none")
	tok := e.secTokens(c)
	res := e.refresh(c, tok.str("access_token"))
	assert.Equal(t, http.StatusBadRequest, res.Status)
	assert.Equal(t, "invalid_grant", res.str("error"))
	assert.Empty(t, res.str("access_token"))
	assert.Equal(t, http.StatusOK, e.refresh(c, tok.str("refresh_token")).Status)
}

func TestSecurity_S07_JWTVerificationIsStrict(t *testing.T) {
	clk := newSecClock()
	e := newEnv(t, withSecClock(clk))
	c := e.register("none")
	tok := e.secTokens(c)
	issued := secClaims(t, tok.str("access_token"))
	require.NotEmpty(t, issued["gid"])
	now := clk.Now()
	otherKey := []byte(strings.Repeat("k", 32))
	rsaKey, err := rsa.GenerateKey(rand.Reader, 2048)
	require.NoError(t, err)

	valid := func() jwt.MapClaims {
		return jwt.MapClaims{
			"iss":       e.srv.URL,
			"aud":       e.srv.URL + "/mcp",
			"sub":       issued["sub"],
			"client_id": issued["client_id"],
			"gid":       issued["gid"],
			"scope":     "openid email",
			"jti":       "forged",
			"iat":       now.Unix(),
			"exp":       now.Add(time.Hour).Unix(),
		}
	}
	without := func(names ...string) jwt.MapClaims {
		m := valid()
		for _, n := range names {
			delete(m, n)
		}
		return m
	}
	with := func(name string, v any) jwt.MapClaims {
		m := valid()
		m[name] = v
		return m
	}

	// Sanity: a token forged with the real key and every claim right passes, so
	// each refusal below is caused by the one thing the case changes.
	good := secForgeJWT(t, jwt.SigningMethodHS256, secJWTKey, valid(), nil)
	resp, _ := e.callMCP(good)
	require.Equal(t, http.StatusOK, resp.StatusCode)
	_, err = e.proxy.LoadUpstreamTokens(context.Background(), good)
	require.NoError(t, err)

	parts := strings.Split(tok.str("access_token"), ".")
	payload, err := base64.RawURLEncoding.DecodeString(parts[1])
	require.NoError(t, err)
	altered := strings.Join([]string{parts[0],
		base64.RawURLEncoding.EncodeToString([]byte(strings.Replace(string(payload), `"openid email"`, `"openid email admin"`, 1))),
		parts[2]}, ".")

	for _, tc := range []struct {
		name    string
		token   string
		wantErr error
	}{
		{"alg none", secForgeJWT(t, jwt.SigningMethodNone, jwt.UnsafeAllowNoneSignatureType, valid(), nil), oauthproxy.ErrInvalidToken},
		{"alg none with the HS256 header", strings.Join(strings.Split(good, ".")[:2], ".") + ".", oauthproxy.ErrInvalidToken},
		{"HS256 with another key", secForgeJWT(t, jwt.SigningMethodHS256, otherKey, valid(), nil), oauthproxy.ErrInvalidToken},
		{"HS256 with another key and its kid", secForgeJWT(t, jwt.SigningMethodHS256, otherKey, valid(), map[string]any{"kid": opcrypto.KeyID(otherKey)}), oauthproxy.ErrInvalidToken},
		{"RS256 (algorithm confusion)", secForgeJWT(t, jwt.SigningMethodRS256, rsaKey, valid(), nil), oauthproxy.ErrInvalidToken},
		{"HS384 with the right key", secForgeJWT(t, jwt.SigningMethodHS384, secJWTKey, valid(), nil), oauthproxy.ErrInvalidToken},
		{"HS512 with the right key", secForgeJWT(t, jwt.SigningMethodHS512, secJWTKey, valid(), nil), oauthproxy.ErrInvalidToken},
		{"typ JWT", secForgeJWT(t, jwt.SigningMethodHS256, secJWTKey, valid(), map[string]any{"typ": "JWT"}), oauthproxy.ErrInvalidToken},
		{"typ missing", secForgeJWT(t, jwt.SigningMethodHS256, secJWTKey, valid(), map[string]any{"typ": nil}), oauthproxy.ErrInvalidToken},
		{"crit header", secForgeJWT(t, jwt.SigningMethodHS256, secJWTKey, valid(), map[string]any{"crit": []string{"exp"}}), oauthproxy.ErrInvalidToken},
		{"kid missing", secForgeJWT(t, jwt.SigningMethodHS256, secJWTKey, valid(), map[string]any{"kid": nil}), oauthproxy.ErrInvalidToken},
		{"wrong iss", secForgeJWT(t, jwt.SigningMethodHS256, secJWTKey, with("iss", "https://evil.example"), nil), oauthproxy.ErrInvalidToken},
		{"iss missing", secForgeJWT(t, jwt.SigningMethodHS256, secJWTKey, without("iss"), nil), oauthproxy.ErrInvalidToken},
		{"wrong aud", secForgeJWT(t, jwt.SigningMethodHS256, secJWTKey, with("aud", e.srv.URL+"/other"), nil), oauthproxy.ErrInvalidToken},
		{"aud with an extra resource", secForgeJWT(t, jwt.SigningMethodHS256, secJWTKey, with("aud", []string{e.srv.URL + "/mcp", "https://evil.example"}), nil), oauthproxy.ErrInvalidToken},
		{"aud missing", secForgeJWT(t, jwt.SigningMethodHS256, secJWTKey, without("aud"), nil), oauthproxy.ErrInvalidToken},
		{"expired", secForgeJWT(t, jwt.SigningMethodHS256, secJWTKey, with("exp", now.Add(-time.Second).Unix()), nil), oauthproxy.ErrTokenExpired},
		{"exp missing", secForgeJWT(t, jwt.SigningMethodHS256, secJWTKey, without("exp"), nil), oauthproxy.ErrInvalidToken},
		{"not yet valid", secForgeJWT(t, jwt.SigningMethodHS256, secJWTKey, with("nbf", now.Add(time.Hour).Unix()), nil), oauthproxy.ErrInvalidToken},
		{"client_id missing", secForgeJWT(t, jwt.SigningMethodHS256, secJWTKey, without("client_id"), nil), oauthproxy.ErrInvalidToken},
		{"gid missing", secForgeJWT(t, jwt.SigningMethodHS256, secJWTKey, without("gid"), nil), oauthproxy.ErrInvalidToken},
		{"payload altered", altered, oauthproxy.ErrInvalidToken},
		{"garbage", "not-a-jwt", oauthproxy.ErrInvalidToken},
	} {
		t.Run(tc.name, func(t *testing.T) {
			resp, _ := e.callMCP(tc.token)
			assert.Equal(t, http.StatusUnauthorized, resp.StatusCode)
			assert.Contains(t, resp.Header.Get("WWW-Authenticate"), `error="invalid_token"`)

			up, err := e.proxy.LoadUpstreamTokens(context.Background(), tc.token)
			assert.Nil(t, up)
			assert.ErrorIs(t, err, tc.wantErr)
		})
	}

	t.Run("real token after its TTL", func(t *testing.T) {
		clk.Advance(oauthproxy.DefaultAccessTokenTTL + time.Second)
		resp, _ := e.callMCP(tok.str("access_token"))
		assert.Equal(t, http.StatusUnauthorized, resp.StatusCode)
		assert.Contains(t, resp.Header.Get("WWW-Authenticate"), `error="invalid_token"`)
		_, err := e.proxy.LoadUpstreamTokens(context.Background(), tok.str("access_token"))
		assert.ErrorIs(t, err, oauthproxy.ErrTokenExpired)
	})
}
