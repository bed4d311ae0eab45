package oauthproxy_test

// Security tests for S08-S09: the consent page and binding the flow to the consenting browser.

import (
	"context"
	"encoding/base64"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/oauthproxy-go/oauthproxy"
	"github.com/oauthproxy-go/oauthproxy/internal/pkce"
	"github.com/oauthproxy-go/oauthproxy/storage"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// ---------------------------------------------------------------------------
// S08 consent

func TestSecurity_S08_ConsentPageShowsWhoAsksEscaped(t *testing.T) {
	e := newEnv(t)
	c := e.register("none")
	page, _ := e.secOpenConsent(newSecBrowser(t), authorizeParams(c, pkce.Challenge(pkce.GenerateVerifier())))

	assert.Contains(t, page.Body, "Test &lt;Client&gt;", "the client name is shown, escaped")
	assert.NotContains(t, page.Body, "<Client>", "the client name is never raw HTML")
	assert.Contains(t, page.Body, "127.0.0.1:9", "the redirect URI's host is shown")
	assert.Contains(t, page.Body, "openid")
	assert.Contains(t, page.Body, "email")

	assert.Equal(t, "DENY", page.Header.Get("X-Frame-Options"))
	assert.Contains(t, page.Header.Get("Content-Security-Policy"), "frame-ancestors 'none'")
	assert.Contains(t, page.Header.Get("Content-Type"), "text/html")
	assert.Contains(t, page.Header.Get("Cache-Control"), "no-store")
}

func TestSecurity_S08_ConsentPageEscapesScopes(t *testing.T) {
	// With no configured scope set, requested scopes are passed through and
	// shown; a scope token may hold '<' and '>' (RFC 6749 §3.3).
	e := newEnv(t, withConfig(func(c *oauthproxy.Config) { c.Scopes = nil }))
	c := e.register("none")
	q := authorizeParams(c, pkce.Challenge(pkce.GenerateVerifier()))
	q.Set("scope", "openid <img/src=x>")
	page, _ := e.secOpenConsent(newSecBrowser(t), q)
	assert.NotContains(t, page.Body, "<img")
	assert.Contains(t, page.Body, "&lt;img/src=x&gt;")
}

func TestSecurity_S08_ConsentPostNeedsCSRFTokenBoundToCookie(t *testing.T) {
	store := newRecordingStore(storage.NewMemory())
	e := newEnv(t, withSecStore(store))
	c := e.register("none")
	b := newSecBrowser(t)
	verifier := pkce.GenerateVerifier()
	_, form := e.secOpenConsent(b, authorizeParams(c, pkce.Challenge(verifier)))
	_, otherForm := e.secOpenConsent(b, authorizeParams(c, pkce.Challenge(pkce.GenerateVerifier())))
	require.NotEqual(t, form.Get("csrf_token"), otherForm.Get("csrf_token"), "tokens are per transaction")

	withToken := func(token string) url.Values {
		f := cloneValues(form)
		if token == "" {
			f.Del("csrf_token")
		} else {
			f.Set("csrf_token", token)
		}
		return f
	}
	for _, tc := range []struct {
		name    string
		browser *secBrowser
		form    url.Values
	}{
		{"no csrf_token", b, withToken("")},
		{"empty csrf_token", b, url.Values{"txn": {form.Get("txn")}, "csrf_token": {""}}},
		{"wrong csrf_token", b, withToken(base64.RawURLEncoding.EncodeToString(make([]byte, 32)))},
		{"csrf_token of another transaction", b, withToken(otherForm.Get("csrf_token"))},
		{"no csrf cookie", newSecBrowser(t), form},
	} {
		for _, action := range []string{"approve", "deny"} {
			t.Run(tc.name+"/"+action, func(t *testing.T) {
				mark := store.mark()
				h := e.secDecide(tc.browser, tc.form, action)
				assert.GreaterOrEqual(t, h.Status, 400, h.Body)
				assert.Less(t, h.Status, 500, h.Body)
				assert.Nil(t, h.Location, "a refused consent sends the browser nowhere")
				assert.Nil(t, h.cookie("oauthproxy-bind"), "no browser binding without consent")
				assert.Empty(t, store.changedSince(mark), "a refused consent changes nothing")
			})
		}
	}

	// The transaction is intact: the real form still works end to end.
	h := b.get(e.secToCallback(b, e.secDecide(b, form, "approve")))
	got := secClientRedirect(t, h, clientRedirect)
	require.NotEmpty(t, got.Get("code"))
	assert.Equal(t, http.StatusOK, e.exchange(c, got.Get("code"), verifier).Status)
}

func TestSecurity_S08_ConsentRefusesCrossOriginPost(t *testing.T) {
	e := newEnv(t)
	c := e.register("none")
	b := newSecBrowser(t)
	_, form := e.secOpenConsent(b, authorizeParams(c, pkce.Challenge(pkce.GenerateVerifier())))
	approve := cloneValues(form)
	approve.Set("action", "approve")

	for _, tc := range []struct {
		name   string
		header http.Header
	}{
		{"Sec-Fetch-Site cross-site", http.Header{"Sec-Fetch-Site": {"cross-site"}}},
		{"Sec-Fetch-Site same-site", http.Header{"Sec-Fetch-Site": {"same-site"}}},
		{"foreign Origin", http.Header{"Origin": {"https://evil.example"}}},
		{"foreign Origin on another loopback port", http.Header{"Origin": {"http://127.0.0.1:9"}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := b.post(e.srv.URL+"/oauth/consent", approve, tc.header)
			assert.Equal(t, http.StatusForbidden, h.Status, h.Body)
			assert.Nil(t, h.Location)
			assert.Nil(t, h.cookie("oauthproxy-bind"))
		})
	}

	h := b.post(e.srv.URL+"/oauth/consent", approve, http.Header{"Sec-Fetch-Site": {"same-origin"}, "Origin": {e.srv.URL}})
	assert.Equal(t, http.StatusSeeOther, h.Status, "a same-origin POST is accepted: %s", h.Body)
}

func TestSecurity_S08_RepeatedConsentGetKeepsFlowWorking(t *testing.T) {
	e := newEnv(t)
	c := e.register("none")
	for _, which := range []int{0, 1} {
		t.Run([]string{"token from first page", "token from second page"}[which], func(t *testing.T) {
			b := newSecBrowser(t)
			verifier := pkce.GenerateVerifier()
			h := e.secAuthorize(b, authorizeParams(c, pkce.Challenge(verifier)))
			require.NotNil(t, h.Location)
			var forms []url.Values
			for range 2 { // a prefetch, then the real visit
				page := b.get(h.Location.String())
				require.Equal(t, http.StatusOK, page.Status, page.Body)
				forms = append(forms, secConsentForm(t, page.Body))
			}
			cb := b.get(e.secToCallback(b, e.secDecide(b, forms[which], "approve")))
			got := secClientRedirect(t, cb, clientRedirect)
			require.NotEmpty(t, got.Get("code"), got.Get("error_description"))
			assert.Equal(t, http.StatusOK, e.exchange(c, got.Get("code"), verifier).Status)
		})
	}
}

func TestSecurity_S08_DenyReturnsAccessDenied(t *testing.T) {
	e := newEnv(t)
	c := e.register("none")
	b := newSecBrowser(t)
	_, form := e.secOpenConsent(b, authorizeParams(c, pkce.Challenge(pkce.GenerateVerifier())))

	h := e.secDecide(b, form, "deny")
	got := secClientRedirect(t, h, clientRedirect)
	assert.Equal(t, "access_denied", got.Get("error"))
	assert.Equal(t, "client-state-123", got.Get("state"))
	assert.Equal(t, e.srv.URL, got.Get("iss"))
	assert.Empty(t, got.Get("code"))
	assert.Nil(t, h.cookie("oauthproxy-bind"))
	assert.Empty(t, e.idp.LastAuthorizeQuery(), "the upstream is never visited")

	// The denied transaction is over: approving it afterwards fails.
	h = e.secDecide(b, form, "approve")
	secErrorPage(t, h, http.StatusBadRequest)
}

// ---------------------------------------------------------------------------
// S09 browser binding

func TestSecurity_S09_CallbackRequiresConsentingBrowser(t *testing.T) {
	e := newEnv(t)
	c := e.register("none")
	victim := newSecBrowser(t)
	verifier := pkce.GenerateVerifier()
	callback := e.secCallbackURL(victim, authorizeParams(c, pkce.Challenge(verifier)))

	// Another browser (the attacker's, or the victim lured onto an attacker's
	// callback URL) cannot complete the flow.
	h := newSecBrowser(t).get(callback)
	secErrorPage(t, h, http.StatusForbidden)

	// The browser that consented can, once.
	h = victim.get(callback)
	got := secClientRedirect(t, h, clientRedirect)
	require.NotEmpty(t, got.Get("code"), got.Get("error_description"))
	assert.Equal(t, "client-state-123", got.Get("state"))
	assert.Equal(t, e.srv.URL, got.Get("iss"))

	h = victim.get(callback)
	require.Contains(t, []int{http.StatusBadRequest, http.StatusForbidden}, h.Status, h.Body)
	secErrorPage(t, h, h.Status)

	assert.Equal(t, http.StatusOK, e.exchange(c, got.Get("code"), verifier).Status)
}

func TestSecurity_S09_BindingCookieFlags(t *testing.T) {
	e := newEnv(t)
	c := e.register("none")
	b := newSecBrowser(t)
	page, form := e.secOpenConsent(b, authorizeParams(c, pkce.Challenge(pkce.GenerateVerifier())))
	csrf := page.cookie("oauthproxy-csrf")
	require.NotNil(t, csrf, "the consent page sets the CSRF cookie")
	h := e.secDecide(b, form, "approve")
	bind := h.cookie("oauthproxy-bind")
	require.NotNil(t, bind, "consent sets the browser-binding cookie")

	for _, ck := range []*http.Cookie{csrf, bind} {
		assert.True(t, ck.HttpOnly, ck.Name)
		assert.Equal(t, http.SameSiteLaxMode, ck.SameSite, ck.Name)
		assert.Equal(t, "/", ck.Path, ck.Name)
		assert.Empty(t, ck.Domain, ck.Name)
		assert.Positive(t, ck.MaxAge, ck.Name)
		assert.NotEmpty(t, ck.Value, ck.Name)
	}
	assert.NotContains(t, bind.Value, form.Get("txn"), "the binding is not the bare transaction id")
}

func TestSecurity_S09_HostPrefixedSecureCookiesOnHTTPS(t *testing.T) {
	const base = "https://mcp.example.com"
	newProxy := func(t *testing.T, disableConsent bool) (*oauthproxy.Proxy, string) {
		p, err := oauthproxy.New(oauthproxy.Config{
			BaseURL:                       base,
			UpstreamAuthorizationEndpoint: "https://idp.example.com/authorize",
			UpstreamTokenEndpoint:         "https://idp.example.com/token",
			UpstreamClientID:              "upstream-client",
			UpstreamClientSecret:          "upstream-secret",
			Scopes:                        []string{"openid", "email"},
			DisableConsent:                disableConsent,
			JWTSigningKey:                 secJWTKey,
			EncryptionKey:                 []byte(strings.Repeat("e", 32)),
			ConsentSigningKey:             []byte(strings.Repeat("c", 32)),
			Logger:                        slog.New(slog.NewTextHandler(io.Discard, nil)),
		})
		require.NoError(t, err)
		t.Cleanup(p.Destroy)
		info, err := p.RegisterClient(context.Background(), &oauthproxy.ClientMetadata{
			RedirectURIs:            []string{clientRedirect},
			TokenEndpointAuthMethod: "none",
		})
		require.NoError(t, err)
		return p, info.ClientID
	}
	serve := func(p *oauthproxy.Proxy, req *http.Request) *http.Response {
		rec := httptest.NewRecorder()
		p.Handler().ServeHTTP(rec, req)
		return rec.Result()
	}
	requireHostCookie := func(t *testing.T, resp *http.Response, name string) *http.Cookie {
		t.Helper()
		for _, ck := range resp.Cookies() {
			if strings.Contains(ck.Name, name) {
				assert.True(t, strings.HasPrefix(ck.Name, "__Host-"), "cookie %q has the __Host- prefix", ck.Name)
				assert.True(t, ck.Secure, ck.Name)
				assert.True(t, ck.HttpOnly, ck.Name)
				assert.Equal(t, http.SameSiteLaxMode, ck.SameSite, ck.Name)
				assert.Equal(t, "/", ck.Path, "__Host- requires Path=/")
				assert.Empty(t, ck.Domain, "__Host- forbids Domain")
				return ck
			}
		}
		require.Failf(t, "cookie missing", "no %q cookie in %v", name, resp.Header.Values("Set-Cookie"))
		return nil
	}
	params := func(clientID string) string {
		return authorizeParams(registered{ID: clientID}, pkce.Challenge(pkce.GenerateVerifier())).Encode()
	}

	t.Run("consent disabled", func(t *testing.T) {
		p, clientID := newProxy(t, true)
		resp := serve(p, httptest.NewRequest(http.MethodGet, base+"/oauth/authorize?"+params(clientID), nil))
		require.Equal(t, http.StatusFound, resp.StatusCode)
		require.True(t, strings.HasPrefix(resp.Header.Get("Location"), "https://idp.example.com/authorize?"))
		requireHostCookie(t, resp, "oauthproxy-bind")
	})

	t.Run("consent enabled", func(t *testing.T) {
		p, clientID := newProxy(t, false)
		resp := serve(p, httptest.NewRequest(http.MethodGet, base+"/oauth/authorize?"+params(clientID), nil))
		require.Equal(t, http.StatusFound, resp.StatusCode)
		consentURL := resp.Header.Get("Location")
		require.True(t, strings.HasPrefix(consentURL, base+"/oauth/consent?"), consentURL)

		resp = serve(p, httptest.NewRequest(http.MethodGet, consentURL, nil))
		require.Equal(t, http.StatusOK, resp.StatusCode)
		csrf := requireHostCookie(t, resp, "oauthproxy-csrf")
		body, _ := io.ReadAll(resp.Body)
		form := secConsentForm(t, string(body))
		form.Set("action", "approve")

		req := httptest.NewRequest(http.MethodPost, base+"/oauth/consent", strings.NewReader(form.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.AddCookie(csrf)
		resp = serve(p, req)
		require.Equal(t, http.StatusSeeOther, resp.StatusCode)
		requireHostCookie(t, resp, "oauthproxy-bind")
	})
}
