package oauthproxy_test

// Consent page, remembered consent, branding and the error page, over real
// HTTP (the browser tests in browser_test.go drive the same pages in
// Chromium).

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"html/template"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/oauthproxy-go/oauthproxy"
	"github.com/oauthproxy-go/oauthproxy/internal/pkce"
	"github.com/oauthproxy-go/oauthproxy/storage"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

const rememberTTL = 30 * 24 * time.Hour

func withRemember(ttl time.Duration) envOption {
	return withConfig(func(c *oauthproxy.Config) { c.ConsentRememberTTL = ttl })
}

func TestConsent_PageDescribesTheRequest(t *testing.T) {
	e := newEnv(t, withConfig(func(c *oauthproxy.Config) {
		c.Scopes = nil // pass any scope through, to show an unknown one
		c.ProviderName = "GitHub"
	}))
	c := e.register("none")
	q := authorizeParams(c, pkce.Challenge(pkce.GenerateVerifier()))
	q.Set("scope", "openid email repo mcp:tools")
	page, _ := e.secOpenConsent(newSecBrowser(t), q)

	for _, want := range []string{
		"Test &lt;Client&gt;", ">Unverified<", "registered itself and chose its own name",
		"Confirm who you are", "See your email address",
		"Read and change all your repositories, public and private", "<code>repo</code>",
		"Use the permission</span> <code>mcp:tools</code>",
		"You sign in with <strong>GitHub</strong>",
		`<span class="host">127.0.0.1:9</span>, an application on this computer`,
		c.ID,
	} {
		assert.Contains(t, page.Body, want)
	}
	assert.NotContains(t, page.Body, `id="remember"`, "no remember box unless ConsentRememberTTL is set")
	assert.NotContains(t, page.Body, "autofocus", "Approve is never pre-focused: a stray Enter must not approve")
	assert.NotContains(t, page.Body, "<script", "the page runs no script")
	assert.Regexp(t, `<html lang="en">`, page.Body)

	csp := page.Header.Get("Content-Security-Policy")
	assert.Contains(t, csp, "default-src 'none'")
	assert.Contains(t, csp, "img-src 'none'")
	assert.Contains(t, csp, "frame-ancestors 'none'")
	assert.Equal(t, "DENY", page.Header.Get("X-Frame-Options"))
	nonce := regexpOne(t, `style-src 'nonce-([^']+)'`, csp)
	assert.Contains(t, page.Body, `<style nonce="`+nonce+`">`, "the inline style carries the CSP nonce")
	assert.NotEqual(t, nonce, regexpOne(t, `style-src 'nonce-([^']+)'`,
		newSecBrowser(t).get(e.srv.URL+"/oauth/authorize").Header.Get("Content-Security-Policy")), "a fresh nonce per page")
}

func TestConsent_CustomSchemeRedirectShowsTheScheme(t *testing.T) {
	e := newEnv(t, withConfig(func(c *oauthproxy.Config) {
		c.AllowedRedirectURIPatterns = []string{"cursor://anysphere.cursor-mcp/oauth/callback"}
	}))
	const redirect = "cursor://anysphere.cursor-mcp/oauth/callback"
	c := e.register("none", redirect)
	q := authorizeParams(c, pkce.Challenge(pkce.GenerateVerifier()))
	q.Set("redirect_uri", redirect)
	page, _ := e.secOpenConsent(newSecBrowser(t), q)
	assert.Contains(t, page.Body, `<span class="host">cursor://anysphere.cursor-mcp</span>.`)
	assert.NotContains(t, page.Body, "an application on this computer")
}

func TestConsent_MetadataDocumentClientShowsItsDomain(t *testing.T) {
	clientID, pool := metadataDocumentServer(t, clientRedirect)
	e := newEnv(t, withCIMD(pool, true))
	page, _ := e.secOpenConsent(newSecBrowser(t), authorizeParams(registered{ID: clientID}, pkce.Challenge(pkce.GenerateVerifier())))
	u, err := url.Parse(clientID)
	require.NoError(t, err)
	assert.Contains(t, page.Body, `<strong>Metadata Client</strong><span class="badge domain">`+u.Host+`</span>`)
	assert.Contains(t, page.Body, "identified by its website, <strong>"+u.Host+"</strong>; its name is its own claim")
	assert.NotContains(t, page.Body, ">Unverified<")
}

