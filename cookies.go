package oauthproxy

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"hash"
	"net/http"
	"strings"
	"time"

	"github.com/oauthproxy-go/oauthproxy/internal/strview"
)

// Cookie purposes; each HMAC is domain-separated by its purpose so a value made
// for one can never pass as another.
const (
	purposeBinding  = "oauthproxy/browser-binding/v1\x00"
	purposeCSRF     = "oauthproxy/consent-csrf/v1\x00"
	purposeRemember = "oauthproxy/consent-remember/v1\x00"
)

// sign is HMAC-SHA256 under the ConsentSigningKey, base64url.
func (p *Proxy) sign(purpose string, parts ...string) string {
	var out signature
	p.signInto(&out, purpose, parts...)
	return string(out[:])
}

// signature is a sign result: base64url of a SHA-256 HMAC, unpadded.
type signature [43]byte

// signInto writes sign's result into out, with no allocation: the message
// goes to the MAC a part at a time (issue 16: four signatures a sign-in).
func (p *Proxy) signInto(out *signature, purpose string, parts ...string) {
	// A keyed HMAC reset for reuse: hmac.New hashes the key into fresh
	// states on each call.
	m, _ := p.consentMACs.Get().(hash.Hash)
	if m == nil {
		m = hmac.New(sha256.New, p.cfg.ConsentSigningKey)
	}
	// The message is purpose, then each part followed by a zero byte.
	m.Write(strview.Bytes(purpose))
	for _, part := range parts {
		m.Write(strview.Bytes(part))
		m.Write(zeroByte[:])
	}
	var sum [sha256.Size]byte
	base64.RawURLEncoding.Encode(out[:], m.Sum(sum[:0]))
	m.Reset()
	p.consentMACs.Put(m)
}

var zeroByte = [1]byte{0}

// verifySigned compares got with the expected signature in constant time.
func (p *Proxy) verifySigned(got, purpose string, parts ...string) bool {
	if got == "" {
		return false
	}
	var want signature
	p.signInto(&want, purpose, parts...)
	return hmac.Equal(strview.Bytes(got), want[:])
}

// browserBinding is the value of the cookie that ties a transaction to the
// browser that consented (S09). It is an HMAC of the transaction id, so only
// the proxy can mint it and it is useless for any other transaction.
func (p *Proxy) browserBinding(txnID string) string { return p.sign(purposeBinding, txnID) }

// secureCookies reports whether cookies get the Secure flag and the __Host-
// prefix: always, unless the proxy runs on plain-http loopback for development.
func (p *Proxy) secureCookies() bool { return p.cfg.issuer.Scheme == "https" }

// cookieName prefixes name with __Host- on https (RFC 6265bis §4.1.3.2), which
// pins the cookie to this origin and path "/".
func (p *Proxy) cookieName(name string) string {
	if p.secureCookies() {
		return "__Host-" + name
	}
	return name
}

// cookieNamePrefix starts the name of every cookie the proxy sets (after
// __Host- on https).
const cookieNamePrefix = "oauthproxy-"

// IsProxyCookie reports whether name is one of the proxy's cookies (consent
// CSRF, browser binding, remembered consent), so a reverse proxy in front of
// the protected resource can keep them from the backend.
func IsProxyCookie(name string) bool {
	return strings.HasPrefix(strings.TrimPrefix(name, "__Host-"), cookieNamePrefix)
}

// bindingCookieName is per transaction, so two logins in one browser do not
// overwrite each other's binding.
func (p *Proxy) bindingCookieName(txnID string) string {
	return p.cookieName(cookieNamePrefix + "bind-" + hashedKey("", txnID)[:16])
}

func (p *Proxy) csrfCookieName() string { return p.cookieName(cookieNamePrefix + "csrf") }

// newCookie builds an HttpOnly, SameSite=Lax cookie (Lax so it comes back on
// the upstream's top-level redirect to the callback).
func (p *Proxy) newCookie(name, value string, maxAge time.Duration) *http.Cookie {
	return &http.Cookie{
		Name:     name,
		Value:    value,
		Path:     "/",
		MaxAge:   int(maxAge / time.Second),
		HttpOnly: true,
		Secure:   p.secureCookies(),
		SameSite: http.SameSiteLaxMode,
	}
}

// setBindingCookie stores the browser-binding value returned by Authorize or
// HandleConsent in the browser, for the callback to check (S09).
func (p *Proxy) setBindingCookie(w http.ResponseWriter, txnID, binding string) {
	p.setCookie(w, p.bindingCookieName(txnID), binding, p.cfg.TransactionTTL)
}

// bindingCookie reads the binding cookie for the transaction named by the
// callback's state parameter; "" when absent.
func (p *Proxy) bindingCookie(r *http.Request, txnID string) string {
	c, err := r.Cookie(p.bindingCookieName(txnID))
	if err != nil {
		return ""
	}
	return c.Value
}

// clearBindingCookie removes the binding after use: it is single use (S09).
func (p *Proxy) clearBindingCookie(w http.ResponseWriter, txnID string) {
	p.setCookie(w, p.bindingCookieName(txnID), "", -time.Second)
}
