package oauthproxy_test

// ExchangeAuthorizationCode and ExchangeRefreshToken called directly, without HTTP.

import (
	"strings"
	"testing"
	"time"

	"github.com/oauthproxy-go/oauthproxy"
	"github.com/oauthproxy-go/oauthproxy/internal/pkce"
	"github.com/oauthproxy-go/oauthproxy/oauthproxytest"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// ---------------------------------------------------------------------------
// ExchangeAuthorizationCode

func TestMethods_ExchangeAuthorizationCode(t *testing.T) {
	d := newDirect(t)
	c := d.register("client_secret_basic")
	code, verifier := d.login(c)
	mark := d.store.mark()
	tok, err := d.p.ExchangeAuthorizationCode(d.ctx, codeRequest(c, code, verifier))
	require.NoError(t, err)
	assert.Equal(t, "Bearer", tok.TokenType)
	assert.Equal(t, int64(3600), tok.ExpiresIn)
	assert.Equal(t, "openid email", tok.Scope)
	assert.NotEmpty(t, tok.RefreshToken)
	assert.Empty(t, tok.IDToken, "swap mode never passes the upstream id_token on")
	var took []string
	for _, op := range d.store.since(mark) {
		if op.Op == "take" {
			took = append(took, op.Key)
		}
	}
	require.Len(t, took, 1)
	assert.True(t, strings.HasPrefix(took[0], "code:"))

	claims, err := d.p.VerifyAccessToken(d.ctx, tok.AccessToken)
	require.NoError(t, err)
	assert.Equal(t, "user-1", claims.Subject)
	assert.Equal(t, c.ClientID, claims.ClientID)
	assert.Equal(t, directBaseURL+"/mcp", claims.Audience)
	assert.Equal(t, []string{"openid", "email"}, claims.Scopes)

	// Single use.
	_, err = d.p.ExchangeAuthorizationCode(d.ctx, codeRequest(c, code, verifier))
	assert.Equal(t, oauthproxy.ErrCodeInvalidGrant, oauthErr(t, err).Code)

	t.Run("client without refresh grant gets no refresh token", func(t *testing.T) {
		c := d.register("none", "authorization_code")
		tok := d.tokens(c)
		assert.Empty(t, tok.RefreshToken)
		assert.NotEmpty(t, tok.AccessToken)
	})
}

func TestMethods_ExchangeAuthorizationCode_Refused(t *testing.T) {
	d := newDirect(t)
	c := d.register("client_secret_basic")
	public := d.register("none")
	code, verifier := d.login(c)
	otherCode, _ := d.login(public)

	tests := []struct {
		name   string
		mutate func(*oauthproxy.TokenRequest)
		code   string
		status int
	}{
		{"wrong grant_type", func(r *oauthproxy.TokenRequest) { r.GrantType = "refresh_token" },
			oauthproxy.ErrCodeUnsupportedGrantType, 400},
		{"no client", func(r *oauthproxy.TokenRequest) { r.Client = oauthproxy.ClientCredentials{} },
			oauthproxy.ErrCodeInvalidClient, 401},
		{"unknown client", func(r *oauthproxy.TokenRequest) { r.Client.ClientID = "nobody" },
			oauthproxy.ErrCodeInvalidClient, 401},
		{"wrong secret", func(r *oauthproxy.TokenRequest) { r.Client.ClientSecret = "wrong" },
			oauthproxy.ErrCodeInvalidClient, 401},
		{"no secret", func(r *oauthproxy.TokenRequest) { r.Client.ClientSecret = "" },
			oauthproxy.ErrCodeInvalidClient, 401},
		{"other auth method than registered", func(r *oauthproxy.TokenRequest) { r.Client.Method = "client_secret_post" },
			oauthproxy.ErrCodeInvalidClient, 401},
		{"confidential client posing as public", func(r *oauthproxy.TokenRequest) {
			r.Client = oauthproxy.ClientCredentials{ClientID: c.ClientID, Method: "none"}
		}, oauthproxy.ErrCodeInvalidClient, 401},
		{"no code", func(r *oauthproxy.TokenRequest) { r.Code = "" },
			oauthproxy.ErrCodeInvalidRequest, 400},
		{"unknown code", func(r *oauthproxy.TokenRequest) { r.Code = "unknown" },
			oauthproxy.ErrCodeInvalidGrant, 400},
		{"no verifier", func(r *oauthproxy.TokenRequest) { r.CodeVerifier = "" },
			oauthproxy.ErrCodeInvalidRequest, 400},
		{"wrong verifier", func(r *oauthproxy.TokenRequest) { r.CodeVerifier = pkce.GenerateVerifier() },
			oauthproxy.ErrCodeInvalidGrant, 400},
		{"the challenge as verifier", func(r *oauthproxy.TokenRequest) { r.CodeVerifier = pkce.Challenge(verifier) },
			oauthproxy.ErrCodeInvalidGrant, 400},
		{"malformed verifier", func(r *oauthproxy.TokenRequest) { r.CodeVerifier = "short" },
			oauthproxy.ErrCodeInvalidGrant, 400},
		{"other redirect_uri", func(r *oauthproxy.TokenRequest) { r.RedirectURI = "http://127.0.0.1:9/other" },
			oauthproxy.ErrCodeInvalidGrant, 400},
		{"resource of another server", func(r *oauthproxy.TokenRequest) { r.Resource = "https://evil.example/mcp" },
			oauthproxy.ErrCodeInvalidTarget, 400},
		{"another client's code", func(r *oauthproxy.TokenRequest) { r.Code = otherCode },
			oauthproxy.ErrCodeInvalidGrant, 400},
		{"my code, another client", func(r *oauthproxy.TokenRequest) { r.Client = creds(public) },
			oauthproxy.ErrCodeInvalidGrant, 400},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req := codeRequest(c, code, verifier)
			tt.mutate(req)
			mark := d.store.mark()
			tok, err := d.p.ExchangeAuthorizationCode(d.ctx, req)
			assert.Nil(t, tok)
			oe := oauthErr(t, err)
			assert.Equal(t, tt.code, oe.Code, "%v", err)
			assert.Equal(t, tt.status, oe.Status)
			d.store.unchanged(t, mark, "a refused token request changes nothing")
		})
	}
	t.Run("Basic failure is flagged for WWW-Authenticate", func(t *testing.T) {
		req := codeRequest(c, code, verifier)
		req.Client.ClientSecret = "wrong"
		_, err := d.p.ExchangeAuthorizationCode(d.ctx, req)
		assert.True(t, oauthErr(t, err).BasicAuth)
	})

	// None of the refused requests consumed the code.
	tok, err := d.p.ExchangeAuthorizationCode(d.ctx, codeRequest(c, code, verifier))
	require.NoError(t, err)
	assert.NotEmpty(t, tok.AccessToken)
	// Nor the other client's.
	_, err = d.p.ExchangeAuthorizationCode(d.ctx, codeRequest(public, otherCode, "x"))
	assert.Equal(t, oauthproxy.ErrCodeInvalidGrant, oauthErr(t, err).Code)
}