func TestConsent_ScopeDescriptionsOverrideBuiltIns(t *testing.T) {
	e := newEnv(t, withConfig(func(c *oauthproxy.Config) {
		c.Scopes = []string{"openid", "tools:run"}
		c.ScopeDescriptions = map[string]string{"tools:run": "Run the <b>tools</b> of this server", "openid": "Know it is you"}
	}))
	c := e.register("none")
	q := authorizeParams(c, pkce.Challenge(pkce.GenerateVerifier()))
	q.Set("scope", "openid tools:run")
	page, _ := e.secOpenConsent(newSecBrowser(t), q)
	assert.Contains(t, page.Body, "Run the &lt;b&gt;tools&lt;/b&gt; of this server")
	assert.Contains(t, page.Body, "Know it is you")
	assert.NotContains(t, page.Body, "Confirm who you are")
}

func TestConsent_Branding(t *testing.T) {
	e := newEnv(t, withConfig(func(c *oauthproxy.Config) {
		c.Branding = oauthproxy.Branding{
			ProductName: "Acme <MCP>",
			LogoURL:     "https://cdn.example.com:8443/logo.svg?v=2",
			AccentColor: "#FC0",
		}
	}))
	c := e.register("none")
	page, _ := e.secOpenConsent(newSecBrowser(t), authorizeParams(c, pkce.Challenge(pkce.GenerateVerifier())))
	assert.Contains(t, page.Body, "Acme &lt;MCP&gt;")
	assert.Contains(t, page.Body, `<img src="https://cdn.example.com:8443/logo.svg?v=2"`)
	assert.Contains(t, page.Body, "--accent:#ffcc00;")
	assert.Contains(t, page.Body, "--on-accent:#111827;", "dark text on a light accent")
	assert.Contains(t, page.Header.Get("Content-Security-Policy"), "img-src https://cdn.example.com:8443;",
		"the CSP allows the logo's origin and nothing else")

	// The error page wears the same branding.
	h := newSecBrowser(t).get(e.srv.URL + "/oauth/authorize?client_id=nope")
	assert.Equal(t, http.StatusBadRequest, h.Status)
	assert.Contains(t, h.Body, "Acme &lt;MCP&gt;")
	assert.Contains(t, h.Header.Get("Content-Security-Policy"), "img-src https://cdn.example.com:8443;")
}

func TestConsent_BrandingAndRememberValidation(t *testing.T) {
	base := oauthproxy.Config{
		BaseURL:                       "https://mcp.example.com",
		UpstreamAuthorizationEndpoint: "https://idp.example.com/authorize",
		UpstreamTokenEndpoint:         "https://idp.example.com/token",
		UpstreamClientID:              "id",
		UpstreamClientSecret:          "secret",
		Logger:                        slog.New(slog.NewTextHandler(io.Discard, nil)),
	}
	for _, tc := range []struct {
		name    string
		mutate  func(*oauthproxy.Config)
		wantErr string
	}{
		{"defaults", func(*oauthproxy.Config) {}, ""},
		{"https logo", func(c *oauthproxy.Config) { c.Branding.LogoURL = "https://cdn.example.com/l.png" }, ""},
		{"http logo", func(c *oauthproxy.Config) { c.Branding.LogoURL = "http://cdn.example.com/l.png" }, "LogoURL"},
		{"data logo", func(c *oauthproxy.Config) { c.Branding.LogoURL = "data:image/png;base64,AAAA" }, "LogoURL"},
		{"javascript logo", func(c *oauthproxy.Config) { c.Branding.LogoURL = "javascript:alert(1)" }, "LogoURL"},
		{"relative logo", func(c *oauthproxy.Config) { c.Branding.LogoURL = "/logo.png" }, "LogoURL"},
		{"logo with userinfo", func(c *oauthproxy.Config) { c.Branding.LogoURL = "https://u:p@cdn.example.com/l.png" }, "LogoURL"},
		{"logo host breaking the CSP", func(c *oauthproxy.Config) { c.Branding.LogoURL = "https://a.com;script-src/x" }, "LogoURL"},
		{"short colour", func(c *oauthproxy.Config) { c.Branding.AccentColor = "#0a0" }, ""},
		{"named colour", func(c *oauthproxy.Config) { c.Branding.AccentColor = "red" }, "AccentColor"},
		{"CSS injection", func(c *oauthproxy.Config) { c.Branding.AccentColor = "#000;}body{display:none" }, "AccentColor"},
		{"remember a year", func(c *oauthproxy.Config) { c.ConsentRememberTTL = 365 * 24 * time.Hour }, ""},
		{"remember too long", func(c *oauthproxy.Config) { c.ConsentRememberTTL = 401 * 24 * time.Hour }, "ConsentRememberTTL"},
		{"remember negative", func(c *oauthproxy.Config) { c.ConsentRememberTTL = -time.Hour }, "ConsentRememberTTL"},
		{"remember a second", func(c *oauthproxy.Config) { c.ConsentRememberTTL = time.Second }, "ConsentRememberTTL"},
		{"product name too long", func(c *oauthproxy.Config) { c.Branding.ProductName = strings.Repeat("x", 101) }, "ProductName"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := base
			tc.mutate(&cfg)
			p, err := oauthproxy.New(cfg)
			if tc.wantErr == "" {
				require.NoError(t, err)
				p.Destroy()
				return
			}
			require.Error(t, err)
			assert.Contains(t, err.Error(), tc.wantErr)
		})
	}
}

