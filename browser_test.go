package oauthproxy_test

// Browser tests: a real headless Chromium (internal/browsertest) walks the
// consent page the way a person does. They skip when Chromium is not
// installed, except under `make test` (OAUTHPROXY_REQUIRE_BROWSER=1).

import (
	"bytes"
	"encoding/json"
	"image/png"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"
	"github.com/oauthproxy-go/oauthproxy"
	"github.com/oauthproxy-go/oauthproxy/internal/browsertest"
	"github.com/oauthproxy-go/oauthproxy/internal/pkce"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// clientApp is an MCP client's redirect URI: a loopback server that records
// every authorization response the browser brings it.
type clientApp struct {
	t           *testing.T
	redirectURI string
	responses   chan url.Values
}

func newClientApp(t *testing.T) *clientApp {
	t.Helper()
	app := &clientApp{t: t, responses: make(chan url.Values, 16)}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/callback" {
			http.NotFound(w, r)
			return
		}
		app.responses <- r.URL.Query()
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		_, _ = w.Write([]byte(`<!doctype html><title>Signed in</title><p id="done">You can close this window.</p>`))
	}))
	t.Cleanup(srv.Close)
	app.redirectURI = srv.URL + "/callback"
	return app
}

// await returns the next authorization response once the browser shows the
// client's page, or fails the test when none comes in time.
func (app *clientApp) await(b *browsertest.Tab) url.Values {
	app.t.Helper()
	select {
	case q := <-app.responses:
		// The server saw the request; let the browser finish loading the page
		// too, so the next step starts from a settled tab.
		require.NoError(app.t, chromedp.Do(b.Ctx, chromedp.WaitVisible(chromedp.ID("done"))))
		return q
	case <-b.Ctx.Done():
		app.t.Fatalf("the client's redirect URI was never reached: %v", b.Ctx.Err())
		return nil
	}
}

// registerNamed registers a public client called name through the HTTP
// endpoint.
func (e *env) registerNamed(name string, redirects ...string) registered {
	e.t.Helper()
	body, _ := json.Marshal(map[string]any{
		"redirect_uris":              redirects,
		"token_endpoint_auth_method": "none",
		"client_name":                name,
	})
	resp, err := http.Post(e.srv.URL+"/oauth/register", "application/json", bytes.NewReader(body))
	require.NoError(e.t, err)
	defer resp.Body.Close()
	require.Equal(e.t, http.StatusCreated, resp.StatusCode)
	var info oauthproxy.ClientInformation
	require.NoError(e.t, json.NewDecoder(resp.Body).Decode(&info))
	return registered{ID: info.ClientID, AuthMethod: "none"}
}

// browserLogin is one authorization request started in the browser.
type browserLogin struct {
	verifier string
	state    string
}

// startBrowserLogin opens /oauth/authorize for c in the browser, as an MCP
// client does when it opens the system browser.
func startBrowserLogin(t *testing.T, e *env, b *browsertest.Tab, c registered, app *clientApp, scope string) browserLogin {
	t.Helper()
	l := browserLogin{verifier: pkce.GenerateVerifier(), state: "browser-state-" + pkce.GenerateVerifier()[:8]}
	q := url.Values{
		"response_type":         {"code"},
		"client_id":             {c.ID},
		"redirect_uri":          {app.redirectURI},
		"scope":                 {scope},
		"state":                 {l.state},
		"code_challenge":        {pkce.Challenge(l.verifier)},
		"code_challenge_method": {"S256"},
	}
	require.NoError(t, chromedp.Do(b.Ctx, chromedp.Navigate(e.srv.URL+"/oauth/authorize?"+q.Encode())))
	return l
}

// redeem exchanges a code the client received, proving the flow works end
// to end, and calls the protected endpoint with the access token.
func (l browserLogin) redeem(t *testing.T, e *env, c registered, app *clientApp, got url.Values) {
	t.Helper()
	require.Empty(t, got.Get("error"), "authorization failed: %s", got.Get("error_description"))
	require.Equal(t, l.state, got.Get("state"))
	require.Equal(t, e.srv.URL, got.Get("iss"))
	require.NotEmpty(t, got.Get("code"))
	res := e.token(c, url.Values{
		"grant_type":    {"authorization_code"},
		"code":          {got.Get("code")},
		"redirect_uri":  {app.redirectURI},
		"code_verifier": {l.verifier},
	})
	require.Equal(t, http.StatusOK, res.Status, res.Body)
	resp, claims := e.callMCP(res.str("access_token"))
	require.Equal(t, http.StatusOK, resp.StatusCode)
	assert.Equal(t, c.ID, claims["ClientID"], "the token belongs to the client")
}

