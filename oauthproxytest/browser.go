package oauthproxytest

import (
	"context"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"
)

// Pages a Browser recognises, as listed in AuthorizationResult.Pages.
const (
	// PageConsent is the proxy's consent page: a form with the hidden inputs
	// txn and csrf_token and the buttons action=approve and action=deny.
	PageConsent = "consent"
	// PageLogin is this package's sign-in page (Options.LoginPage): a form
	// with the hidden input login and the buttons action=approve and
	// action=deny.
	PageLogin = "login"
)

const (
	// maxBrowserSteps bounds the requests of one Authorize call: pages,
	// form posts and redirects.
	maxBrowserSteps = 20
	// browserTimeout bounds one Authorize call.
	browserTimeout = 30 * time.Second
	// maxPageSize bounds a page the browser reads.
	maxPageSize = 1 << 20
)

// Browser plays the user in the browser part of the authorization code flow
// (RFC 6749 §4.1.1–4.1.2) in front of the proxy: it opens the authorization
// URL, follows redirects, submits the proxy's consent page and this package's
// sign-in page the way a browser submits a form, keeps cookies in a jar, and
// stops when it is sent to the client's redirect URI, returning the
// authorization response the client would receive.
//
// The zero value is usable; NewBrowser gives a test its own. Authorize may be
// called from several goroutines while the fields are left alone.
type Browser struct {
	// Jar keeps cookies across requests and Authorize calls, as a browser
	// profile does: the proxy's CSRF, browser-binding and remembered-consent
	// cookies live here. If nil, Authorize sets a new jar.
	Jar http.CookieJar
	// Transport sends the requests; nil means http.DefaultTransport. For
	// servers started with httptest.NewTLSServer, use their Client().Transport.
	Transport http.RoundTripper

	// RedirectURIs are prefixes of the client's redirect URIs: the browser
	// stops at any URL that starts with one. Authorize also stops at the
	// redirect_uri of the authorization URL, so this is needed only when
	// that parameter is absent or the client's URI has many forms.
	RedirectURIs []string
	// Origins are the origins the browser signs in at ("http://127.0.0.1:8080"):
	// the proxy's and the upstream provider's. When set, a redirect to any
	// other origin is taken as the redirect to the client. The authorization
	// URL's origin is always one of them.
	Origins []string

	// Remember ticks the consent page's "remember my choice" box
	// (Config.ConsentRememberTTL); Authorize fails on a consent page without
	// one. Otherwise the box is left unticked, whatever the page's default.
	Remember bool
	// Deny clicks Deny on the consent page instead of Approve.
	Deny bool
	// CancelLogin clicks Cancel on the sign-in page instead of signing in.
	CancelLogin bool

	ctx   context.Context // from NewBrowser: the test's context
	jarMu sync.Mutex
}

// NewBrowser returns a Browser for the test t, with its own cookie jar and
// HTTP transport (never an HTTP proxy from the environment). Its requests run
// under t.Context(), and its idle connections are closed when the test ends.
func NewBrowser(t testing.TB) *Browser {
	t.Helper()
	jar, err := cookiejar.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	tr := &http.Transport{
		ForceAttemptHTTP2:   true,
		MaxIdleConns:        10,
		IdleConnTimeout:     30 * time.Second,
		TLSHandshakeTimeout: 10 * time.Second,
	}
	t.Cleanup(tr.CloseIdleConnections)
	return &Browser{Jar: jar, Transport: tr, ctx: t.Context()}
}