func TestConsent_CustomTemplate(t *testing.T) {
	tmpl := template.Must(template.New("mine").Parse(`<!doctype html><html lang="de"><head>` +
		`<style nonce="{{.Nonce}}">body{color:#222}</style></head><body>` +
		`<h1>{{.ClientName}} möchte Zugriff</h1>` +
		`<form method="post" action="{{.FormAction}}">` +
		`<input type="hidden" name="txn" value="{{.TransactionID}}">` +
		`<input type="hidden" name="csrf_token" value="{{.CSRFToken}}">` +
		`<button name="action" value="approve">Erlauben</button></form></body></html>`))
	e := newEnv(t, withConfig(func(c *oauthproxy.Config) { c.ConsentTemplate = tmpl }))
	c := e.register("none")
	b := newSecBrowser(t)
	verifier := pkce.GenerateVerifier()
	page, form := e.secOpenConsent(b, authorizeParams(c, pkce.Challenge(verifier)))
	assert.Contains(t, page.Body, "Test &lt;Client&gt; möchte Zugriff")
	nonce := regexpOne(t, `style-src 'nonce-([^']+)'`, page.Header.Get("Content-Security-Policy"))
	assert.Contains(t, page.Body, `<style nonce="`+nonce+`">`)
	assert.Equal(t, "DENY", page.Header.Get("X-Frame-Options"), "a custom page keeps the protective headers")

	got := secClientRedirect(t, b.get(e.secToCallback(b, e.secDecide(b, form, "approve"))), clientRedirect)
	assert.Equal(t, http.StatusOK, e.exchange(c, got.Get("code"), verifier).Status)
}

func TestConsent_BrokenCustomTemplateFailsClosed(t *testing.T) {
	tmpl := template.Must(template.New("broken").Parse(`<p>{{.NoSuchField}}</p>`))
	e := newEnv(t, withConfig(func(c *oauthproxy.Config) { c.ConsentTemplate = tmpl }))
	c := e.register("none")
	b := newSecBrowser(t)
	h := e.secAuthorize(b, authorizeParams(c, pkce.Challenge(pkce.GenerateVerifier())))
	page := b.get(h.Location.String())
	assert.Equal(t, http.StatusInternalServerError, page.Status)
	assert.NotContains(t, page.Body, "<p>", "nothing half-rendered")
}

// ---------------------------------------------------------------------------
// Remembered consent

// rememberingAuth is how the clients of the remembered-consent tests
// authenticate: consent is remembered for a confidential client, never for a
// public one on loopback (RFC 8252 §8.6; see the S22 tests).
const rememberingAuth = "client_secret_basic"

// rememberApproval walks one login with "remember" ticked and returns the
// remembered-consent cookie.
func (e *env) rememberApproval(b *secBrowser, params url.Values) *http.Cookie {
	e.t.Helper()
	page, form := e.secOpenConsent(b, params)
	require.Contains(e.t, page.Body, `<input type="checkbox" id="remember" name="remember" value="1">`)
	require.Contains(e.t, page.Body, "Remember my choice for 30 days")
	form.Set("remember", "1")
	h := e.secDecide(b, form, "approve")
	remembered := h.cookie("oauthproxy-consent-")
	require.NotNil(e.t, remembered, "approval with remember=1 sets the cookie")
	cb := b.get(e.secToCallback(b, h))
	require.NotEmpty(e.t, secClientRedirect(e.t, cb, clientRedirect).Get("code"))
	return remembered
}

