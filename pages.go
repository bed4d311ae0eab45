package oauthproxy

import (
	"bytes"
	"crypto/rand"
	_ "embed"
	"encoding/hex"
	"errors"
	"fmt"
	"html/template"
	"maps"
	"math"
	"mime"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/oauthproxy-go/oauthproxy/internal/httpx"
)

// Branding names and colours the consent and error pages. The zero value is
// the built-in look with the proxy's host as the product name.
type Branding struct {
	// ProductName heads every page ("Acme MCP"). Default: BaseURL's host.
	ProductName string
	// LogoURL is an https URL of a small square logo shown next to
	// ProductName. The pages' Content-Security-Policy allows images from its
	// origin only. Default: no logo.
	LogoURL string
	// AccentColor colours the Approve button and focus rings, as "#rrggbb" or
	// "#rgb". The button text is black or white, whichever contrasts more.
	// Default "#1d4ed8".
	AccentColor string
}

// DefaultAccentColor is the accent of the built-in pages.
const DefaultAccentColor = "#1d4ed8"

// maxConsentRememberTTL is the longest a browser keeps a cookie
// (RFC 6265bis §5.5: Max-Age and Expires are capped at 400 days).
const maxConsentRememberTTL = 400 * 24 * time.Hour

var (
	//go:embed templates/consent.html
	consentHTML string
	//go:embed templates/error.html
	errorHTML string

	pageFuncs = template.FuncMap{
		"accentText": accentTextColor,
		"focusColor": focusColor,
		"initial":    initial,
		"sentence":   sentence,
	}
	consentTemplate = template.Must(template.New("consent").Funcs(pageFuncs).Parse(consentHTML))
	errorTemplate   = template.Must(template.New("error").Funcs(pageFuncs).Parse(errorHTML))

	hexColor = regexp.MustCompile(`^#(?:[0-9a-fA-F]{3}|[0-9a-fA-F]{6})$`)
	// cspHost is what may appear in a CSP host-source: a DNS name, an IPv4
	// address or a bracketed IPv6 address, and a port.
	cspHost = regexp.MustCompile(`^(?:[A-Za-z0-9.-]+|\[[0-9A-Fa-f:.]+\])(?::[0-9]{1,5})?$`)
)

// consentDefaults validates and defaults the consent page options.
func (s *settings) consentDefaults() error {
	// Own copies, so later changes by the caller do not reach the pages.
	s.ScopeDescriptions = maps.Clone(s.ScopeDescriptions)
	if s.ConsentTemplate != nil {
		if t, err := s.ConsentTemplate.Clone(); err == nil {
			s.ConsentTemplate = t
		}
	}
	var errs []error
	switch {
	case s.ConsentRememberTTL < 0:
		errs = append(errs, fmt.Errorf("ConsentRememberTTL must not be negative (got %s)", s.ConsentRememberTTL))
	case s.ConsentRememberTTL > maxConsentRememberTTL:
		errs = append(errs, fmt.Errorf("ConsentRememberTTL must be at most 400 days (got %s)", s.ConsentRememberTTL))
	case s.ConsentRememberTTL > 0 && s.ConsentRememberTTL < time.Minute:
		errs = append(errs, fmt.Errorf("ConsentRememberTTL must be at least a minute (got %s)", s.ConsentRememberTTL))
	}
	b := &s.Branding
	b.ProductName = strings.TrimSpace(b.ProductName)
	if b.ProductName == "" && s.issuer != nil {
		b.ProductName = s.issuer.Host
	}
	if len(b.ProductName) > 100 {
		errs = append(errs, errors.New("Branding.ProductName must be at most 100 bytes"))
	}
	if b.LogoURL != "" {
		if _, err := logoOrigin(b.LogoURL); err != nil {
			errs = append(errs, err)
		}
	}
	switch {
	case b.AccentColor == "":
		b.AccentColor = DefaultAccentColor
	case !hexColor.MatchString(b.AccentColor):
		errs = append(errs, fmt.Errorf("Branding.AccentColor %q must be #rrggbb or #rgb", b.AccentColor))
	case len(b.AccentColor) == 4:
		r, g, bl := b.AccentColor[1:2], b.AccentColor[2:3], b.AccentColor[3:4]
		b.AccentColor = "#" + r + r + g + g + bl + bl
	}
	b.AccentColor = strings.ToLower(b.AccentColor)
	for scope, desc := range s.ScopeDescriptions {
		if len(desc) > 200 {
			errs = append(errs, fmt.Errorf("ScopeDescriptions[%q] must be at most 200 bytes", scope))
		}
	}
	return errors.Join(errs...)
}

// logoOrigin checks a Branding.LogoURL and returns the origin the CSP must
// allow for it.
func logoOrigin(raw string) (string, error) {
	u, err := url.Parse(raw)
	switch {
	case err != nil:
		return "", fmt.Errorf("Branding.LogoURL: %w", err)
	case u.Scheme != "https" || u.Host == "" || u.Opaque != "":
		return "", fmt.Errorf("Branding.LogoURL %q must be an absolute https URL", raw)
	case u.User != nil:
		return "", errors.New("Branding.LogoURL must not contain userinfo")
	case !cspHost.MatchString(u.Host):
		return "", fmt.Errorf("Branding.LogoURL %q has an unusable host", raw)
	case len(raw) > 2048:
		return "", errors.New("Branding.LogoURL must be at most 2048 bytes")
	}
	return "https://" + strings.ToLower(u.Host), nil
}

