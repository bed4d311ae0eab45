package oauthproxy

import (
	"bytes"
	"crypto/rand"
	_ "embed"
	"encoding/base64"
	"html/template"
	"net/http"
	"strings"
	"time"

	"github.com/oauthproxy-go/oauthproxy/internal/httpx"
)

//go:embed templates/error.html
var errorHTML string

var errorTemplate = template.Must(template.New("error").Parse(errorHTML))

// pageHeaders are sent with every HTML page: no framing (S08, RFC 9700 §4.16
// clickjacking), no caching, no referrer, and a CSP that allows only the
// page's own nonce-tagged style.
func pageHeaders(w http.ResponseWriter, nonce string) {
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("X-Frame-Options", "DENY")
	h.Set("Content-Security-Policy",
		"default-src 'none'; style-src 'nonce-"+nonce+"'; img-src 'self'; frame-ancestors 'none'; base-uri 'none'")
	h.Set("Referrer-Policy", "no-referrer")
	h.Set("X-Content-Type-Options", "nosniff")
	httpx.NoStore(w)
}

func newNonce() string {
	b := make([]byte, 16)
	_, _ = rand.Read(b)
	return base64.RawStdEncoding.EncodeToString(b)
}

// renderPage executes tmpl into a buffer first, so a template failure never
// leaves a half-written page.
func (p *Proxy) renderPage(w http.ResponseWriter, status int, tmpl *template.Template, data map[string]any) {
	nonce := newNonce()
	data["Nonce"] = nonce
	var buf bytes.Buffer
	if err := tmpl.Execute(&buf, data); err != nil {
		p.log.Error("oauthproxy: rendering page", "error", err)
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	pageHeaders(w, nonce)
	w.WriteHeader(status)
	_, _ = w.Write(buf.Bytes())
}

// writeBrowserError shows an error that must not be redirected: an HTML page
// for people, RFC 6749 §5.2 JSON for clients that ask for it.
func (p *Proxy) writeBrowserError(w http.ResponseWriter, r *http.Request, e *Error) {
	if strings.Contains(r.Header.Get("Accept"), "application/json") {
		p.writeError(w, r, e)
		return
	}
	p.logError(r, e)
	p.renderPage(w, e.Status, errorTemplate, map[string]any{"Code": e.Code, "Description": e.Description})
}

// serveConsentPage is GET /oauth/consent: safe to repeat (prefetch, reload).
func (p *Proxy) serveConsentPage(w http.ResponseWriter, r *http.Request) {
	var csrfCookie string
	if c, err := r.Cookie(p.csrfCookieName()); err == nil {
		csrfCookie = c.Value
	}
	page, err := p.ConsentPage(r.Context(), r.URL.Query().Get("txn"), csrfCookie)
	if err != nil {
		p.writeBrowserError(w, r, asError(err))
		return
	}
	if page.CSRFCookie != csrfCookie {
		http.SetCookie(w, p.newCookie(p.csrfCookieName(), page.CSRFCookie, p.cfg.TransactionTTL+time.Minute))
	}
	p.renderPage(w, http.StatusOK, consentTemplate, map[string]any{
		"TransactionID": page.TransactionID,
		"ClientID":      page.ClientID,
		"ClientName":    page.ClientName,
		"RedirectHost":  page.RedirectHost,
		"Scopes":        page.Scopes,
		"ProviderName":  page.ProviderName,
		"CSRFToken":     page.CSRFToken,
		"Action":        p.issuerPath() + consentPath,
	})
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
	res, derr := p.HandleConsent(r.Context(), &ConsentDecision{
		TransactionID: txnID,
		Approve:       action == "approve",
		CSRFToken:     form.Get("csrf_token"),
		CSRFCookie:    csrfCookie,
	})
	if derr != nil {
		p.writeBrowserError(w, r, asError(derr))
		return
	}
	if res.BrowserBinding != "" {
		p.SetBrowserBinding(w, txnID, res.BrowserBinding)
	}
	// 303 so the browser follows with GET (S13: never 307, which would replay
	// the POST body to the next site).
	http.Redirect(w, r, res.RedirectURL, http.StatusSeeOther)
}