// AuthorizationResult is the authorization response the browser was sent to
// the client with (RFC 6749 §4.1.2 and §4.1.2.1, RFC 9207), and the way it
// took there.
type AuthorizationResult struct {
	// Code is the authorization code; it is empty in an error response.
	Code string
	// State is the state parameter, which must equal the request's.
	State string
	// Iss is the issuer that sent the response (RFC 9207 §2).
	Iss string
	// Error, ErrorDescription and ErrorURI are an error response's
	// parameters (RFC 6749 §4.1.2.1).
	Error, ErrorDescription, ErrorURI string

	// RedirectURL is where the browser was sent, parameters included.
	RedirectURL *url.URL
	// AuthorizationURL is the URL Authorize was given; its Query has the
	// client's request (client_id, code_challenge, resource, …).
	AuthorizationURL *url.URL
	// Pages lists the forms the browser submitted, in order: PageConsent,
	// PageLogin, or for another form the path it posts to.
	Pages []string
	// Visited lists the requests the browser made, in order, as
	// "GET http://…" or "POST http://…". The client's redirect URI, which
	// the browser does not request, is not among them.
	Visited []string
}

// AuthorizationError is an error response (RFC 6749 §4.1.2.1) sent to the
// client's redirect URI, such as access_denied when the user clicked Deny.
type AuthorizationError struct {
	Code        string // error
	Description string // error_description
	URI         string // error_uri
}

func (e *AuthorizationError) Error() string {
	if e.Description == "" {
		return "oauthproxytest: authorization error response: " + e.Code
	}
	return "oauthproxytest: authorization error response: " + e.Code + ": " + e.Description
}

// PageError is a page the browser could not get past: an HTTP error status,
// a response that is not HTML, or a page without the form and button it
// needs, such as the proxy's error page.
type PageError struct {
	Method, URL string
	Status      int
	// Reason says why the browser stopped there.
	Reason string
	// Text is the page's visible text, shortened.
	Text string
}

func (e *PageError) Error() string {
	msg := fmt.Sprintf("oauthproxytest: %s %s: HTTP %d: %s", e.Method, e.URL, e.Status, e.Reason)
	if e.Text != "" {
		msg += "; the page says: " + e.Text
	}
	return msg
}

// Authorize walks the browser part of the flow from authorizationURL under the
// Browser's context (NewBrowser's test context, else context.Background); see
// AuthorizeContext.
func (b *Browser) Authorize(authorizationURL string) (*AuthorizationResult, error) {
	ctx := b.ctx
	if ctx == nil {
		ctx = context.Background()
	}
	return b.AuthorizeContext(ctx, authorizationURL)
}

// AuthorizeContext opens authorizationURL and plays the user until the
// browser is sent to the client's redirect URI, whose parameters it returns.
// On the way it follows redirects (303, and 301 and 302 after a POST, become
// GET; 307 and 308 repeat the request), and on each HTML page it submits the
// first form with the button it means to click: Approve (or Deny, with the
// Deny field) on the proxy's consent page, "Sign in" (or Cancel, with
// CancelLogin) on this package's sign-in page, and Approve on any other form.
// A form is submitted as a browser would: its hidden and other inputs, the
// clicked button's name and value, to its action with its method, with the
// Origin and Sec-Fetch-Site headers a browser sends.
//
// The client's redirect URI is any URL with the scheme, host, port and path
// of the authorization URL's redirect_uri parameter; any URL that starts with
// one of RedirectURIs; when Origins is set, any URL on another origin than
// those and the authorization URL's; and any URL whose scheme is not http or
// https (cursor://…). The browser does not request it.
//
// An error response there returns the result with an *AuthorizationError. A
// page the browser cannot get past returns a *PageError.
func (b *Browser) AuthorizeContext(ctx context.Context, authorizationURL string) (*AuthorizationResult, error) {
	start, err := url.Parse(authorizationURL)
	if err != nil {
		return nil, fmt.Errorf("oauthproxytest: authorization URL: %w", err)
	}
	if (start.Scheme != "http" && start.Scheme != "https") || start.Host == "" {
		return nil, fmt.Errorf("oauthproxytest: authorization URL %q is not an absolute http(s) URL", authorizationURL)
	}
	ctx, cancel := context.WithTimeout(ctx, browserTimeout)
	defer cancel()
	w := &walk{
		b:       b,
		client:  &http.Client{Transport: b.Transport, Jar: b.jar(), CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }},
		origins: map[string]bool{origin(start): true},
		res:     &AuthorizationResult{AuthorizationURL: start},
	}
	for _, o := range b.Origins {
		if u, err := url.Parse(o); err == nil {
			w.origins[origin(u)] = true
		}
	}
	if raw := start.Query().Get("redirect_uri"); raw != "" {
		if u, err := url.Parse(raw); err == nil {
			w.redirectURI = u
		}
	}
	return w.run(ctx, start)
}

