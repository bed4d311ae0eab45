package oauthproxy_test

// Config: the options that change how the flow runs, end to end over HTTP.

import (
	"context"
	"net/http"
	"net/url"
	"sync"
	"testing"
	"time"

	"github.com/oauthproxy-go/oauthproxy"
	"github.com/oauthproxy-go/oauthproxy/internal/pkce"
	"github.com/oauthproxy-go/oauthproxy/oauthproxytest"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// ---------------------------------------------------------------------------
// Configuration variants, end to end over HTTP

func TestFlow_ForwardPKCE(t *testing.T) {
	for _, consent := range []bool{true, false} {
		t.Run(map[bool]string{true: "consent", false: "no consent"}[consent], func(t *testing.T) {
			e := newEnv(t, withConfig(func(c *oauthproxy.Config) {
				c.ForwardPKCE = true
				c.DisableConsent = !consent
			}), withIdP(func(o *oauthproxytest.Options) { o.RequirePKCE = true }))
			c := e.register("none")
			code, verifier := e.code(c)
			assert.Equal(t, pkce.Challenge(verifier), e.idp.LastAuthorizeQuery().Get("code_challenge"),
				"the upstream sees the client's own challenge")
			assert.Zero(t, e.idp.Stats().CodeExchanges, "the upstream code waits for the client's verifier")

			bad := e.exchange(c, code, pkce.GenerateVerifier())
			assert.Equal(t, http.StatusBadRequest, bad.Status)
			assert.Equal(t, "invalid_grant", bad.str("error"))
			assert.Zero(t, e.idp.Stats().CodeExchanges)

			tok := e.exchange(c, code, verifier)
			require.Equal(t, http.StatusOK, tok.Status, "%v", tok.Body)
			assert.Equal(t, 1, e.idp.Stats().CodeExchanges)
			assert.Equal(t, verifier, e.idp.LastTokenRequest().Get("code_verifier"))
			resp, claims := e.callMCP(tok.str("access_token"))
			require.Equal(t, http.StatusOK, resp.StatusCode)
			assert.Equal(t, "user-1", claims["Subject"])

			ref := e.refresh(c, tok.str("refresh_token"))
			require.Equal(t, http.StatusOK, ref.Status, "%v", ref.Body)
		})
	}
}

func TestFlow_BaseURLWithPath(t *testing.T) {
	s := newSite(t, "/auth")
	base := s.srv.URL + "/auth"
	assert.Equal(t, base, s.meta.Issuer)
	assert.Equal(t, base+"/oauth/authorize", s.meta.AuthorizationEndpoint)
	assert.Equal(t, base+"/oauth/token", s.meta.TokenEndpoint)
	assert.Equal(t, base+"/oauth/register", s.meta.RegistrationEndpoint)

	prm := s.proxy.GetProtectedResourceMetadata()
	assert.Equal(t, base+"/mcp", prm.Resource)
	resp, err := s.http.Get(s.srv.URL + "/.well-known/oauth-protected-resource/auth/mcp")
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, http.StatusOK, resp.StatusCode, "RFC 9728 §3.1 location")
	assert.Equal(t, s.srv.URL+"/.well-known/oauth-protected-resource/auth/mcp", s.proxy.ProtectedResourceMetadataURL())

	// The endpoints live under the path, not at the root.
	resp, err = s.http.Get(s.srv.URL + "/oauth/authorize")
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, http.StatusNotFound, resp.StatusCode)

	for _, auth := range []string{"none", "client_secret_basic"} {
		t.Run(auth, func(t *testing.T) {
			c := s.register(auth)
			verifier := pkce.GenerateVerifier()
			q := url.Values{
				"response_type": {"code"}, "client_id": {c.ID}, "redirect_uri": {clientRedirect},
				"scope": {"openid email"}, "state": {"st"},
				"code_challenge": {pkce.Challenge(verifier)}, "code_challenge_method": {"S256"},
			}
			loc, consent := walkBrowser(t, cookieBrowser(t), s.meta.AuthorizationEndpoint+"?"+q.Encode(), "approve")
			assert.True(t, consent)
			require.Empty(t, loc.Query().Get("error"), loc.Query().Get("error_description"))
			assert.Equal(t, base, loc.Query().Get("iss"))
			assert.Equal(t, "st", loc.Query().Get("state"))
			assert.Equal(t, base+"/oauth/callback", s.idp.LastAuthorizeQuery().Get("redirect_uri"))

			tok := s.token(c, url.Values{"grant_type": {"authorization_code"}, "code": {loc.Query().Get("code")},
				"redirect_uri": {clientRedirect}, "code_verifier": {verifier}})
			require.Equal(t, http.StatusOK, tok.Status, "%v", tok.Body)
			status, claims := s.callResource(tok.str("access_token"))
			require.Equal(t, http.StatusOK, status)
			assert.Equal(t, "user-1", claims["Subject"])
			assert.Equal(t, base+"/mcp", claims["Audience"])

			ref := s.token(c, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {tok.str("refresh_token")}})
			require.Equal(t, http.StatusOK, ref.Status, "%v", ref.Body)
			status, _ = s.callResource(ref.str("access_token"))
			assert.Equal(t, http.StatusOK, status)
		})
	}

	status, _ := s.callResource("")
	assert.Equal(t, http.StatusUnauthorized, status)
}