func TestConsent_RememberedConsentSkipsThePage(t *testing.T) {
	e := newEnv(t, withRemember(rememberTTL))
	c := e.register(rememberingAuth)
	b := newSecBrowser(t)
	ck := e.rememberApproval(b, authorizeParams(c, pkce.Challenge(pkce.GenerateVerifier())))

	assert.True(t, ck.HttpOnly)
	assert.Equal(t, http.SameSiteLaxMode, ck.SameSite, "Lax: it must come along on the client's top-level redirect")
	assert.Equal(t, "/", ck.Path)
	assert.Empty(t, ck.Domain)
	assert.Equal(t, int(rememberTTL/time.Second), ck.MaxAge)
	assert.NotContains(t, ck.Value, c.ID, "the value does not carry the client id in the clear")

	// Same client, same redirect URI, same or fewer scopes: straight upstream,
	// with the browser binding set (S09), and the code works.
	for _, scope := range []string{"openid email", "email openid", "openid"} {
		t.Run("scope "+scope, func(t *testing.T) {
			verifier := pkce.GenerateVerifier()
			q := authorizeParams(c, pkce.Challenge(verifier))
			q.Set("scope", scope)
			h := e.secAuthorize(b, q)
			require.Equal(t, http.StatusFound, h.Status, h.Body)
			require.True(t, strings.HasPrefix(h.Location.String(), e.idp.AuthorizationEndpoint()),
				"a remembered consent goes straight upstream, got %s", h.Location)
			require.NotNil(t, h.cookie("oauthproxy-bind"), "the browser binding is still set")
			cb := b.get(e.secToCallback(b, h))
			got := secClientRedirect(t, cb, clientRedirect)
			assert.Equal(t, "client-state-123", got.Get("state"))
			assert.Equal(t, http.StatusOK, e.exchange(c, got.Get("code"), verifier).Status)
		})
	}

	// Another loopback port is another redirect URI: the consent was given
	// for exactly one (S22).
	t.Run("another loopback port", func(t *testing.T) {
		q := authorizeParams(c, pkce.Challenge(pkce.GenerateVerifier()))
		q.Set("redirect_uri", "http://127.0.0.1:5555/client/callback")
		e.requireAsked(t, b, q)
	})

	// Another browser has no such cookie and is asked.
	other := e.secAuthorize(newSecBrowser(t), authorizeParams(c, pkce.Challenge(pkce.GenerateVerifier())))
	assert.Equal(t, "/oauth/consent", other.Location.Path)
}

// requireAsked checks that /authorize sends b to the consent page.
func (e *env) requireAsked(t *testing.T, b *secBrowser, q url.Values) {
	t.Helper()
	h := e.secAuthorize(b, q)
	require.Equal(t, http.StatusFound, h.Status, h.Body)
	require.Equal(t, "/oauth/consent", h.Location.Path, "expected the consent page, got %s", h.Location)
	assert.Nil(t, h.cookie("oauthproxy-bind"), "no browser binding before consent")
}