// jar returns b.Jar, setting a new one if it is nil.
func (b *Browser) jar() http.CookieJar {
	b.jarMu.Lock()
	defer b.jarMu.Unlock()
	if b.Jar == nil {
		b.Jar, _ = cookiejar.New(nil) // cookiejar.New fails only on a bad PublicSuffixList
	}
	return b.Jar
}

// walk is one Authorize call.
type walk struct {
	b           *Browser
	client      *http.Client
	origins     map[string]bool
	redirectURI *url.URL // the authorization URL's redirect_uri, if any
	res         *AuthorizationResult
}

// step is a request the browser is about to make.
type step struct {
	method string
	url    *url.URL
	form   url.Values // a POST body
	from   *url.URL   // the page whose form this submits; nil for navigations
}

func (w *walk) run(ctx context.Context, start *url.URL) (*AuthorizationResult, error) {
	next := step{method: http.MethodGet, url: start}
	for i := range maxBrowserSteps {
		if i > 0 && w.isClientRedirect(next.url) {
			return w.finish(next)
		}
		resp, body, err := w.do(ctx, next)
		if err != nil {
			return nil, err
		}
		if isRedirect(resp.StatusCode) {
			loc, err := resp.Location()
			if err != nil {
				return nil, w.pageError(next, resp, body, "redirect without a usable Location")
			}
			next = redirectStep(next, resp.StatusCode, loc)
			continue
		}
		next, err = w.submit(next, resp, body)
		if err != nil {
			return nil, err
		}
	}
	return nil, fmt.Errorf("oauthproxytest: no redirect to the client's redirect URI after %d requests:\n  %s",
		maxBrowserSteps, strings.Join(w.res.Visited, "\n  "))
}

// do sends s and reads the response body.
func (w *walk) do(ctx context.Context, s step) (*http.Response, []byte, error) {
	var body io.Reader
	if s.form != nil {
		body = strings.NewReader(s.form.Encode())
	}
	req, err := http.NewRequestWithContext(ctx, s.method, s.url.String(), body)
	if err != nil {
		return nil, nil, fmt.Errorf("oauthproxytest: %s %s: %w", s.method, s.url, err)
	}
	req.Header.Set("User-Agent", "oauthproxytest.Browser")
	req.Header.Set("Accept", "text/html,application/xhtml+xml;q=0.9,*/*;q=0.8")
	if s.form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	if s.from != nil {
		// What a browser sends with a form submission (Fetch §3.1, Fetch
		// Metadata §2), so the servers' cross-origin checks see a browser.
		if s.method != http.MethodGet {
			req.Header.Set("Origin", origin(s.from))
		}
		req.Header.Set("Sec-Fetch-Site", fetchSite(s.from, s.url))
		req.Header.Set("Sec-Fetch-Mode", "navigate")
		req.Header.Set("Sec-Fetch-Dest", "document")
		req.Header.Set("Sec-Fetch-User", "?1")
	}
	w.res.Visited = append(w.res.Visited, s.method+" "+s.url.String())
	resp, err := w.client.Do(req)
	if err != nil {
		return nil, nil, fmt.Errorf("oauthproxytest: %s %s: %w", s.method, s.url, err)
	}
	defer resp.Body.Close()
	page, err := io.ReadAll(io.LimitReader(resp.Body, maxPageSize+1))
	if err != nil {
		return nil, nil, fmt.Errorf("oauthproxytest: %s %s: reading the response: %w", s.method, s.url, err)
	}
	if len(page) > maxPageSize {
		return nil, nil, fmt.Errorf("oauthproxytest: %s %s: the page is larger than %d bytes", s.method, s.url, maxPageSize)
	}
	return resp, page, nil
}