func TestFlow_CustomRedirectPath(t *testing.T) {
	e := newEnv(t, withConfig(func(c *oauthproxy.Config) { c.RedirectPath = "/cb/github" }))
	c := e.register("none")
	code, verifier := e.code(c)
	assert.Equal(t, e.srv.URL+"/cb/github", e.idp.LastAuthorizeQuery().Get("redirect_uri"))
	assert.Equal(t, e.srv.URL+"/cb/github", e.idp.LastTokenRequest().Get("redirect_uri"))
	tok := e.exchange(c, code, verifier)
	require.Equal(t, http.StatusOK, tok.Status, "%v", tok.Body)

	// The default path is not served when another is configured.
	resp, err := http.Get(e.srv.URL + "/oauth/callback?state=x&code=y")
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, http.StatusNotFound, resp.StatusCode)
}

func TestFlow_UpstreamTokenEndpointAuthMethod(t *testing.T) {
	tests := []struct {
		name       string
		proxy, idp string
		ok         bool
	}{
		{"basic against basic", "", oauthproxytest.AuthMethodBasic, true},
		{"post against post", oauthproxy.AuthMethodClientSecretPost, oauthproxytest.AuthMethodPost, true},
		{"basic against post", oauthproxy.AuthMethodClientSecretBasic, oauthproxytest.AuthMethodPost, false},
		{"post against basic", oauthproxy.AuthMethodClientSecretPost, oauthproxytest.AuthMethodBasic, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t,
				withConfig(func(c *oauthproxy.Config) { c.UpstreamTokenEndpointAuthMethod = tt.proxy }),
				withIdP(func(o *oauthproxytest.Options) { o.AuthMethod = tt.idp }))
			c := e.register("none")
			verifier := pkce.GenerateVerifier()
			loc := e.login(e.browser(), authorizeParams(c, pkce.Challenge(verifier)))
			want := tt.proxy
			if want == "" {
				want = oauthproxy.AuthMethodClientSecretBasic
			}
			assert.Equal(t, want, e.idp.LastTokenAuthMethod(), "the proxy authenticated as configured")
			if tt.ok {
				require.Empty(t, loc.Query().Get("error"), loc.Query().Get("error_description"))
				tok := e.exchange(c, loc.Query().Get("code"), verifier)
				require.Equal(t, http.StatusOK, tok.Status, "%v", tok.Body)
				return
			}
			// A misconfigured upstream client is reported to the client as a
			// redirected error, without the upstream's secret.
			assert.Equal(t, clientRedirect, loc.Scheme+"://"+loc.Host+loc.Path)
			assert.NotEmpty(t, loc.Query().Get("error"))
			assert.Empty(t, loc.Query().Get("code"))
			assert.Equal(t, "client-state-123", loc.Query().Get("state"))
			assert.Equal(t, e.srv.URL, loc.Query().Get("iss"))
			assert.NotContains(t, loc.String(), "upstream-secret")
			assert.Zero(t, e.idp.Stats().CodeExchanges)
		})
	}
}

func TestFlow_GitHubStyleUpstream(t *testing.T) {
	// Form-encoded token responses without expires_in, like GitHub's.
	e := newEnv(t, withIdP(func(o *oauthproxytest.Options) {
		o.FormEncodedTokenResponse = true
		o.OmitExpiresIn = true
	}))
	c := e.register("none")
	code, verifier := e.code(c)
	tok := e.exchange(c, code, verifier)
	require.Equal(t, http.StatusOK, tok.Status, "%v", tok.Body)
	assert.Equal(t, float64(3600), tok.Body["expires_in"], "the proxy's own TTL, whatever the upstream says")
	resp, claims := e.callMCP(tok.str("access_token"))
	require.Equal(t, http.StatusOK, resp.StatusCode)
	assert.Equal(t, "user-1", claims["Subject"])

	up, err := e.proxy.LoadUpstreamTokens(context.Background(), tok.str("access_token"))
	require.NoError(t, err)
	assert.NotEmpty(t, up.AccessToken)
	assert.NotEmpty(t, up.RefreshToken)
	assert.True(t, up.Expiry.IsZero(), "no expires_in: no expiry")

	ref := e.refresh(c, tok.str("refresh_token"))
	require.Equal(t, http.StatusOK, ref.Status, "%v", ref.Body)
	resp, _ = e.callMCP(ref.str("access_token"))
	assert.Equal(t, http.StatusOK, resp.StatusCode)
	assert.Zero(t, e.idp.Stats().Refreshes, "a token without expiry is not refreshed upstream")
}