func TestConsent_RememberedConsentAsksAgain(t *testing.T) {
	const otherRedirect = "http://127.0.0.1:9/client/other"
	clk := newSecClock()
	e := newEnv(t, withRemember(rememberTTL), withSecClock(clk))
	c := e.register(rememberingAuth, clientRedirect, otherRedirect)
	remember := func(t *testing.T) (*secBrowser, *http.Cookie) {
		b := newSecBrowser(t)
		return b, e.rememberApproval(b, authorizeParams(c, pkce.Challenge(pkce.GenerateVerifier())))
	}
	params := func() url.Values { return authorizeParams(c, pkce.Challenge(pkce.GenerateVerifier())) }
	u, err := url.Parse(e.srv.URL)
	require.NoError(t, err)
	setCookie := func(b *secBrowser, ck *http.Cookie) { b.c.Jar.SetCookies(u, []*http.Cookie{ck}) }

	t.Run("wider scope", func(t *testing.T) {
		b, _ := remember(t)
		q := params()
		q.Set("scope", "openid email profile")
		e.requireAsked(t, b, q)
	})
	t.Run("no scope means the configured set, which is wider", func(t *testing.T) {
		b, _ := remember(t)
		q := params()
		q.Del("scope")
		e.requireAsked(t, b, q)
	})
	t.Run("other redirect URI", func(t *testing.T) {
		b, _ := remember(t)
		q := params()
		q.Set("redirect_uri", otherRedirect)
		e.requireAsked(t, b, q)
	})
	t.Run("other client", func(t *testing.T) {
		b, ck := remember(t)
		other := e.register(rememberingAuth)
		// Even the cookie value moved under the other client's cookie name
		// does not pass: the signature names the client.
		otherQ := authorizeParams(other, pkce.Challenge(pkce.GenerateVerifier()))
		page, form := e.secOpenConsent(b, otherQ)
		require.Contains(t, page.Body, "csrf_token")
		form.Set("remember", "1")
		otherName := e.secDecide(b, form, "approve").cookie("oauthproxy-consent-").Name
		require.NotEqual(t, ck.Name, otherName, "one cookie per client")
		setCookie(b, &http.Cookie{Name: otherName, Value: ck.Value, Path: "/"})
		e.requireAsked(t, b, otherQ)
	})
	t.Run("tampered scope set", func(t *testing.T) {
		b, ck := remember(t)
		parts := strings.Split(ck.Value, ".")
		require.Len(t, parts, 4)
		parts[2] = base64URL("email openid profile")
		setCookie(b, &http.Cookie{Name: ck.Name, Value: strings.Join(parts, "."), Path: "/"})
		q := params()
		q.Set("scope", "openid email profile")
		e.requireAsked(t, b, q)
	})
	t.Run("tampered expiry", func(t *testing.T) {
		b, ck := remember(t)
		parts := strings.Split(ck.Value, ".")
		parts[1] = "99999999999"
		setCookie(b, &http.Cookie{Name: ck.Name, Value: strings.Join(parts, "."), Path: "/"})
		e.requireAsked(t, b, params())
	})
	t.Run("garbage", func(t *testing.T) {
		b, ck := remember(t)
		for _, v := range []string{"", "v1", "v1...", "v2." + strings.SplitN(ck.Value, ".", 2)[1], ck.Value + ".x", strings.Repeat("a", 5000)} {
			setCookie(b, &http.Cookie{Name: ck.Name, Value: v, Path: "/"})
			e.requireAsked(t, b, params())
		}
	})
	t.Run("expired", func(t *testing.T) {
		b, _ := remember(t)
		clk.Advance(rememberTTL + time.Second)
		// The browser would have dropped the cookie; this one kept it.
		e.requireAsked(t, b, params())
	})
	t.Run("not ticked", func(t *testing.T) {
		b := newSecBrowser(t)
		_, form := e.secOpenConsent(b, params())
		h := e.secDecide(b, form, "approve")
		assert.Nil(t, h.cookie("oauthproxy-consent-"))
		e.requireAsked(t, b, params())
	})
	t.Run("denied", func(t *testing.T) {
		b := newSecBrowser(t)
		_, form := e.secOpenConsent(b, params())
		form.Set("remember", "1")
		h := e.secDecide(b, form, "deny")
		assert.Nil(t, h.cookie("oauthproxy-consent-"), "a denial is never remembered")
		e.requireAsked(t, b, params())
	})
}

func TestConsent_RememberTurnedOffOrShortenedIgnoresOldCookies(t *testing.T) {
	// Proxies sharing keys and storage, as replicas behind a load balancer
	// would, configured with different ConsentRememberTTLs.
	store := newRecordingStore(storage.NewMemory())
	first := newEnv(t, withSecStore(store), withRemember(rememberTTL))
	c := first.register(rememberingAuth)
	ck := first.rememberApproval(newSecBrowser(t), authorizeParams(c, pkce.Challenge(pkce.GenerateVerifier())))

	skips := func(e *env) bool {
		t.Helper()
		res, err := e.proxy.Authorize(context.Background(), &oauthproxy.AuthorizationRequest{
			ResponseType: "code", ClientID: c.ID, RedirectURI: clientRedirect, Scope: "openid email",
			CodeChallenge: pkce.Challenge(pkce.GenerateVerifier()), CodeChallengeMethod: "S256",
			RememberedConsent: ck.Value,
		})
		require.NoError(t, err)
		if strings.Contains(res.RedirectURL, "/oauth/consent?") {
			assert.Empty(t, res.BrowserBinding)
			return false
		}
		assert.NotEmpty(t, res.BrowserBinding, "going straight upstream needs the browser binding (S09)")
		return true
	}
	assert.True(t, skips(first), "the typed API honours the cookie value")
	assert.True(t, skips(newEnv(t, withSecStore(store), withRemember(rememberTTL))), "on another replica too")
	assert.False(t, skips(newEnv(t, withSecStore(store), withRemember(time.Hour))), "a shortened TTL shortens old consents")

	off := newEnv(t, withSecStore(store))
	assert.False(t, skips(off), "remembering turned off ignores old cookies")
	b := newSecBrowser(t)
	page, form := off.secOpenConsent(b, authorizeParams(c, pkce.Challenge(pkce.GenerateVerifier())))
	assert.NotContains(t, page.Body, `id="remember"`)
	form.Set("remember", "1")
	assert.Nil(t, off.secDecide(b, form, "approve").cookie("oauthproxy-consent-"), "remember=1 is ignored when off")
}

