package oauthproxytest_test

import (
	"net/http"
	"net/url"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/oauthproxy-go/oauthproxy/oauthproxytest"
)

func TestAuthorizationCodeFlow(t *testing.T) {
	s := newIdP(t, oauthproxytest.Options{})

	q := authorize(t, s, authParams())
	assert.NotEmpty(t, q.Get("code"))
	assert.Equal(t, "st-123", q.Get("state"))
	assert.Equal(t, s.Issuer(), q.Get("iss"), "RFC 9207 iss parameter")

	res := exchange(t, s, q.Get("code"), nil)
	require.Equal(t, http.StatusOK, res.status, res.body)
	assert.Equal(t, "no-store", res.header.Get("Cache-Control"))
	assert.Equal(t, "Bearer", res.str("token_type"))
	assert.Equal(t, "read:user", res.str("scope"))
	assert.EqualValues(t, 3600, res.body["expires_in"])
	assert.NotEmpty(t, res.str("access_token"))
	assert.NotEmpty(t, res.str("refresh_token"))
	assert.NotContains(t, res.body, "id_token", "no id_token unless IssueIDToken and openid")

	resp, claims := userInfo(t, s, res.str("access_token"))
	require.Equal(t, http.StatusOK, resp.StatusCode)
	assert.Equal(t, "user-1", claims["sub"])
	assert.Equal(t, "testuser", claims["login"])

	assert.Equal(t, oauthproxytest.Stats{Authorizations: 1, CodeExchanges: 1, UserInfoRequests: 1}, s.Stats())
	assert.Equal(t, "code", s.LastAuthorizeQuery().Get("response_type"))
	assert.Equal(t, q.Get("code"), s.LastTokenRequest().Get("code"))
	assert.Equal(t, oauthproxytest.AuthMethodBasic, s.LastTokenAuthMethod())
}

func TestAuthorizeKeepsRedirectURIQuery(t *testing.T) {
	s := newIdP(t, oauthproxytest.Options{})
	p := authParams()
	p.Set("redirect_uri", "https://app.example/cb?tenant=a")
	resp, _ := get(t, newClient(t), s.AuthorizationEndpoint()+"?"+p.Encode())
	require.Equal(t, http.StatusFound, resp.StatusCode)
	loc, err := url.Parse(resp.Header.Get("Location"))
	require.NoError(t, err)
	assert.Equal(t, "app.example", loc.Host)
	assert.Equal(t, "a", loc.Query().Get("tenant"))
	assert.NotEmpty(t, loc.Query().Get("code"))
}

// Errors about the client or redirect URI are shown, never redirected (RFC 6749 §4.1.2.1).
func TestAuthorizeErrorPage(t *testing.T) {
	tests := map[string]func(url.Values){
		"unknown client":        func(p url.Values) { p.Set("client_id", "other") },
		"missing client":        func(p url.Values) { p.Del("client_id") },
		"missing redirect_uri":  func(p url.Values) { p.Del("redirect_uri") },
		"relative redirect_uri": func(p url.Values) { p.Set("redirect_uri", "/cb") },
		"fragment":              func(p url.Values) { p.Set("redirect_uri", testRedirect+"#x") },
		"repeated redirect_uri": func(p url.Values) { p.Add("redirect_uri", "http://evil.example/") },
	}
	s := newIdP(t, oauthproxytest.Options{})
	for name, mutate := range tests {
		t.Run(name, func(t *testing.T) {
			p := authParams()
			mutate(p)
			resp, body := get(t, newClient(t), s.AuthorizationEndpoint()+"?"+p.Encode())
			assert.Equal(t, http.StatusBadRequest, resp.StatusCode)
			assert.Empty(t, resp.Header.Get("Location"))
			assert.Contains(t, resp.Header.Get("Content-Type"), "text/html")
			assert.Contains(t, body, "Authorization error")
		})
	}
}