func TestFlow_RefreshUpstreamOnlyWhenExpired(t *testing.T) {
	const upstreamTTL = 10 * time.Minute
	tests := []struct {
		name    string
		advance time.Duration
		refresh bool
	}{
		{"fresh", 0, false},
		{"well before expiry", 5 * time.Minute, false},
		{"within the one-minute leeway", upstreamTTL - 30*time.Second, true},
		{"expired", upstreamTTL + time.Second, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			clock := newStepClock()
			e := newEnv(t,
				withConfig(func(c *oauthproxy.Config) { c.Now = clock.Now }),
				withIdP(func(o *oauthproxytest.Options) { o.Now, o.AccessTokenTTL = clock.Now, upstreamTTL }))
			c := e.register("none")
			code, verifier := e.code(c)
			tok := e.exchange(c, code, verifier)
			require.Equal(t, http.StatusOK, tok.Status)
			before, err := e.proxy.LoadUpstreamTokens(context.Background(), tok.str("access_token"))
			require.NoError(t, err)

			clock.Advance(tt.advance)
			ref := e.refresh(c, tok.str("refresh_token"))
			require.Equal(t, http.StatusOK, ref.Status, "%v", ref.Body)
			after, err := e.proxy.LoadUpstreamTokens(context.Background(), ref.str("access_token"))
			require.NoError(t, err)
			if tt.refresh {
				assert.Equal(t, 1, e.idp.Stats().Refreshes)
				assert.NotEqual(t, before.AccessToken, after.AccessToken, "a new upstream access token")
				assert.WithinDuration(t, clock.Now().Add(upstreamTTL), after.Expiry, time.Second)
			} else {
				assert.Zero(t, e.idp.Stats().Refreshes, "a fresh upstream token is not refreshed")
				assert.Equal(t, before.AccessToken, after.AccessToken)
			}
			resp, _ := e.callMCP(ref.str("access_token"))
			assert.Equal(t, http.StatusOK, resp.StatusCode)
		})
	}
}

func TestFlow_RefreshUpstreamKeepsRefreshTokenWhenOmitted(t *testing.T) {
	const upstreamTTL = 10 * time.Minute
	for _, rotate := range []bool{false, true} {
		name := map[bool]string{false: "omitted on refresh", true: "rotated on refresh"}[rotate]
		t.Run(name, func(t *testing.T) {
			clock := newStepClock()
			e := newEnv(t,
				withConfig(func(c *oauthproxy.Config) { c.Now = clock.Now }),
				withIdP(func(o *oauthproxytest.Options) {
					o.Now, o.AccessTokenTTL = clock.Now, upstreamTTL
					o.OmitRefreshTokenOnRefresh = !rotate
					o.RotateRefreshTokens = rotate
				}))
			c := e.register("none")
			code, verifier := e.code(c)
			tok := e.exchange(c, code, verifier)
			require.Equal(t, http.StatusOK, tok.Status)
			first, err := e.proxy.LoadUpstreamTokens(context.Background(), tok.str("access_token"))
			require.NoError(t, err)

			rt := tok.str("refresh_token")
			prev := first
			for i := 1; i <= 2; i++ {
				clock.Advance(upstreamTTL + time.Second)
				ref := e.refresh(c, rt)
				require.Equal(t, http.StatusOK, ref.Status, "refresh %d: %v", i, ref.Body)
				assert.Equal(t, i, e.idp.Stats().Refreshes)
				up, err := e.proxy.LoadUpstreamTokens(context.Background(), ref.str("access_token"))
				require.NoError(t, err)
				assert.NotEqual(t, prev.AccessToken, up.AccessToken)
				if rotate {
					assert.NotEqual(t, prev.RefreshToken, up.RefreshToken, "the rotated upstream refresh token is kept")
				} else {
					assert.Equal(t, first.RefreshToken, up.RefreshToken, "the old upstream refresh token is kept")
				}
				resp, _ := e.callMCP(ref.str("access_token"))
				assert.Equal(t, http.StatusOK, resp.StatusCode)
				rt, prev = ref.str("refresh_token"), up
			}
		})
	}
}