func TestMethods_ExchangeAuthorizationCode_Expired(t *testing.T) {
	d := newDirect(t)
	c := d.register("none")
	code, verifier := d.login(c)
	d.clock.Advance(oauthproxy.DefaultAuthorizationCodeTTL)
	_, err := d.p.ExchangeAuthorizationCode(d.ctx, codeRequest(c, code, verifier))
	assert.Equal(t, oauthproxy.ErrCodeInvalidGrant, oauthErr(t, err).Code)
}

// ---------------------------------------------------------------------------
// ExchangeRefreshToken

func TestMethods_ExchangeRefreshToken(t *testing.T) {
	d := newDirect(t)
	c := d.register("client_secret_post")
	first := d.tokens(c)

	mark := d.store.mark()
	next, err := d.refresh(c, first.RefreshToken)
	require.NoError(t, err)
	assert.Equal(t, "Bearer", next.TokenType)
	assert.Equal(t, int64(3600), next.ExpiresIn)
	assert.Equal(t, "openid email", next.Scope)
	assert.NotEqual(t, first.RefreshToken, next.RefreshToken, "rotated")
	assert.NotEqual(t, first.AccessToken, next.AccessToken)
	took := 0
	for _, op := range d.store.since(mark) {
		if op.Op == "take" {
			took++
			assert.True(t, strings.HasPrefix(op.Key, "refresh:"))
		}
	}
	assert.Equal(t, 1, took)
	assert.Zero(t, d.idp.Stats().Refreshes, "the upstream token is fresh: no upstream call")

	claims, err := d.p.VerifyAccessToken(d.ctx, next.AccessToken)
	require.NoError(t, err)
	assert.Equal(t, "user-1", claims.Subject)
	assert.Equal(t, c.ClientID, claims.ClientID)

	// The old one is spent.
	_, err = d.refresh(c, first.RefreshToken)
	assert.Equal(t, oauthproxy.ErrCodeInvalidGrant, oauthErr(t, err).Code)

	t.Run("narrowed scope", func(t *testing.T) {
		tok := d.tokens(c)
		narrow, err := d.p.ExchangeRefreshToken(d.ctx, &oauthproxy.TokenRequest{
			RefreshToken: tok.RefreshToken, Scope: "email", Client: creds(c),
		})
		require.NoError(t, err, "an empty grant_type is allowed on the typed call")
		assert.Equal(t, "email", narrow.Scope)
		claims, err := d.p.VerifyAccessToken(d.ctx, narrow.AccessToken)
		require.NoError(t, err)
		assert.Equal(t, []string{"email"}, claims.Scopes)
	})
}

