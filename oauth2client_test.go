package oauthproxy_test

// The whole flow driven by golang.org/x/oauth2, the client most Go programs
// use: discovery of the endpoints, PKCE, the code exchange, authenticated
// calls and a refresh through a TokenSource.

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/oauth2"
)

func TestOAuth2Client(t *testing.T) {
	tests := []struct {
		name       string
		authMethod string
		style      oauth2.AuthStyle
	}{
		{"public client, credentials in params", "none", oauth2.AuthStyleInParams},
		{"confidential client, Basic", "client_secret_basic", oauth2.AuthStyleInHeader},
		{"confidential client, secret in body", "client_secret_post", oauth2.AuthStyleInParams},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t)
			hc := ownHTTPClient(t)
			ctx := context.WithValue(context.Background(), oauth2.HTTPClient, hc)

			md := e.proxy.GetAuthorizationServerMetadata()
			c := e.register(tt.authMethod)
			if tt.authMethod == "none" {
				require.Empty(t, c.Secret)
			} else {
				require.NotEmpty(t, c.Secret)
			}
			cfg := &oauth2.Config{
				ClientID:     c.ID,
				ClientSecret: c.Secret,
				Endpoint: oauth2.Endpoint{
					AuthURL:   md.AuthorizationEndpoint,
					TokenURL:  md.TokenEndpoint,
					AuthStyle: tt.style,
				},
				RedirectURL: clientRedirect,
				Scopes:      []string{"openid", "email"},
			}

			verifier := oauth2.GenerateVerifier()
			authURL := cfg.AuthCodeURL("oauth2-state", oauth2.S256ChallengeOption(verifier))
			loc, consent := walkBrowser(t, cookieBrowser(t), authURL, "approve")
			require.True(t, consent, "consent is on by default")
			q := loc.Query()
			require.Empty(t, q.Get("error"), q.Get("error_description"))
			assert.Equal(t, "oauth2-state", q.Get("state"))
			assert.Equal(t, e.srv.URL, q.Get("iss"))
			code := q.Get("code")
			require.NotEmpty(t, code)

			// A wrong verifier is refused with the RFC 6749 error, and costs nothing.
			_, err := cfg.Exchange(ctx, code, oauth2.VerifierOption(oauth2.GenerateVerifier()))
			var re *oauth2.RetrieveError
			require.True(t, errors.As(err, &re), "%v", err)
			assert.Equal(t, "invalid_grant", re.ErrorCode)
			assert.Equal(t, http.StatusBadRequest, re.Response.StatusCode)

			tok, err := cfg.Exchange(ctx, code, oauth2.VerifierOption(verifier))
			require.NoError(t, err)
			assert.Equal(t, "Bearer", tok.TokenType)
			assert.NotEmpty(t, tok.AccessToken)
			assert.NotEmpty(t, tok.RefreshToken)
			assert.Equal(t, int64(3600), tok.ExpiresIn)
			assert.WithinDuration(t, time.Now().Add(time.Hour), tok.Expiry, time.Minute)
			assert.Equal(t, "openid email", tok.Extra("scope"))
			assert.True(t, tok.Valid())

			claims := callWith(t, cfg.Client(ctx, tok), e.srv.URL+"/mcp")
			assert.Equal(t, "user-1", claims["Subject"])
			assert.Equal(t, c.ID, claims["ClientID"])

			// Force a refresh: the token source sees an expired token.
			stale := *tok
			stale.Expiry = time.Now().Add(-time.Minute)
			ts := cfg.TokenSource(ctx, &stale)
			fresh, err := ts.Token()
			require.NoError(t, err)
			assert.NotEqual(t, tok.AccessToken, fresh.AccessToken, "a new access token")
			assert.NotEqual(t, tok.RefreshToken, fresh.RefreshToken, "the refresh token rotated")
			assert.True(t, fresh.Valid())
			claims = callWith(t, oauth2.NewClient(ctx, ts), e.srv.URL+"/mcp")
			assert.Equal(t, "user-1", claims["Subject"])

			// The rotated refresh token is spent.
			_, err = cfg.TokenSource(ctx, &stale).Token()
			require.True(t, errors.As(err, &re), "%v", err)
			assert.Equal(t, "invalid_grant", re.ErrorCode)
		})
	}
}

func TestOAuth2Client_DeniedConsent(t *testing.T) {
	e := newEnv(t)
	c := e.register("none")
	cfg := &oauth2.Config{
		ClientID:    c.ID,
		Endpoint:    oauth2.Endpoint{AuthURL: e.srv.URL + "/oauth/authorize", TokenURL: e.srv.URL + "/oauth/token", AuthStyle: oauth2.AuthStyleInParams},
		RedirectURL: clientRedirect,
	}
	authURL := cfg.AuthCodeURL("st", oauth2.S256ChallengeOption(oauth2.GenerateVerifier()))
	loc, consent := walkBrowser(t, cookieBrowser(t), authURL, "deny")
	require.True(t, consent)
	assert.Equal(t, "access_denied", loc.Query().Get("error"))
	assert.Equal(t, "st", loc.Query().Get("state"))
	assert.Empty(t, loc.Query().Get("code"))
	assert.Zero(t, e.idp.Stats().Authorizations, "the upstream was never asked")
}

// callWith POSTs to the protected endpoint with client and returns the claims
// it echoes.
func callWith(t *testing.T, client *http.Client, endpoint string) map[string]any {
	t.Helper()
	resp, err := client.Post(endpoint, "application/json", nil)
	require.NoError(t, err)
	defer resp.Body.Close()
	require.Equal(t, http.StatusOK, resp.StatusCode)
	var claims map[string]any
	require.NoError(t, json.NewDecoder(resp.Body).Decode(&claims))
	return claims
}
