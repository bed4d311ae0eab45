package oauthproxytest_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/oauthproxy-go/oauthproxy/oauthproxytest"
)

func TestPKCE(t *testing.T) {
	verifier, challenge := pkcePair()
	other, _ := pkcePair()
	tests := []struct {
		name      string
		challenge bool
		verifier  string
		wantError string
	}{
		{"matching verifier", true, verifier, ""},
		{"wrong verifier", true, other, "invalid_grant"},
		{"missing verifier", true, "", "invalid_grant"},
		{"malformed verifier", true, "short", "invalid_grant"},
		{"verifier without challenge (downgrade)", false, verifier, "invalid_grant"},
		{"no PKCE at all", false, "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := newIdP(t, oauthproxytest.Options{RequirePKCE: tt.challenge})
			p := authParams()
			if tt.challenge {
				p.Set("code_challenge", challenge)
				p.Set("code_challenge_method", "S256")
			}
			code := authorizeCode(t, s, p)
			assert.Equal(t, p.Get("code_challenge"), s.LastAuthorizeQuery().Get("code_challenge"))
			extra := url.Values{}
			if tt.verifier != "" {
				extra.Set("code_verifier", tt.verifier)
			}
			res := exchange(t, s, code, extra)
			if tt.wantError == "" {
				assert.Equal(t, http.StatusOK, res.status, res.body)
				return
			}
			assert.Equal(t, http.StatusBadRequest, res.status)
			assert.Equal(t, tt.wantError, res.str("error"))
		})
	}
}

func TestCodeReplayRevokesTokens(t *testing.T) {
	s := newIdP(t, oauthproxytest.Options{})
	code := authorizeCode(t, s, authParams())
	first := exchange(t, s, code, nil)
	require.Equal(t, http.StatusOK, first.status)

	again := exchange(t, s, code, nil)
	assert.Equal(t, http.StatusBadRequest, again.status)
	assert.Equal(t, "invalid_grant", again.str("error"))

	// RFC 6749 §4.1.2: the replay revokes what the code produced.
	resp, _ := userInfo(t, s, first.str("access_token"))
	assert.Equal(t, http.StatusUnauthorized, resp.StatusCode)
	assert.Equal(t, "invalid_grant", refresh(t, s, first.str("refresh_token"), nil).str("error"))
	assert.Equal(t, 1, s.Stats().CodeExchanges)
}

func TestCodeChecks(t *testing.T) {
	t.Run("redirect_uri must match", func(t *testing.T) {
		s := newIdP(t, oauthproxytest.Options{})
		code := authorizeCode(t, s, authParams())
		res := exchange(t, s, code, url.Values{"redirect_uri": {testRedirect + "/other"}})
		assert.Equal(t, "invalid_grant", res.str("error"))
		// The failed attempt burned the code.
		assert.Equal(t, "invalid_grant", exchange(t, s, code, nil).str("error"))
	})
	t.Run("code expires after a minute", func(t *testing.T) {
		clock := newFakeClock()
		s := newIdP(t, oauthproxytest.Options{Now: clock.Now})
		code := authorizeCode(t, s, authParams())
		clock.Advance(61 * time.Second)
		assert.Equal(t, "invalid_grant", exchange(t, s, code, nil).str("error"))
	})
	t.Run("unknown code", func(t *testing.T) {
		s := newIdP(t, oauthproxytest.Options{})
		assert.Equal(t, "invalid_grant", exchange(t, s, "nope", nil).str("error"))
	})
	t.Run("missing code", func(t *testing.T) {
		s := newIdP(t, oauthproxytest.Options{})
		assert.Equal(t, "invalid_request", exchange(t, s, "", nil).str("error"))
	})
	t.Run("unsupported grant type", func(t *testing.T) {
		s := newIdP(t, oauthproxytest.Options{})
		res := postToken(t, s, oauthproxytest.AuthMethodBasic, url.Values{"grant_type": {"password"}})
		assert.Equal(t, "unsupported_grant_type", res.str("error"))
	})
	t.Run("JSON body refused", func(t *testing.T) {
		s := newIdP(t, oauthproxytest.Options{})
		req, err := http.NewRequest(http.MethodPost, s.TokenEndpoint(), strings.NewReader(`{"grant_type":"refresh_token"}`))
		require.NoError(t, err)
		req.Header.Set("Content-Type", "application/json")
		res := doToken(t, req)
		assert.Equal(t, http.StatusBadRequest, res.status)
		assert.Equal(t, "invalid_request", res.str("error"))
	})
}