// waitConsentPage waits until the consent page is on screen and has loaded
// its style (a CSP-blocked stylesheet would leave the buttons unstyled).
func waitConsentPage(t *testing.T, b *browsertest.Tab) {
	t.Helper()
	require.NoError(t, chromedp.Do(b.Ctx, chromedp.WaitVisible(chromedp.CSS("button.approve"))))
	styled, err := chromedp.Run(b.Ctx, chromedp.Evaluate[bool](
		`getComputedStyle(document.documentElement).getPropertyValue('--accent').trim() !== ''`))
	require.NoError(t, err)
	require.True(t, styled, "the consent page's nonce-tagged style did not apply")
}

// requireNoConsoleErrors fails on any error in the console: a CSP violation
// (a blocked style or image) shows up there.
func requireNoConsoleErrors(t *testing.T, b *browsertest.Tab) {
	t.Helper()
	for _, m := range b.Console() {
		if strings.HasPrefix(m, "error:") || strings.HasPrefix(m, "exception:") {
			t.Errorf("browser console: %s", m)
		}
	}
}

// TestBrowser runs every browser scenario in one Chromium; each scenario
// gets its own tab in a fresh browser context (no shared cookies) and its
// own proxy, upstream and client.
func TestBrowser(t *testing.T) {
	browser := browsertest.New(t)
	for _, tc := range []struct {
		name string
		run  func(*testing.T, *browsertest.Browser)
	}{
		{"ApproveGivesTheClientACode", browserApproveGivesTheClientACode},
		{"DenyReturnsAccessDenied", browserDenyReturnsAccessDenied},
		{"KeyboardOnlyApproval", browserKeyboardOnlyApproval},
		{"RememberedConsentSkipsThePage", browserRememberedConsentSkipsThePage},
		{"ConsentPageCannotBeFramed", browserConsentPageCannotBeFramed},
		{"ConsentPageIsAccessible", browserConsentPageIsAccessible},
		{"ConsentPageScreenshot", browserConsentPageScreenshot},
	} {
		t.Run(tc.name, func(t *testing.T) { tc.run(t, browser) })
	}
}

func browserApproveGivesTheClientACode(t *testing.T, browser *browsertest.Browser) {
	e := newEnv(t, withConfig(func(c *oauthproxy.Config) { c.ProviderName = "Example IdP" }))
	app := newClientApp(t)
	c := e.register("none", app.redirectURI)
	b := browser.NewTab(t)

	login := startBrowserLogin(t, e, b, c, app, "openid email")
	waitConsentPage(t, b)
	text, err := chromedp.Run(b.Ctx, chromedp.Text(chromedp.CSS("main")))
	require.NoError(t, err)
	assert.Contains(t, text, "Test <Client>", "the client name, as text")
	assert.Contains(t, text, "Unverified")
	assert.Contains(t, text, "Example IdP", "the provider")
	assert.Contains(t, text, strings.TrimPrefix(strings.TrimSuffix(app.redirectURI, "/callback"), "http://"), "the redirect host")
	assert.Contains(t, text, "See your email address", "scopes in plain words")
	requireNoConsoleErrors(t, b)

	require.NoError(t, chromedp.Do(b.Ctx, chromedp.Click(chromedp.CSS("button.approve"))))
	login.redeem(t, e, c, app, app.await(b))
}

func browserDenyReturnsAccessDenied(t *testing.T, browser *browsertest.Browser) {
	e := newEnv(t)
	app := newClientApp(t)
	c := e.register("none", app.redirectURI)
	b := browser.NewTab(t)

	login := startBrowserLogin(t, e, b, c, app, "openid")
	waitConsentPage(t, b)
	require.NoError(t, chromedp.Do(b.Ctx, chromedp.Click(chromedp.CSS("button.deny"))))
	got := app.await(b)
	assert.Equal(t, "access_denied", got.Get("error"))
	assert.Equal(t, login.state, got.Get("state"))
	assert.Equal(t, e.srv.URL, got.Get("iss"))
	assert.Empty(t, got.Get("code"))
	assert.Empty(t, e.idp.LastAuthorizeQuery(), "the upstream is never visited")
}