func TestAuthorizeErrorRedirect(t *testing.T) {
	_, challenge := pkcePair()
	tests := []struct {
		name   string
		opts   oauthproxytest.Options
		mutate func(url.Values)
		want   string
	}{
		{"token response type", oauthproxytest.Options{}, func(p url.Values) { p.Set("response_type", "token") }, "unsupported_response_type"},
		{"missing response type", oauthproxytest.Options{}, func(p url.Values) { p.Del("response_type") }, "invalid_request"},
		{"repeated scope", oauthproxytest.Options{}, func(p url.Values) { p.Add("scope", "x") }, "invalid_request"},
		{"bad scope characters", oauthproxytest.Options{}, func(p url.Values) { p.Set("scope", `a"b`) }, "invalid_scope"},
		{"PKCE required", oauthproxytest.Options{RequirePKCE: true}, func(url.Values) {}, "invalid_request"},
		{"plain PKCE", oauthproxytest.Options{RequirePKCE: true}, func(p url.Values) {
			p.Set("code_challenge", challenge)
			p.Set("code_challenge_method", "plain")
		}, "invalid_request"},
		{"method defaults to plain", oauthproxytest.Options{}, func(p url.Values) { p.Set("code_challenge", challenge) }, "invalid_request"},
		{"malformed challenge", oauthproxytest.Options{}, func(p url.Values) {
			p.Set("code_challenge", "short")
			p.Set("code_challenge_method", "S256")
		}, "invalid_request"},
		{"denied", oauthproxytest.Options{DenyAuthorization: true}, func(url.Values) {}, "access_denied"},
		{"prompt none with login page", oauthproxytest.Options{LoginPage: true}, func(p url.Values) { p.Set("prompt", "none") }, "login_required"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := newIdP(t, tt.opts)
			p := authParams()
			tt.mutate(p)
			q := authorize(t, s, p)
			assert.Equal(t, tt.want, q.Get("error"))
			assert.NotEmpty(t, q.Get("error_description"))
			assert.Equal(t, "st-123", q.Get("state"))
			assert.Empty(t, q.Get("code"))
			assert.Zero(t, s.Stats().Authorizations)
		})
	}
}

func TestAuthorizeRejectsPOST(t *testing.T) {
	s := newIdP(t, oauthproxytest.Options{})
	resp, err := newClient(t).PostForm(s.AuthorizationEndpoint(), authParams())
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, http.StatusMethodNotAllowed, resp.StatusCode)
}

func TestSetUser(t *testing.T) {
	s := newIdP(t, oauthproxytest.Options{})
	first := login(t, s, "")
	s.SetUser(oauthproxytest.User{Subject: "42", Name: "Second", Email: "two@example.com", Login: "second"})
	second := login(t, s, "")

	_, claims := userInfo(t, s, first.str("access_token"))
	assert.Equal(t, "user-1", claims["sub"])
	assert.Equal(t, "user-1", claims["id"])
	_, claims = userInfo(t, s, second.str("access_token"))
	assert.Equal(t, "42", claims["sub"])
	assert.EqualValues(t, 42, claims["id"], "numeric subjects give a numeric id, as GitHub's /user does")
	assert.Equal(t, "second", claims["login"])
}

func TestNewServerPanicsOnBadOptions(t *testing.T) {
	tests := map[string]oauthproxytest.Options{
		"no client id":     {ClientSecret: "x"},
		"no secret":        {ClientID: "x"},
		"unknown method":   {ClientID: "x", ClientSecret: "y", AuthMethod: "private_key_jwt"},
		"negative ttl":     {ClientID: "x", ClientSecret: "y", AccessTokenTTL: -1},
		"rotate plus omit": {ClientID: "x", ClientSecret: "y", RotateRefreshTokens: true, OmitRefreshTokenOnRefresh: true},
	}
	for name, opts := range tests {
		t.Run(name, func(t *testing.T) {
			assert.Panics(t, func() { oauthproxytest.NewServer(opts).Close() })
		})
	}
}