func TestFlow_LoadUpstreamTokensRefreshesOnDemand(t *testing.T) {
	// A tool handler asking for the upstream token after it expired gets a
	// fresh one; concurrent callers share one upstream refresh, which matters
	// for providers that rotate refresh tokens.
	const upstreamTTL = 10 * time.Minute
	clock := newStepClock()
	e := newEnv(t,
		withConfig(func(c *oauthproxy.Config) { c.Now = clock.Now }),
		withIdP(func(o *oauthproxytest.Options) {
			o.Now, o.AccessTokenTTL, o.RotateRefreshTokens = clock.Now, upstreamTTL, true
		}))
	c := e.register("none")
	code, verifier := e.code(c)
	tok := e.exchange(c, code, verifier)
	require.Equal(t, http.StatusOK, tok.Status)
	access := tok.str("access_token")
	before, err := e.proxy.LoadUpstreamTokens(context.Background(), access)
	require.NoError(t, err)

	clock.Advance(upstreamTTL + time.Second)
	const callers = 8
	got := make([]*oauthproxy.UpstreamTokens, callers)
	errs := make([]error, callers)
	var wg sync.WaitGroup
	for i := range callers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			got[i], errs[i] = e.proxy.LoadUpstreamTokens(context.Background(), access)
		}()
	}
	wg.Wait()
	for i := range callers {
		require.NoError(t, errs[i])
		assert.NotEqual(t, before.AccessToken, got[i].AccessToken, "a fresh upstream token")
		assert.Equal(t, got[0].AccessToken, got[i].AccessToken, "one refresh, shared")
	}
	assert.Equal(t, 1, e.idp.Stats().Refreshes)
	assert.Zero(t, e.idp.Stats().FailedTokenRequests)

	// The refreshed set is kept: the next call does not refresh again, and the
	// proxy's refresh token still works with the rotated upstream one.
	again, err := e.proxy.LoadUpstreamTokens(context.Background(), access)
	require.NoError(t, err)
	assert.Equal(t, got[0].AccessToken, again.AccessToken)
	ref := e.refresh(c, tok.str("refresh_token"))
	require.Equal(t, http.StatusOK, ref.Status, "%v", ref.Body)
	assert.Equal(t, 1, e.idp.Stats().Refreshes)
}

func TestFlow_UserInfoWithoutIDToken(t *testing.T) {
	tests := []struct {
		name string
		user oauthproxytest.User
	}{
		{"OIDC-style subject", oauthproxytest.DefaultUser},
		{"GitHub-style numeric id", oauthproxytest.User{Subject: "583231", Name: "The Octocat", Email: "octocat@example.com", Login: "octocat"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := newSite(t, "",
				withIdP(func(o *oauthproxytest.Options) { o.IssueIDToken = false; o.User = tt.user }),
				withConfig(func(c *oauthproxy.Config) { c.UpstreamUserInfoEndpoint = idpUserInfo }))
			c := s.register("none")
			verifier := pkce.GenerateVerifier()
			q := url.Values{
				"response_type": {"code"}, "client_id": {c.ID}, "redirect_uri": {clientRedirect},
				"scope": {"openid email"}, "state": {"st"},
				"code_challenge": {pkce.Challenge(verifier)}, "code_challenge_method": {"S256"},
			}
			loc, _ := walkBrowser(t, cookieBrowser(t), s.meta.AuthorizationEndpoint+"?"+q.Encode(), "approve")
			require.Empty(t, loc.Query().Get("error"), loc.Query().Get("error_description"))
			assert.Equal(t, 1, s.idp.Stats().UserInfoRequests, "identity from userinfo")

			tok := s.token(c, url.Values{"grant_type": {"authorization_code"}, "code": {loc.Query().Get("code")},
				"redirect_uri": {clientRedirect}, "code_verifier": {verifier}})
			require.Equal(t, http.StatusOK, tok.Status, "%v", tok.Body)
			up, err := s.proxy.LoadUpstreamTokens(context.Background(), tok.str("access_token"))
			require.NoError(t, err)
			assert.Empty(t, up.IDToken, "the upstream issued no id_token")

			status, claims := s.callResource(tok.str("access_token"))
			require.Equal(t, http.StatusOK, status)
			assert.Equal(t, tt.user.Subject, claims["Subject"], "sub from userinfo")
			extra, _ := claims["Extra"].(map[string]any)
			assert.Equal(t, tt.user.Email, extra["email"])
			assert.Equal(t, tt.user.Login, extra["preferred_username"])
			assert.NotContains(t, extra, "login", "only profile claims are kept")
		})
	}
}