func TestConsent_RememberedConsentCookieOnHTTPS(t *testing.T) {
	const base = "https://mcp.example.com"
	p, err := oauthproxy.New(oauthproxy.Config{
		BaseURL:                       base,
		UpstreamAuthorizationEndpoint: "https://idp.example.com/authorize",
		UpstreamTokenEndpoint:         "https://idp.example.com/token",
		UpstreamClientID:              "upstream-client",
		UpstreamClientSecret:          "upstream-secret",
		Scopes:                        []string{"openid", "email"},
		ConsentRememberTTL:            rememberTTL,
		JWTSigningKey:                 secJWTKey,
		EncryptionKey:                 []byte(strings.Repeat("e", 32)),
		ConsentSigningKey:             []byte(strings.Repeat("c", 32)),
		Logger:                        slog.New(slog.NewTextHandler(io.Discard, nil)),
	})
	require.NoError(t, err)
	t.Cleanup(p.Destroy)
	info, err := p.RegisterClient(context.Background(), &oauthproxy.ClientMetadata{
		RedirectURIs: []string{clientRedirect}, TokenEndpointAuthMethod: rememberingAuth,
	})
	require.NoError(t, err)
	serve := func(req *http.Request) *http.Response {
		rec := httptest.NewRecorder()
		p.Handler().ServeHTTP(rec, req)
		return rec.Result()
	}
	params := authorizeParams(registered{ID: info.ClientID}, pkce.Challenge(pkce.GenerateVerifier())).Encode()

	resp := serve(httptest.NewRequest(http.MethodGet, base+"/oauth/authorize?"+params, nil))
	consentURL := resp.Header.Get("Location")
	resp = serve(httptest.NewRequest(http.MethodGet, consentURL, nil))
	body, _ := io.ReadAll(resp.Body)
	var csrf *http.Cookie
	for _, ck := range resp.Cookies() {
		csrf = ck
	}
	require.NotNil(t, csrf)
	form := secConsentForm(t, string(body))
	form.Set("action", "approve")
	form.Set("remember", "1")
	req := httptest.NewRequest(http.MethodPost, base+"/oauth/consent", strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.AddCookie(csrf)
	resp = serve(req)
	require.Equal(t, http.StatusSeeOther, resp.StatusCode)

	var remembered *http.Cookie
	for _, ck := range resp.Cookies() {
		if strings.Contains(ck.Name, "oauthproxy-consent-") {
			remembered = ck
		}
	}
	require.NotNil(t, remembered, "no remembered-consent cookie in %v", resp.Header.Values("Set-Cookie"))
	assert.True(t, strings.HasPrefix(remembered.Name, "__Host-"), remembered.Name)
	assert.True(t, remembered.Secure)
	assert.True(t, remembered.HttpOnly)
	assert.Equal(t, http.SameSiteLaxMode, remembered.SameSite)
	assert.Equal(t, "/", remembered.Path)

	// The next request with the cookie goes straight upstream.
	req = httptest.NewRequest(http.MethodGet, base+"/oauth/authorize?"+params, nil)
	req.AddCookie(remembered)
	resp = serve(req)
	require.Equal(t, http.StatusFound, resp.StatusCode)
	assert.True(t, strings.HasPrefix(resp.Header.Get("Location"), "https://idp.example.com/authorize?"))
}

func TestConsent_TypedAPIRemembers(t *testing.T) {
	e := newEnv(t, withRemember(rememberTTL))
	c := e.register(rememberingAuth)
	ctx := context.Background()
	req := &oauthproxy.AuthorizationRequest{
		ResponseType: "code", ClientID: c.ID, RedirectURI: clientRedirect, Scope: "openid",
		CodeChallenge: pkce.Challenge(pkce.GenerateVerifier()), CodeChallengeMethod: "S256",
	}
	res, err := e.proxy.Authorize(ctx, req)
	require.NoError(t, err)
	page, err := e.proxy.ConsentPage(ctx, res.TransactionID, "")
	require.NoError(t, err)
	assert.Equal(t, "30 days", page.RememberFor)
	assert.Empty(t, page.ClientDomain, "a registered client has no verified domain")
	assert.Equal(t, []oauthproxy.ScopePermission{{Scope: "openid", Description: "Confirm who you are", Known: true}}, page.Permissions)

	decision, err := e.proxy.HandleConsent(ctx, &oauthproxy.ConsentDecision{
		TransactionID: res.TransactionID, Approve: true, Remember: true,
		CSRFToken: page.CSRFToken, CSRFCookie: page.CSRFCookie,
	})
	require.NoError(t, err)
	assert.Equal(t, c.ID, decision.ClientID)
	require.NotEmpty(t, decision.RememberedConsent)

	req.RememberedConsent = decision.RememberedConsent
	res, err = e.proxy.Authorize(ctx, req)
	require.NoError(t, err)
	assert.True(t, strings.HasPrefix(res.RedirectURL, e.idp.AuthorizationEndpoint()))
	assert.NotEmpty(t, res.BrowserBinding)
}

// ---------------------------------------------------------------------------
// Error page

func TestErrorPage_HTMLForPeopleJSONForClients(t *testing.T) {
	e := newEnv(t)
	get := func(accept string) secHop {
		req, err := http.NewRequest(http.MethodGet, e.srv.URL+"/oauth/authorize?client_id=no-such-client", nil)
		require.NoError(t, err)
		if accept != "" {
			req.Header.Set("Accept", accept)
		}
		return newSecBrowser(t).do(req)
	}
	for _, accept := range []string{
		"", "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8", "*/*",
		"application/json;q=0.5, text/html", "application/json;q=0",
	} {
		h := get(accept)
		assert.Equal(t, http.StatusBadRequest, h.Status, accept)
		assert.Contains(t, h.Header.Get("Content-Type"), "text/html", accept)
		assert.Contains(t, h.Body, "<code>invalid_client</code>", accept)
		assert.Contains(t, h.Body, "Unknown client.", accept)
		assert.Contains(t, h.Body, "Remove this server from the application, add it again", "a hint what to do")
		assert.Equal(t, "DENY", h.Header.Get("X-Frame-Options"))
		assert.Contains(t, h.Header.Get("Content-Security-Policy"), "frame-ancestors 'none'")
		assert.Contains(t, h.Header.Get("Cache-Control"), "no-store")
		assert.Empty(t, h.Header.Get("Location"))
	}
	for _, accept := range []string{"application/json", "application/json, text/plain", "text/html;q=0.5, application/json"} {
		h := get(accept)
		assert.Equal(t, http.StatusBadRequest, h.Status, accept)
		assert.Contains(t, h.Header.Get("Content-Type"), "application/json", accept)
		assert.Contains(t, h.Header.Get("Cache-Control"), "no-store")
		var body map[string]string
		require.NoError(t, json.Unmarshal([]byte(h.Body), &body), h.Body)
		assert.Equal(t, "invalid_client", body["error"])
	}
}

func TestErrorPage_ExpiredTransaction(t *testing.T) {
	e := newEnv(t)
	h := newSecBrowser(t).get(e.srv.URL + "/oauth/consent?txn=gone")
	secErrorPage(t, h, http.StatusBadRequest)
	assert.Contains(t, h.Body, "<code>invalid_request</code>")
	assert.Contains(t, h.Body, "This sign-in has expired or was already used")
}

func base64URL(s string) string { return base64.RawURLEncoding.EncodeToString([]byte(s)) }

func regexpOne(t *testing.T, pattern, s string) string {
	t.Helper()
	m := regexp.MustCompile(pattern).FindStringSubmatch(s)
	require.Len(t, m, 2, "no match for %s in %q", pattern, s)
	return m[1]
}
