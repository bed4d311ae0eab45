package oauthproxy_test

// Security tests for S22 (and S09): on https every cookie the proxy sets is
// __Host- prefixed, Secure, Path=/ and without Domain, pinned to the proxy's
// own origin; plain-http loopback development keeps working without them.

import (
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"strings"
	"testing"

	"github.com/oauthproxy-go/oauthproxy/internal/pkce"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// cookieFlow runs two full sign-ins through e with a browser on hc's
// transport — the first through the consent page with "remember" ticked, the
// second straight through on the remembered consent — redeems both codes, and
// returns every cookie the proxy set on the way.
func cookieFlow(t *testing.T, e *env, hc *http.Client) []*http.Cookie {
	t.Helper()
	jar, err := cookiejar.New(nil)
	require.NoError(t, err)
	b := &secBrowser{t: t, c: &http.Client{
		Jar:           jar,
		Transport:     hc.Transport,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}}
	c := registerClient(t, hc, e.srv.URL+"/oauth/register", rememberingAuth, "Cookie Client", []string{clientRedirect})
	var cookies []*http.Cookie
	collect := func(h secHop) secHop { cookies = append(cookies, h.Cookies...); return h }
	redeem := func(final secHop, verifier string) {
		got := secClientRedirect(t, final, clientRedirect)
		tok := postToken(t, hc, e.srv.URL+"/oauth/token", c, url.Values{
			"grant_type": {"authorization_code"}, "code": {got.Get("code")},
			"redirect_uri": {clientRedirect}, "code_verifier": {verifier},
		})
		require.Equal(t, http.StatusOK, tok.Status, "%v", tok.Body)
	}

	verifier := pkce.GenerateVerifier()
	h := collect(e.secAuthorize(b, authorizeParams(c, pkce.Challenge(verifier))))
	require.Equal(t, http.StatusFound, h.Status, h.Body)
	page := collect(b.get(h.Location.String()))
	require.Equal(t, http.StatusOK, page.Status, page.Body)
	form := secConsentForm(t, page.Body)
	form.Set("remember", "1")
	h = collect(e.secDecide(b, form, "approve"))
	redeem(collect(b.get(e.secToCallback(b, h))), verifier)

	verifier = pkce.GenerateVerifier()
	h = collect(e.secAuthorize(b, authorizeParams(c, pkce.Challenge(verifier))))
	require.True(t, strings.HasPrefix(h.Location.String(), e.idp.AuthorizationEndpoint()), "remembered: %s", h.Location)
	redeem(collect(b.get(e.secToCallback(b, h))), verifier)
	return cookies
}

// requireCookieKinds checks that cookies hold a CSRF cookie, a set and a
// cleared browser binding and a remembered consent, each named with prefix.
func requireCookieKinds(t *testing.T, cookies []*http.Cookie, prefix string) {
	t.Helper()
	kinds := map[string]bool{}
	for _, ck := range cookies {
		switch {
		case ck.Name == prefix+"oauthproxy-csrf":
			kinds["csrf"] = true
		case strings.HasPrefix(ck.Name, prefix+"oauthproxy-bind-") && ck.MaxAge > 0:
			kinds["binding"] = true
		case strings.HasPrefix(ck.Name, prefix+"oauthproxy-bind-") && ck.MaxAge < 0:
			kinds["binding cleared"] = true
		case strings.HasPrefix(ck.Name, prefix+"oauthproxy-consent-"):
			kinds["remembered consent"] = true
		}
	}
	assert.Equal(t, map[string]bool{"csrf": true, "binding": true, "binding cleared": true, "remembered consent": true}, kinds)
}

func TestSecurity_S22_HostPrefixedCookiesOnHTTPS(t *testing.T) {
	e := newTLSEnv(t, withRemember(rememberTTL))
	require.True(t, strings.HasPrefix(e.srv.URL, "https://"))
	cookies := cookieFlow(t, e, e.srv.Client())
	requireCookieKinds(t, cookies, "__Host-")
	for _, ck := range cookies {
		// RFC 6265bis §4.1.3.2: __Host- requires Secure, Path=/ and no Domain.
		assert.True(t, strings.HasPrefix(ck.Name, "__Host-"), ck.Name)
		assert.True(t, ck.Secure, ck.Name)
		assert.Equal(t, "/", ck.Path, ck.Name)
		assert.Empty(t, ck.Domain, ck.Name)
		assert.True(t, ck.HttpOnly, ck.Name)
		assert.Equal(t, http.SameSiteLaxMode, ck.SameSite, ck.Name)
	}

	t.Run("plain-http loopback development still works", func(t *testing.T) {
		e := newEnv(t, withRemember(rememberTTL))
		cookies := cookieFlow(t, e, http.DefaultClient)
		requireCookieKinds(t, cookies, "")
		for _, ck := range cookies {
			assert.False(t, ck.Secure, "a Secure cookie would never come back over http: %s", ck.Name)
			assert.True(t, ck.HttpOnly, ck.Name)
			assert.Equal(t, "/", ck.Path, ck.Name)
		}
	})
}