// submit reads the page and returns the submission of the form the user
// would submit on it.
func (w *walk) submit(cur step, resp *http.Response, body []byte) (step, error) {
	if resp.StatusCode != http.StatusOK {
		return step{}, w.pageError(cur, resp, body, "not a page the browser can go on from")
	}
	if mt, _, _ := mime.ParseMediaType(resp.Header.Get("Content-Type")); mt != "text/html" && mt != "application/xhtml+xml" {
		return step{}, w.pageError(cur, resp, body, fmt.Sprintf("a %q response, not an HTML page", mt))
	}
	page, err := parsePage(body)
	if err != nil {
		return step{}, w.pageError(cur, resp, body, "unreadable HTML: "+err.Error())
	}
	f, button, kind, err := w.choose(page)
	if err != nil {
		return step{}, &PageError{Method: cur.method, URL: cur.url.String(), Status: resp.StatusCode, Reason: err.Error(), Text: page.text}
	}
	action := f.action
	if button.formAction != "" {
		action = button.formAction
	}
	target, err := cur.url.Parse(action)
	if err != nil {
		return step{}, &PageError{Method: cur.method, URL: cur.url.String(), Status: resp.StatusCode, Reason: fmt.Sprintf("form action %q: %v", action, err), Text: page.text}
	}
	method := f.method
	if button.formMethod != "" {
		method = formMethod(button.formMethod)
	}
	fields := url.Values{}
	for k, v := range f.fields {
		fields[k] = append([]string(nil), v...)
	}
	if button.name != "" {
		fields.Add(button.name, button.value)
	}
	if kind == PageConsent {
		if err := w.setRemember(f, fields); err != nil {
			return step{}, &PageError{Method: cur.method, URL: cur.url.String(), Status: resp.StatusCode, Reason: err.Error(), Text: page.text}
		}
	}
	if kind == "" {
		kind = target.Path
	}
	w.res.Pages = append(w.res.Pages, kind)
	if method == "get" {
		target.RawQuery = fields.Encode()
		return step{method: http.MethodGet, url: target, from: cur.url}, nil
	}
	if f.enctype != "" && f.enctype != "application/x-www-form-urlencoded" {
		return step{}, &PageError{Method: cur.method, URL: cur.url.String(), Status: resp.StatusCode, Reason: fmt.Sprintf("form enctype %q is not supported", f.enctype), Text: page.text}
	}
	return step{method: http.MethodPost, url: target, form: fields, from: cur.url}, nil
}

// choose finds the form to submit and the button to click on page: the first
// form that has the button this page calls for.
func (w *walk) choose(page *parsedPage) (*htmlForm, submitter, string, error) {
	if len(page.forms) == 0 {
		return nil, submitter{}, "", errors.New("the page has no form")
	}
	var wanted []string
	for _, f := range page.forms {
		kind, want := w.intent(f)
		if b, ok := f.find(want); ok {
			return f, b, kind, nil
		}
		wanted = append(wanted, want)
	}
	return nil, submitter{}, "", fmt.Errorf("no form on the page has a %q button", strings.Join(wanted, `" or "`))
}

// intent recognises a form and returns its page kind ("" for one the
// browser does not know) and the value of the button to click.
func (w *walk) intent(f *htmlForm) (kind, button string) {
	switch {
	case f.fields.Has("txn") && f.fields.Has("csrf_token"):
		if w.b.Deny {
			return PageConsent, "deny"
		}
		return PageConsent, "approve"
	case f.fields.Has("login"):
		if w.b.CancelLogin {
			return PageLogin, "deny"
		}
		return PageLogin, "approve"
	}
	return "", "approve"
}

