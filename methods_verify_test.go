package oauthproxy_test

// LoadUpstreamTokens and VerifyAccessToken called directly, without HTTP.

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/oauthproxy-go/oauthproxy"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// ---------------------------------------------------------------------------
// LoadUpstreamTokens and VerifyAccessToken

func TestMethods_LoadUpstreamTokens(t *testing.T) {
	d := newDirect(t)
	c := d.register("none")
	tok := d.tokens(c)

	up, err := d.p.LoadUpstreamTokens(d.ctx, tok.AccessToken)
	require.NoError(t, err)
	require.NotEmpty(t, up.AccessToken)
	assert.NotEqual(t, tok.AccessToken, up.AccessToken, "the upstream's token, not the proxy's (S11)")
	assert.NotEmpty(t, up.RefreshToken)
	assert.NotEmpty(t, up.IDToken)
	assert.Equal(t, "Bearer", up.TokenType)
	assert.Equal(t, "openid email", up.Scope)
	assert.WithinDuration(t, d.clock.Now().Add(time.Hour), up.Expiry, time.Second)

	// It is the token the upstream issued: its userinfo endpoint accepts it.
	req, _ := http.NewRequest(http.MethodGet, d.idp.UserInfoEndpoint(), nil)
	req.Header.Set("Authorization", "Bearer "+up.AccessToken)
	resp, err := ownHTTPClient(t).Do(req)
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, http.StatusOK, resp.StatusCode)

	other := newDirect(t, withConfig(func(c *oauthproxy.Config) { c.JWTSigningKey = []byte(strings.Repeat("k", 32)) }))
	otherTok := other.tokens(other.register("none"))

	for _, bad := range []struct{ name, token string }{
		{"empty", ""},
		{"garbage", "garbage"},
		{"three dots", "a.b.c"},
		{"the refresh token", tok.RefreshToken},
		{"the upstream access token", up.AccessToken},
		{"the upstream id_token", up.IDToken},
		{"tampered", tamper(tok.AccessToken)},
		{"another proxy's token", otherTok.AccessToken},
	} {
		t.Run(bad.name, func(t *testing.T) {
			got, err := d.p.LoadUpstreamTokens(d.ctx, bad.token)
			assert.Nil(t, got)
			assert.ErrorIs(t, err, oauthproxy.ErrInvalidToken)
		})
	}

	t.Run("revoked grant", func(t *testing.T) {
		tok := d.tokens(c)
		require.Positive(t, d.store.dropPrefix(t, "grant:"))
		_, err := d.p.LoadUpstreamTokens(d.ctx, tok.AccessToken)
		assert.ErrorIs(t, err, oauthproxy.ErrTokenRevoked)
	})
	t.Run("expired", func(t *testing.T) {
		d.clock.Advance(time.Hour)
		_, err := d.p.LoadUpstreamTokens(d.ctx, tok.AccessToken)
		assert.ErrorIs(t, err, oauthproxy.ErrTokenExpired)
	})
}

// tamper changes one character in the middle of a JWT's signature.
func tamper(jwt string) string {
	i := strings.LastIndex(jwt, ".") + 10
	b := []byte(jwt)
	if b[i] == 'A' {
		b[i] = 'B'
	} else {
		b[i] = 'A'
	}
	return string(b)
}

func TestMethods_VerifyAccessToken(t *testing.T) {
	d := newDirect(t)
	c := d.register("none")
	issuedAt := d.clock.Now()
	tok := d.tokens(c)

	claims, err := d.p.VerifyAccessToken(d.ctx, tok.AccessToken)
	require.NoError(t, err)
	assert.Equal(t, "user-1", claims.Subject)
	assert.Equal(t, c.ClientID, claims.ClientID)
	assert.Equal(t, []string{"openid", "email"}, claims.Scopes)
	assert.Equal(t, directBaseURL+"/mcp", claims.Audience)
	assert.Equal(t, issuedAt.Add(time.Hour), claims.ExpiresAt)
	assert.Equal(t, issuedAt, claims.IssuedAt)
	assert.NotEmpty(t, claims.TokenID)
	assert.NotEmpty(t, claims.GrantID)
	assert.Equal(t, "user@example.com", claims.Extra["email"], "profile claims from the id_token")
	assert.Equal(t, "Test User", claims.Extra["name"])

	// Same keys and issuer, another resource: the audience does not match (S10).
	elsewhere := newDirect(t, withConfig(func(cfg *oauthproxy.Config) { cfg.Resource = "https://other.example/mcp" }))
	_, err = elsewhere.p.VerifyAccessToken(d.ctx, tok.AccessToken)
	assert.ErrorIs(t, err, oauthproxy.ErrInvalidToken)

	for _, bad := range []string{"", "garbage", tok.RefreshToken, tamper(tok.AccessToken)} {
		_, err := d.p.VerifyAccessToken(d.ctx, bad)
		assert.ErrorIs(t, err, oauthproxy.ErrInvalidToken, "%q", bad)
	}

	d.clock.Advance(time.Hour - time.Second)
	_, err = d.p.VerifyAccessToken(d.ctx, tok.AccessToken)
	require.NoError(t, err, "valid until exp")
	d.clock.Advance(time.Second)
	_, err = d.p.VerifyAccessToken(d.ctx, tok.AccessToken)
	assert.ErrorIs(t, err, oauthproxy.ErrTokenExpired)
	assert.NotErrorIs(t, err, oauthproxy.ErrInvalidToken)
}