func TestClientAuthentication(t *testing.T) {
	basic, post := oauthproxytest.AuthMethodBasic, oauthproxytest.AuthMethodPost
	tests := []struct {
		name       string
		required   string
		prepare    func(*http.Request, url.Values)
		wantStatus int
		wantError  string
	}{
		{"basic accepted", basic, func(r *http.Request, _ url.Values) {
			r.SetBasicAuth(url.QueryEscape(testClientID), url.QueryEscape(testSecret))
		}, http.StatusOK, ""},
		{"basic without form-urlencoding", basic, func(r *http.Request, _ url.Values) {
			// "+" in the raw secret decodes to a space (RFC 6749 §2.3.1).
			r.SetBasicAuth(url.QueryEscape(testClientID), testSecret)
		}, http.StatusUnauthorized, "invalid_client"},
		{"basic wrong secret", basic, func(r *http.Request, _ url.Values) {
			r.SetBasicAuth(url.QueryEscape(testClientID), "wrong")
		}, http.StatusUnauthorized, "invalid_client"},
		{"post refused when basic required", basic, func(_ *http.Request, f url.Values) {
			f.Set("client_id", testClientID)
			f.Set("client_secret", testSecret)
		}, http.StatusUnauthorized, "invalid_client"},
		{"no credentials", basic, func(*http.Request, url.Values) {}, http.StatusUnauthorized, "invalid_client"},
		{"two methods at once", basic, func(r *http.Request, f url.Values) {
			r.SetBasicAuth(url.QueryEscape(testClientID), url.QueryEscape(testSecret))
			f.Set("client_secret", testSecret)
		}, http.StatusBadRequest, "invalid_request"},
		{"post accepted", post, func(_ *http.Request, f url.Values) {
			f.Set("client_id", testClientID)
			f.Set("client_secret", testSecret)
		}, http.StatusOK, ""},
		{"basic refused when post required", post, func(r *http.Request, _ url.Values) {
			r.SetBasicAuth(url.QueryEscape(testClientID), url.QueryEscape(testSecret))
		}, http.StatusUnauthorized, "invalid_client"},
		{"post wrong secret", post, func(_ *http.Request, f url.Values) {
			f.Set("client_id", testClientID)
			f.Set("client_secret", "wrong")
		}, http.StatusUnauthorized, "invalid_client"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := newIdP(t, oauthproxytest.Options{AuthMethod: tt.required})
			form := url.Values{"grant_type": {"authorization_code"}, "redirect_uri": {testRedirect},
				"code": {authorizeCode(t, s, authParams())}}
			creds := &http.Request{Header: http.Header{}}
			tt.prepare(creds, form)
			req, err := http.NewRequest(http.MethodPost, s.TokenEndpoint(), strings.NewReader(form.Encode()))
			require.NoError(t, err)
			req.Header = creds.Header
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")

			res := doToken(t, req)
			assert.Equal(t, tt.wantStatus, res.status, res.body)
			assert.Equal(t, tt.wantError, res.str("error"))
			if tt.wantError == "invalid_client" && tt.required == basic {
				assert.Contains(t, res.header.Get("WWW-Authenticate"), "Basic")
			}
		})
	}
}

func TestFormEncodedResponses(t *testing.T) {
	s := newIdP(t, oauthproxytest.Options{FormEncodedTokenResponse: true, OmitExpiresIn: true})
	res := exchange(t, s, authorizeCode(t, s, authParams()), nil)
	require.Equal(t, http.StatusOK, res.status)
	assert.Equal(t, "application/x-www-form-urlencoded", res.header.Get("Content-Type"), "even with Accept: application/json")
	assert.NotEmpty(t, res.str("access_token"))
	assert.Equal(t, "read:user", res.str("scope"))
	assert.NotContains(t, res.body, "expires_in")

	// Errors come back with HTTP 200, as GitHub sends them.
	bad := exchange(t, s, "used-or-unknown", nil)
	assert.Equal(t, http.StatusOK, bad.status)
	assert.Equal(t, "invalid_grant", bad.str("error"))
	assert.NotEmpty(t, bad.str("error_description"))
}

func TestOmitExpiresInStillExpires(t *testing.T) {
	clock := newFakeClock()
	s := newIdP(t, oauthproxytest.Options{OmitExpiresIn: true, AccessTokenTTL: time.Minute, Now: clock.Now})
	res := login(t, s, "")
	assert.NotContains(t, res.body, "expires_in")
	clock.Advance(time.Minute)
	resp, _ := userInfo(t, s, res.str("access_token"))
	assert.Equal(t, http.StatusUnauthorized, resp.StatusCode)
}