func TestMethods_ExchangeRefreshToken_Refused(t *testing.T) {
	d := newDirect(t)
	c := d.register("client_secret_basic")
	other := d.register("none")
	noRefresh := d.register("none", "authorization_code")
	tok := d.tokens(c)
	otherTok := d.tokens(other)

	base := func() *oauthproxy.TokenRequest {
		return &oauthproxy.TokenRequest{GrantType: "refresh_token", RefreshToken: tok.RefreshToken, Client: creds(c)}
	}
	tests := []struct {
		name   string
		mutate func(*oauthproxy.TokenRequest)
		code   string
		status int
	}{
		{"wrong grant_type", func(r *oauthproxy.TokenRequest) { r.GrantType = "authorization_code" },
			oauthproxy.ErrCodeUnsupportedGrantType, 400},
		{"wrong secret", func(r *oauthproxy.TokenRequest) { r.Client.ClientSecret = "wrong" },
			oauthproxy.ErrCodeInvalidClient, 401},
		{"no client", func(r *oauthproxy.TokenRequest) { r.Client = oauthproxy.ClientCredentials{} },
			oauthproxy.ErrCodeInvalidClient, 401},
		{"no refresh token", func(r *oauthproxy.TokenRequest) { r.RefreshToken = "" },
			oauthproxy.ErrCodeInvalidRequest, 400},
		{"unknown refresh token", func(r *oauthproxy.TokenRequest) { r.RefreshToken = "unknown" },
			oauthproxy.ErrCodeInvalidGrant, 400},
		{"access token as refresh token", func(r *oauthproxy.TokenRequest) { r.RefreshToken = tok.AccessToken },
			oauthproxy.ErrCodeInvalidGrant, 400},
		{"another client's refresh token", func(r *oauthproxy.TokenRequest) { r.RefreshToken = otherTok.RefreshToken },
			oauthproxy.ErrCodeInvalidGrant, 400},
		{"my refresh token, another client", func(r *oauthproxy.TokenRequest) { r.Client = creds(other) },
			oauthproxy.ErrCodeInvalidGrant, 400},
		{"client not registered for refresh", func(r *oauthproxy.TokenRequest) { r.Client = creds(noRefresh) },
			oauthproxy.ErrCodeUnauthorizedClient, 400},
		{"wider scope", func(r *oauthproxy.TokenRequest) { r.Scope = "openid email profile" },
			oauthproxy.ErrCodeInvalidScope, 400},
		{"scope outside Scopes", func(r *oauthproxy.TokenRequest) { r.Scope = "admin" },
			oauthproxy.ErrCodeInvalidScope, 400},
		{"malformed scope", func(r *oauthproxy.TokenRequest) { r.Scope = `open"id` },
			oauthproxy.ErrCodeInvalidScope, 400},
		{"resource of another server", func(r *oauthproxy.TokenRequest) { r.Resource = "https://evil.example/mcp" },
			oauthproxy.ErrCodeInvalidTarget, 400},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req := base()
			tt.mutate(req)
			mark := d.store.mark()
			resp, err := d.p.ExchangeRefreshToken(d.ctx, req)
			assert.Nil(t, resp)
			oe := oauthErr(t, err)
			assert.Equal(t, tt.code, oe.Code, "%v", err)
			assert.Equal(t, tt.status, oe.Status)
			d.store.unchanged(t, mark, "a refused refresh changes nothing")
		})
	}

	// The refresh tokens survived every refused attempt.
	_, err := d.p.ExchangeRefreshToken(d.ctx, base())
	require.NoError(t, err)
	_, err = d.refresh(other, otherTok.RefreshToken)
	require.NoError(t, err)

	t.Run("expired refresh token", func(t *testing.T) {
		d := newDirect(t, withConfig(func(c *oauthproxy.Config) { c.RefreshTokenTTL = 2 * time.Hour }))
		c := d.register("none")
		tok := d.tokens(c)
		d.clock.Advance(2*time.Hour - time.Second)
		next, err := d.refresh(c, tok.RefreshToken)
		require.NoError(t, err, "valid until RefreshTokenTTL")
		d.clock.Advance(2 * time.Hour)
		_, err = d.refresh(c, next.RefreshToken)
		assert.Equal(t, oauthproxy.ErrCodeInvalidGrant, oauthErr(t, err).Code)
	})
}

// Each refresh extends the grant's life to its new refresh token's, also
// when the upstream token is still fresh and the grant is saved as it was
// stored: a session used within every RefreshTokenTTL lives on, with the same
// identity and upstream tokens.
func TestExchangeRefreshToken_ExtendsGrantLife(t *testing.T) {
	d := newDirect(t, func(c *oauthproxy.Config, idp *oauthproxytest.Options) {
		c.RefreshTokenTTL = 2 * time.Hour
		idp.AccessTokenTTL = 24 * time.Hour // no upstream refresh on the way
	})
	c := d.register("none")
	tok := d.tokens(c)
	before, err := d.p.LoadUpstreamTokens(d.ctx, tok.AccessToken)
	require.NoError(t, err)
	for range 3 { // 4.5 hours in all, past the first refresh token's 2 hours
		d.clock.Advance(90 * time.Minute)
		tok, err = d.refresh(c, tok.RefreshToken)
		require.NoError(t, err, "the grant lives as long as its newest refresh token")
	}
	after, err := d.p.LoadUpstreamTokens(d.ctx, tok.AccessToken)
	require.NoError(t, err)
	assert.Equal(t, before, after, "the grant is saved unchanged")
}