// setRemember ticks the consent page's remember box if Remember is set, and
// leaves it unticked otherwise.
func (w *walk) setRemember(f *htmlForm, fields url.Values) error {
	fields.Del("remember")
	if !w.b.Remember {
		return nil
	}
	for _, c := range f.checkboxes {
		if c.name == "remember" {
			fields.Set("remember", c.value)
			return nil
		}
	}
	return errors.New("Browser.Remember is set, but the consent page has no remember box (is Config.ConsentRememberTTL set?)")
}

// isClientRedirect reports whether u is the client's redirect URI.
func (w *walk) isClientRedirect(u *url.URL) bool {
	if u.Scheme != "http" && u.Scheme != "https" {
		return true
	}
	if r := w.redirectURI; r != nil && strings.EqualFold(u.Scheme, r.Scheme) &&
		strings.EqualFold(u.Host, r.Host) && u.EscapedPath() == r.EscapedPath() {
		return true
	}
	s := u.String()
	for _, prefix := range w.b.RedirectURIs {
		if prefix != "" && strings.HasPrefix(s, prefix) {
			return true
		}
	}
	return len(w.b.Origins) > 0 && !w.origins[origin(u)]
}

// finish reads the authorization response from the redirect to the client.
func (w *walk) finish(s step) (*AuthorizationResult, error) {
	res := w.res
	res.RedirectURL = s.url
	q := s.url.Query()
	if s.form != nil { // a form posted to the client, as response_mode=form_post does
		q = s.form
	}
	res.Code, res.State, res.Iss = q.Get("code"), q.Get("state"), q.Get("iss")
	res.Error, res.ErrorDescription, res.ErrorURI = q.Get("error"), q.Get("error_description"), q.Get("error_uri")
	if res.Error != "" {
		return res, &AuthorizationError{Code: res.Error, Description: res.ErrorDescription, URI: res.ErrorURI}
	}
	if res.Code == "" {
		return res, fmt.Errorf("oauthproxytest: the redirect to the client %s has neither code nor error", s.url)
	}
	return res, nil
}

func (w *walk) pageError(s step, resp *http.Response, body []byte, reason string) *PageError {
	e := &PageError{Method: s.method, URL: s.url.String(), Status: resp.StatusCode, Reason: reason}
	if mt, _, _ := mime.ParseMediaType(resp.Header.Get("Content-Type")); mt == "text/html" {
		if page, err := parsePage(body); err == nil {
			e.Text = page.text
		}
	} else {
		e.Text = shorten(strings.Join(strings.Fields(string(body)), " "))
	}
	return e
}

func isRedirect(status int) bool {
	switch status {
	case http.StatusMovedPermanently, http.StatusFound, http.StatusSeeOther,
		http.StatusTemporaryRedirect, http.StatusPermanentRedirect:
		return true
	}
	return false
}

// redirectStep is the request a browser makes for a redirect (Fetch §4.4,
// "HTTP-redirect fetch"): 307 and 308 repeat the method and body; 303, and
// 301 and 302 after a POST, become a GET without a body.
func redirectStep(prev step, status int, loc *url.URL) step {
	if status == http.StatusTemporaryRedirect || status == http.StatusPermanentRedirect {
		return step{method: prev.method, url: loc, form: prev.form, from: prev.from}
	}
	return step{method: http.MethodGet, url: loc}
}

// origin is u's scheme://host[:port], lower-cased.
func origin(u *url.URL) string {
	return strings.ToLower(u.Scheme + "://" + u.Host)
}

// fetchSite is the Sec-Fetch-Site of a request from a page at from to to
// (Fetch Metadata §2.1). Sites are compared by scheme and host name, without
// the public suffix list: right for IP addresses and equal host names.
func fetchSite(from, to *url.URL) string {
	switch {
	case origin(from) == origin(to):
		return "same-origin"
	case strings.EqualFold(from.Scheme, to.Scheme) && strings.EqualFold(from.Hostname(), to.Hostname()):
		return "same-site"
	default:
		return "cross-site"
	}
}