func TestRefresh(t *testing.T) {
	t.Run("without rotation the token is reused", func(t *testing.T) {
		s := newIdP(t, oauthproxytest.Options{})
		rt := login(t, s, "read:user repo").str("refresh_token")
		for range 2 {
			res := refresh(t, s, rt, nil)
			require.Equal(t, http.StatusOK, res.status, res.body)
			assert.Equal(t, rt, res.str("refresh_token"))
			assert.Equal(t, "read:user repo", res.str("scope"))
		}
		assert.Equal(t, 2, s.Stats().Refreshes)
	})
	t.Run("rotation invalidates the old token", func(t *testing.T) {
		s := newIdP(t, oauthproxytest.Options{RotateRefreshTokens: true})
		old := login(t, s, "read:user").str("refresh_token")
		res := refresh(t, s, old, nil)
		require.Equal(t, http.StatusOK, res.status)
		next := res.str("refresh_token")
		assert.NotEmpty(t, next)
		assert.NotEqual(t, old, next)
		assert.Equal(t, "invalid_grant", refresh(t, s, old, nil).str("error"))
		assert.Equal(t, http.StatusOK, refresh(t, s, next, nil).status)
	})
	t.Run("omitted refresh token keeps working", func(t *testing.T) {
		s := newIdP(t, oauthproxytest.Options{OmitRefreshTokenOnRefresh: true})
		rt := login(t, s, "read:user").str("refresh_token")
		res := refresh(t, s, rt, nil)
		require.Equal(t, http.StatusOK, res.status)
		assert.NotContains(t, res.body, "refresh_token")
		assert.Equal(t, http.StatusOK, refresh(t, s, rt, nil).status)
	})
	t.Run("scope may narrow but not widen", func(t *testing.T) {
		s := newIdP(t, oauthproxytest.Options{})
		rt := login(t, s, "read:user repo").str("refresh_token")
		narrow := refresh(t, s, rt, url.Values{"scope": {"repo"}})
		require.Equal(t, http.StatusOK, narrow.status)
		assert.Equal(t, "repo", narrow.str("scope"))
		wide := refresh(t, s, rt, url.Values{"scope": {"repo admin"}})
		assert.Equal(t, "invalid_scope", wide.str("error"))
		// The refresh token keeps the original scope.
		assert.Equal(t, "read:user repo", refresh(t, s, rt, nil).str("scope"))
	})
	t.Run("declined scopes are left out and said so", func(t *testing.T) {
		s := newIdP(t, oauthproxytest.Options{CommaSeparatedScope: true})
		s.DeclineScopes("repo")
		res := login(t, s, "read:user repo gist")
		require.Equal(t, http.StatusOK, res.status, res.body)
		assert.Equal(t, "read:user,gist", res.str("scope"))
		s.DeclineScopes("gist")
		assert.Equal(t, "read:user,repo", refresh(t, s, res.str("refresh_token"), nil).str("scope"),
			"the grant keeps what was requested; each response leaves out what is declined now")
		s.DeclineScopes()
		assert.Equal(t, "read:user,repo,gist", refresh(t, s, res.str("refresh_token"), nil).str("scope"))
	})
	t.Run("unknown token", func(t *testing.T) {
		s := newIdP(t, oauthproxytest.Options{})
		assert.Equal(t, "invalid_grant", refresh(t, s, "nope", nil).str("error"))
		assert.Equal(t, "invalid_request", refresh(t, s, "", nil).str("error"))
	})
}

func TestRevokeAll(t *testing.T) {
	s := newIdP(t, oauthproxytest.Options{})
	res := login(t, s, "read:user")
	pendingCode := authorizeCode(t, s, authParams())

	s.RevokeAll()
	resp, _ := userInfo(t, s, res.str("access_token"))
	assert.Equal(t, http.StatusUnauthorized, resp.StatusCode)
	assert.Equal(t, "invalid_grant", refresh(t, s, res.str("refresh_token"), nil).str("error"))
	assert.Equal(t, "invalid_grant", exchange(t, s, pendingCode, nil).str("error"))

	// Logging in again works.
	again := login(t, s, "read:user")
	resp, _ = userInfo(t, s, again.str("access_token"))
	assert.Equal(t, http.StatusOK, resp.StatusCode)
}

func TestLastTokenRequest(t *testing.T) {
	s := newIdP(t, oauthproxytest.Options{AuthMethod: oauthproxytest.AuthMethodPost})
	assert.Nil(t, s.LastTokenRequest())
	code := authorizeCode(t, s, authParams())
	postToken(t, s, oauthproxytest.AuthMethodPost, url.Values{"grant_type": {"authorization_code"}, "code": {code}, "redirect_uri": {testRedirect}})
	got := s.LastTokenRequest()
	assert.Equal(t, code, got.Get("code"))
	assert.Equal(t, testSecret, got.Get("client_secret"), "not redacted")
	assert.Equal(t, oauthproxytest.AuthMethodPost, s.LastTokenAuthMethod())
	got.Set("code", "mutated")
	assert.Equal(t, code, s.LastTokenRequest().Get("code"), "a copy is returned")
}