func browserKeyboardOnlyApproval(t *testing.T, browser *browsertest.Browser) {
	e := newEnv(t, withConfig(func(c *oauthproxy.Config) { c.ConsentRememberTTL = 7 * 24 * time.Hour }))
	app := newClientApp(t)
	c := e.register(rememberingAuth, app.redirectURI) // the remember box is offered
	b := browser.NewTab(t)

	login := startBrowserLogin(t, e, b, c, app, "openid email")
	waitConsentPage(t, b)

	// Tab through the page from the top; no mouse event is ever sent.
	var order []string
	for range 10 {
		require.NoError(t, chromedp.Do(b.Ctx, chromedp.KeyEvent(kb.Tab)))
		focused, err := chromedp.Run(b.Ctx, chromedp.Evaluate[string](`(() => {
			const el = document.activeElement;
			return el ? (el.id || el.className || el.tagName).toString() : "";
		})()`))
		require.NoError(t, err)
		order = append(order, focused)
		if focused == "approve" {
			break
		}
	}
	assert.Equal(t, []string{"remember", "deny", "approve"}, order, "focus order: the choice, then Deny, then Approve")

	// The focus is visible (WCAG 2.4.7): a keyboard-focused button has an outline.
	outline, err := chromedp.Run(b.Ctx, chromedp.Evaluate[string](
		`(() => { const s = getComputedStyle(document.activeElement); return s.outlineStyle + " " + s.outlineWidth; })()`))
	require.NoError(t, err)
	assert.Equal(t, "solid 3px", outline)

	require.NoError(t, chromedp.Do(b.Ctx, chromedp.KeyEvent(kb.Enter)))
	login.redeem(t, e, c, app, app.await(b))
}

func browserRememberedConsentSkipsThePage(t *testing.T, browser *browsertest.Browser) {
	e := newEnv(t, withConfig(func(c *oauthproxy.Config) { c.ConsentRememberTTL = 30 * 24 * time.Hour }))
	app := newClientApp(t)
	c := e.register(rememberingAuth, app.redirectURI) // the remember box is offered
	b := browser.NewTab(t)

	consentShown := func(t *testing.T, since int64) bool {
		t.Helper()
		h, err := chromedp.Run(b.Ctx, chromedp.NavigationEntries())
		require.NoError(t, err)
		for _, entry := range h.Entries {
			if entry.ID > since && strings.Contains(entry.URL, "/oauth/consent") {
				return true
			}
		}
		return false
	}
	lastEntry := func(t *testing.T) int64 {
		t.Helper()
		h, err := chromedp.Run(b.Ctx, chromedp.NavigationEntries())
		require.NoError(t, err)
		return h.Entries[len(h.Entries)-1].ID
	}

	// First run: the page, "remember" ticked, Approve.
	login := startBrowserLogin(t, e, b, c, app, "openid email")
	waitConsentPage(t, b)
	label, err := chromedp.Run(b.Ctx, chromedp.Text(chromedp.CSS(`label[for="remember"]`)))
	require.NoError(t, err)
	assert.Equal(t, "Remember my choice for 30 days", label)
	require.NoError(t, chromedp.Do(b.Ctx,
		chromedp.Click(chromedp.CSS(`label[for="remember"]`)),
		chromedp.Click(chromedp.CSS("button.approve"))))
	login.redeem(t, e, c, app, app.await(b))

	// Second run, same client, redirect URI and fewer scopes: no page.
	mark := lastEntry(t)
	login = startBrowserLogin(t, e, b, c, app, "openid")
	login.redeem(t, e, c, app, app.await(b))
	assert.False(t, consentShown(t, mark), "a remembered consent skips the page")

	// A wider scope asks again.
	startBrowserLogin(t, e, b, c, app, "openid email profile")
	waitConsentPage(t, b)
	require.NoError(t, chromedp.Do(b.Ctx, chromedp.Click(chromedp.CSS("button.deny"))))
	assert.Equal(t, "access_denied", app.await(b).Get("error"))
}