// contentSecurityPolicy allows nothing but the page's own nonce-tagged style
// and the logo's origin; it forbids framing (S08, RFC 9700 §4.16) and <base>.
func (p *Proxy) contentSecurityPolicy(nonce string) string {
	img := "'none'"
	if p.cfg.Branding.LogoURL != "" {
		img, _ = logoOrigin(p.cfg.Branding.LogoURL) // validated by New
	}
	return "default-src 'none'; style-src 'nonce-" + nonce + "'; img-src " + img +
		"; frame-ancestors 'none'; base-uri 'none'"
}

// pageHeaders are sent with every HTML page: no framing, no caching, no
// referrer, no MIME sniffing, and the CSP.
func (p *Proxy) pageHeaders(w http.ResponseWriter, nonce string) {
	httpx.SetHeaders(w.Header(),
		"Content-Type", "text/html; charset=utf-8",
		"X-Frame-Options", "DENY",
		"Content-Security-Policy", p.contentSecurityPolicy(nonce),
		"Referrer-Policy", "no-referrer",
		"X-Content-Type-Options", "nosniff")
	httpx.NoStore(w)
}

// newNonce is 128 random bits for a CSP nonce (CSP3 §2.3.1), in hex so it
// needs no escaping in the header or the HTML attribute.
func newNonce() string {
	b := make([]byte, 16)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// renderPage executes tmpl into a buffer first, so a template failure never
// leaves a half-written page.
func (p *Proxy) renderPage(w http.ResponseWriter, status int, tmpl *template.Template, data any, nonce string) {
	var buf bytes.Buffer
	if err := tmpl.Execute(&buf, data); err != nil {
		p.log.Error("oauthproxy: rendering page", "template", tmpl.Name(), "error", err)
		httpx.NoStore(w)
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	p.writePage(w, status, buf.Bytes(), nonce)
}

// writePage sends a rendered page with the page headers.
func (p *Proxy) writePage(w http.ResponseWriter, status int, page []byte, nonce string) {
	p.pageHeaders(w, nonce)
	w.WriteHeader(status)
	_, _ = w.Write(page)
}

// errorPage is what the error template shows.
type errorPage struct {
	Code        string // the OAuth error code (RFC 6749 §4.1.2.1, §5.2)
	Description string
	Hint        string // what the person can do about it
	Status      int
	Branding    Branding
	Nonce       string
}

// errorHint tells a person what to do next, by error code.
func errorHint(e *Error) string {
	switch e.Code {
	case ErrCodeInvalidClient:
		return "The application is not registered with this server, or its registration has expired. Remove this server from the application, add it again, and sign in."
	case ErrCodeAccessDenied:
		return "Go back to the application and start the sign-in again, in this browser."
	case ErrCodeServerError:
		return "Something went wrong on the server. Try again from the application in a moment."
	case ErrCodeTemporarilyUnavailable:
		return "The server is busy or a service it needs is down. Try again from the application in a moment."
	default:
		return "Go back to the application and start the sign-in again. If this keeps happening, tell the application's developer the error code below."
	}
}

// wantsJSON reports whether the client prefers JSON to HTML (RFC 9110
// §12.5.1): it names application/json with a weight above text/html's.
func wantsJSON(r *http.Request) bool {
	weight := map[string]float64{}
	for _, part := range strings.Split(r.Header.Get("Accept"), ",") {
		mt, params, err := mime.ParseMediaType(strings.TrimSpace(part))
		if err != nil {
			continue
		}
		q := 1.0
		if v, ok := params["q"]; ok {
			if f, err := strconv.ParseFloat(v, 64); err == nil && !math.IsNaN(f) {
				q = f
			}
		}
		if q > weight[mt] {
			weight[mt] = q
		}
	}
	return weight["application/json"] > 0 && weight["application/json"] > weight["text/html"]
}

// writeBrowserError shows an error that must not be redirected: an HTML page
// for people, RFC 6749 §5.2 JSON for clients that ask for it.
func (p *Proxy) writeBrowserError(w http.ResponseWriter, r *http.Request, e *Error) {
	if wantsJSON(r) {
		p.writeError(w, r, e)
		return
	}
	p.logError(r, e)
	setRetryAfter(w, e)
	nonce := newNonce()
	p.renderPage(w, e.Status, errorTemplate, &errorPage{
		Code:        e.Code,
		Description: publicDescription(e.Description),
		Hint:        errorHint(e),
		Status:      e.Status,
		Branding:    p.cfg.Branding,
		Nonce:       nonce,
	}, nonce)
}

// serveConsentPage is GET /oauth/consent: safe to repeat (prefetch, reload).
func (p *Proxy) serveConsentPage(w http.ResponseWriter, r *http.Request) {
	var csrfCookie string
	if c, err := r.Cookie(p.csrfCookieName()); err == nil {
		csrfCookie = c.Value
	}
	page, err := p.ConsentPage(p.requestContext(r), httpx.Query(r.URL).Get("txn"), csrfCookie)
	if err != nil {
		p.writeBrowserError(w, r, asError(err))
		return
	}
	if page.CSRFCookie != csrfCookie {
		p.setCookie(w, p.csrfCookieName(), page.CSRFCookie, p.cfg.TransactionTTL+time.Minute)
	}
	tmpl := consentTemplate
	if p.cfg.ConsentTemplate != nil {
		tmpl = p.cfg.ConsentTemplate
	}
	page.Nonce = newNonce()
	if tmpl == consentTemplate {
		if body, ok := p.consentPages.render(page); ok { // the same bytes, faster (consent_fastpage.go)
			p.writePage(w, http.StatusOK, body, page.Nonce)
			p.consentPages.release(body)
			return
		}
	}
	p.renderPage(w, http.StatusOK, tmpl, page, page.Nonce)
}

// serveConsentDecision is POST /oauth/consent.
func (p *Proxy) serveConsentDecision(w http.ResponseWriter, r *http.Request) {
	form, err := httpx.ReadForm(w, r)
	if err != nil {
		p.writeBrowserError(w, r, newError(ErrCodeInvalidRequest, publicText(err)).noRedirect())
		return
	}
	var csrfCookie string
	if c, err := r.Cookie(p.csrfCookieName()); err == nil {
		csrfCookie = c.Value
	}
	action := form.Get("action")
	if action != "approve" && action != "deny" {
		p.writeBrowserError(w, r, newError(ErrCodeInvalidRequest, "action must be approve or deny").noRedirect())
		return
	}
	txnID := form.Get("txn")
	res, derr := p.HandleConsent(p.requestContext(r), &ConsentDecision{
		TransactionID: txnID,
		Approve:       action == "approve",
		Remember:      form.Get("remember") == "1",
		CSRFToken:     form.Get("csrf_token"),
		CSRFCookie:    csrfCookie,
	})
	if derr != nil {
		p.writeBrowserError(w, r, asError(derr))
		return
	}
	if res.BrowserBinding != "" {
		p.setBindingCookie(w, txnID, res.BrowserBinding)
	}
	if res.RememberedConsent != "" {
		p.setRememberCookie(w, res.ClientID, res.RememberedConsent)
	}
	// 303 so the browser follows with GET (S13: never 307, which would replay
	// the POST body to the next site).
	httpx.Redirect(w, r, res.RedirectURL, http.StatusSeeOther)
}

// relativeLuminance is WCAG 2.2's relative luminance of a "#rrggbb" colour.
func relativeLuminance(hex string) float64 {
	v, err := strconv.ParseUint(strings.TrimPrefix(hex, "#"), 16, 32)
	if err != nil || len(hex) != 7 {
		return 0
	}
	channel := func(c uint64) float64 {
		s := float64(c) / 255
		if s <= 0.04045 {
			return s / 12.92
		}
		return math.Pow((s+0.055)/1.055, 2.4)
	}
	return 0.2126*channel(v>>16&0xff) + 0.7152*channel(v>>8&0xff) + 0.0722*channel(v&0xff)
}

// contrastRatio is WCAG 2.2's contrast ratio of two "#rrggbb" colours.
func contrastRatio(a, b string) float64 {
	la, lb := relativeLuminance(a), relativeLuminance(b)
	if la < lb {
		la, lb = lb, la
	}
	return (la + 0.05) / (lb + 0.05)
}

const (
	pageInk   = "#111827" // body text, and button text on light accents
	pagePaper = "#ffffff" // card background
)

// accentTextColor is the text colour on an accent background: white or ink,
// whichever contrasts more.
func accentTextColor(accent string) string {
	if contrastRatio(accent, pagePaper) >= contrastRatio(accent, pageInk) {
		return pagePaper
	}
	return pageInk
}

// focusColor is the focus ring colour: the accent when it stands out from the
// white card (WCAG 2.2 §1.4.11 asks 3:1), else ink.
func focusColor(accent string) string {
	if contrastRatio(accent, pagePaper) >= 3 {
		return accent
	}
	return pageInk
}

// sentence capitalises an error description and ends it with a full stop,
// for the error page (descriptions are lower-case fragments on the wire).
func sentence(s string) string {
	s = strings.TrimSpace(s)
	if s == "" {
		return ""
	}
	r, size := utf8.DecodeRuneInString(s)
	s = string(unicode.ToUpper(r)) + s[size:]
	if !strings.HasSuffix(s, ".") && !strings.HasSuffix(s, "!") && !strings.HasSuffix(s, "?") {
		s += "."
	}
	return s
}

// initial is the first letter of name, upper-cased, for the avatar drawn in
// place of a client logo (client logos are self-asserted and not loaded).
func initial(name string) string {
	for _, r := range name {
		if r > ' ' {
			return strings.ToUpper(string(r))
		}
	}
	return "?"
}