func browserConsentPageCannotBeFramed(t *testing.T, browser *browsertest.Browser) {
	e := newEnv(t)
	c := e.register("none")

	// A transaction waiting for consent, started outside the browser.
	h := e.secAuthorize(newSecBrowser(t), authorizeParams(c, pkce.Challenge(pkce.GenerateVerifier())))
	require.NotNil(t, h.Location)
	consentURL := h.Location.String()
	// A control page on the proxy's origin that does not forbid framing, to
	// prove the test can see a framed page when framing works.
	controlURL := e.srv.URL + "/.well-known/oauth-authorization-server"

	attacker := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		_, _ = w.Write([]byte(`<!doctype html><title>Win a prize</title><h1>Click the button to win!</h1>` +
			`<iframe id="victim" name="victim" src="` + consentURL + `" width="600" height="500"></iframe>` +
			`<iframe id="control" name="control" src="` + controlURL + `" width="300" height="200"></iframe>`))
	}))
	t.Cleanup(attacker.Close)
	b := browser.NewTab(t)

	require.NoError(t, chromedp.Do(b.Ctx, chromedp.Navigate(attacker.URL)))
	var frames map[string]*cdp.Frame
	require.Eventually(t, func() bool {
		tree, err := chromedp.Call(b.Ctx, page.GetFrameTree, cdp.Empty{})
		if err != nil {
			return false
		}
		frames = map[string]*cdp.Frame{}
		for _, child := range tree.FrameTree.ChildFrames {
			frames[child.Frame.Name] = child.Frame
		}
		return frames["victim"] != nil && frames["control"] != nil && frames["control"].URL == controlURL
	}, 30*time.Second, 50*time.Millisecond, "the frames never loaded")

	victim := frames["victim"]
	t.Logf("victim frame: url=%q unreachable=%q", victim.URL, victim.UnreachableURL)
	assert.NotEqual(t, consentURL, victim.URL, "the consent page must not load inside a frame")

	// Nothing of the consent page is in the DOM, in any frame.
	html, err := chromedp.Run(b.Ctx, chromedp.Evaluate[string](`document.documentElement.outerHTML`))
	require.NoError(t, err)
	assert.NotContains(t, html, "csrf_token")
	found, err := chromedp.Run(b.Ctx, chromedp.Evaluate[bool](`(() => {
		try {
			const d = document.getElementById('victim').contentDocument;
			return !!(d && d.querySelector('button.approve'));
		} catch (e) { return false; }
	})()`))
	require.NoError(t, err)
	assert.False(t, found, "no Approve button is reachable in the frame")

	refused := false
	for _, m := range b.Console() {
		if strings.Contains(m, "frame-ancestors") || strings.Contains(m, "X-Frame-Options") {
			refused = true
		}
	}
	assert.True(t, refused, "Chrome reports the refused framing; console: %q", b.Console())
}

// contrastFailures lists the text on the page whose contrast with its
// background is below WCAG 2.2 AA (1.4.3: 4.5:1, or 3:1 for large text).
const contrastFailures = `(() => {
	const parse = c => {
		const m = c.match(/rgba?\(([^)]+)\)/);
		if (!m) return null;
		const p = m[1].split(/[ ,\/]+/).filter(Boolean).map(parseFloat);
		return {r: p[0], g: p[1], b: p[2], a: p.length > 3 ? p[3] : 1};
	};
	const lum = ({r, g, b}) => {
		const f = v => { v /= 255; return v <= 0.04045 ? v / 12.92 : Math.pow((v + 0.055) / 1.055, 2.4); };
		return 0.2126 * f(r) + 0.7152 * f(g) + 0.0722 * f(b);
	};
	const background = el => {
		for (let e = el; e; e = e.parentElement) {
			const c = parse(getComputedStyle(e).backgroundColor);
			if (c && c.a > 0.5) return c;
		}
		return {r: 255, g: 255, b: 255, a: 1};
	};
	const bad = [];
	const walk = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
	while (walk.nextNode()) {
		const text = walk.currentNode.textContent.trim();
		const el = walk.currentNode.parentElement;
		if (!text || !el.getClientRects().length) continue;
		const s = getComputedStyle(el);
		const l1 = lum(parse(s.color)), l2 = lum(background(el));
		const ratio = (Math.max(l1, l2) + 0.05) / (Math.min(l1, l2) + 0.05);
		const size = parseFloat(s.fontSize), bold = parseInt(s.fontWeight, 10) >= 700;
		const need = size >= 24 || (bold && size >= 18.66) ? 3 : 4.5;
		if (ratio < need) bad.push(text.slice(0, 40) + ": " + ratio.toFixed(2) + " < " + need);
	}
	return bad;
})()`

// unlabelledControls lists form controls a screen reader cannot name.
const unlabelledControls = `[...document.querySelectorAll('input:not([type=hidden]), button, select, textarea')]
	.filter(el => !(el.labels && el.labels.length) && !el.textContent.trim() && !el.getAttribute('aria-label'))
	.map(el => el.outerHTML)`

func browserConsentPageIsAccessible(t *testing.T, browser *browsertest.Browser) {
	b := browser.NewTab(t) // one tab for every variant; each gets its own proxy
	for _, tc := range []struct {
		name   string
		accent string
		scheme string
		width  int64
	}{
		{"light", "", "light", 1000},
		{"dark", "", "dark", 1000},
		{"light accent", "#ffcc00", "light", 1000},
		{"dark accent in dark mode", "#111111", "dark", 1000},
		{"narrow phone", "", "light", 320},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t, withConfig(func(c *oauthproxy.Config) {
				c.ConsentRememberTTL = 24 * time.Hour
				c.Branding.AccentColor = tc.accent
			}))
			app := newClientApp(t)
			c := e.register("none", app.redirectURI)
			require.NoError(t, chromedp.Do(b.Ctx, chromedp.EmulateViewport(tc.width, 800)))
			_, err := chromedp.Call(b.Ctx, emulation.SetEmulatedMedia, emulation.SetEmulatedMediaParams{
				Features: []*emulation.MediaFeature{{Name: "prefers-color-scheme", Value: tc.scheme}},
			})
			require.NoError(t, err)
			startBrowserLogin(t, e, b, c, app, "openid email")
			waitConsentPage(t, b)

			bad, err := chromedp.Run(b.Ctx, chromedp.Evaluate[[]string](contrastFailures))
			require.NoError(t, err)
			assert.Empty(t, bad, "text below WCAG AA contrast")
			unlabelled, err := chromedp.Run(b.Ctx, chromedp.Evaluate[[]string](unlabelledControls))
			require.NoError(t, err)
			assert.Empty(t, unlabelled, "form controls without a label")
			fits, err := chromedp.Run(b.Ctx, chromedp.Evaluate[bool](
				`document.documentElement.scrollWidth <= window.innerWidth`))
			require.NoError(t, err)
			assert.True(t, fits, "no sideways scrolling at %dpx", tc.width)
			minTarget, err := chromedp.Run(b.Ctx, chromedp.Evaluate[float64](
				`Math.min(...[...document.querySelectorAll('button')].map(b => b.getBoundingClientRect().height))`))
			require.NoError(t, err)
			assert.GreaterOrEqual(t, minTarget, 44.0, "buttons are comfortable touch targets")
			requireNoConsoleErrors(t, b)

			// The checks can fail: faint text is caught.
			bad, err = chromedp.Run(b.Ctx, chromedp.Evaluate[[]string](
				`document.querySelector('.fine').style.color = getComputedStyle(document.querySelector('main')).backgroundColor, `+contrastFailures))
			require.NoError(t, err)
			assert.NotEmpty(t, bad, "the contrast check itself works")
		})
	}
}

// browserConsentPageScreenshot renders the consent page as the README
// shows it; with OAUTHPROXY_UPDATE_SCREENSHOT=1 it writes docs/consent.png.
func browserConsentPageScreenshot(t *testing.T, browser *browsertest.Browser) {
	e := newEnv(t, withConfig(func(c *oauthproxy.Config) {
		c.ProviderName = "GitHub"
		c.Scopes = []string{"read:user", "user:email", "offline_access"}
		c.ConsentRememberTTL = 30 * 24 * time.Hour
		c.Branding.ProductName = "Acme MCP"
	}))
	// The MCP Inspector's redirect URI; nothing needs to listen there, the
	// picture is taken before the decision.
	app := &clientApp{t: t, redirectURI: "http://localhost:6274/oauth/callback"}
	c := e.registerNamed("MCP Inspector", app.redirectURI)
	b := browser.NewTab(t)

	const width, scale = 640, 2
	require.NoError(t, chromedp.Do(b.Ctx, chromedp.EmulateViewport(width, 800, chromedp.EmulateScale(scale))))
	startBrowserLogin(t, e, b, c, app, "read:user user:email offline_access")
	waitConsentPage(t, b)
	height, err := chromedp.Run(b.Ctx, chromedp.Evaluate[int64](`document.documentElement.scrollHeight`))
	require.NoError(t, err)
	require.NoError(t, chromedp.Do(b.Ctx, chromedp.EmulateViewport(width, height, chromedp.EmulateScale(scale))))
	requireNoConsoleErrors(t, b)
	shot, err := b.Screenshot(b.Ctx)
	require.NoError(t, err)
	img, err := png.DecodeConfig(bytes.NewReader(shot))
	require.NoError(t, err)
	require.Equal(t, width*scale, img.Width)

	if os.Getenv("OAUTHPROXY_UPDATE_SCREENSHOT") == "1" {
		out := filepath.Join("docs", "consent.png")
		require.NoError(t, os.MkdirAll("docs", 0o755))
		require.NoError(t, os.WriteFile(out, shot, 0o644))
		t.Logf("wrote %s (%dx%d)", out, img.Width, img.Height)
	}
}
