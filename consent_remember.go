package oauthproxy

import (
	"encoding/base64"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Remembered consent (Config.ConsentRememberTTL): after an approval with
// "remember" ticked, the browser keeps a cookie per client whose value is
//
//	v1.<expiry, unix seconds>.<scopes, base64url>.<HMAC>
//
// The HMAC (ConsentSigningKey, its own purpose) covers the client id, the
// exact redirect URI (a loopback one with its port), the sorted scope set and
// the expiry, so the cookie vouches for nothing else: another client, another
// redirect URI or port, a wider scope set or a forged expiry all fall back to
// the consent page.
//
// RFC 8252 §8.6: an authorization server should not approve a request without
// the user unless the client's identity can be assured, and a previous
// approval does not assure it. A public client has no secret, so anyone may
// send its client_id with their own PKCE challenge; what decides who gets the
// code is the redirect URI. Any program on the user's computer can listen on
// a loopback port (the one remembered included, whenever the real client is
// not running) or claim a private-use scheme such as "myapp:", so for a
// public client with such a redirect a remembered consent would hand a
// malicious local program a code without the user seeing a page. Consent is
// therefore never remembered for public clients with loopback or private-use
// redirect URIs: the page does not offer the box, and no cookie is minted or
// honoured. It is remembered for confidential clients (the code is useless
// without the secret) and for https redirect URIs, which only the holder of
// the host can receive (the "claimed https" redirects §8.6 accepts as
// identity proof). Binding the exact URI, port included, is a second layer:
// on its own it would not do, since a local program can take the remembered
// port while the real client is away.
//
// Cookies minted before the port was bound still verify for https redirect
// URIs (their signed form was already exact) and fail closed for loopback.

const rememberVersion = "v1"

// maxRememberCookie keeps the cookie well inside the 4096 bytes browsers
// guarantee for a name and value (RFC 6265bis §5.6); a scope set too large to
// fit is simply not remembered.
const maxRememberCookie = 3500

// canonicalScopes is the sorted, de-duplicated scope set as one string.
func canonicalScopes(scopes []string) string {
	s := slices.Clone(scopes)
	slices.Sort(s)
	return joinScope(slices.Compact(s))
}

// rememberConsent mints the cookie value for an approval of scopes for
// clientID at redirectURI, valid for ConsentRememberTTL.
func (p *Proxy) rememberConsent(clientID, redirectURI string, scopes []string) string {
	exp := strconv.FormatInt(p.cfg.Now().Add(p.cfg.ConsentRememberTTL).Unix(), 10)
	set := canonicalScopes(scopes)
	v := rememberVersion + "." + exp + "." + base64.RawURLEncoding.EncodeToString([]byte(set)) + "." +
		p.sign(purposeRemember, clientID, redirectURI, set, exp)
	if len(v) > maxRememberCookie {
		p.log.Warn("oauthproxy: scope set too large to remember consent", "client_id", clientID)
		return ""
	}
	return v
}

// consentRememberable reports whether an approval for client at redirectURI
// may be remembered at all (RFC 8252 §8.6, see above): a confidential client,
// or an https redirect URI. redirectURI is one /authorize accepted, so it
// parses (redirecturi.Parse): its scheme is what precedes the first ':',
// which url.Parse lowercases — read here without parsing it again (issue 16).
func consentRememberable(client *clientRecord, redirectURI string) bool {
	if client.TokenEndpointAuthMethod != AuthMethodNone {
		return true
	}
	scheme, _, ok := strings.Cut(redirectURI, ":")
	return ok && strings.EqualFold(scheme, "https")
}

// rememberFor is the consent page's remember period in words, or "" when the
// box must not be offered for txn.
func (p *Proxy) rememberFor(txn *transaction) string {
	if !txn.ConsentRememberable {
		return ""
	}
	return durationInWords(p.cfg.ConsentRememberTTL)
}

// consentRemembered reports whether value is a valid remembered consent for
// txn's client at exactly its redirect URI that covers every scope it asks
// for. Any doubt — remembering turned off or not allowed for this client and
// URI, a bad signature, an expiry in the past or further out than
// ConsentRememberTTL allows — means no.
func (p *Proxy) consentRemembered(value string, txn *transaction) bool {
	if !txn.ConsentRememberable {
		return false
	}
	clientID, redirectURI, scopes := txn.ClientID, txn.RedirectURI, txn.Scopes
	if value == "" || p.cfg.ConsentRememberTTL <= 0 || len(value) > maxRememberCookie {
		return false
	}
	parts := strings.Split(value, ".")
	if len(parts) != 4 || parts[0] != rememberVersion {
		return false
	}
	exp, err := strconv.ParseInt(parts[1], 10, 64)
	if err != nil || parts[1] != strconv.FormatInt(exp, 10) {
		return false
	}
	rawSet, err := base64.RawURLEncoding.DecodeString(parts[2])
	if err != nil {
		return false
	}
	set := string(rawSet)
	if !p.verifySigned(parts[3], purposeRemember, clientID, redirectURI, set, parts[1]) {
		return false
	}
	now := p.cfg.Now()
	expiry := time.Unix(exp, 0)
	// A shortened ConsentRememberTTL also shortens consents already given.
	if !now.Before(expiry) || expiry.After(now.Add(p.cfg.ConsentRememberTTL)) {
		return false
	}
	if !subsetOf(scopes, strings.Fields(set)) {
		return false
	}
	p.log.Info("oauthproxy: consent remembered", "client_id", clientID)
	return true
}

// rememberCookieName is per client, so remembering one client never forgets
// another; the client id is hashed to keep the name a valid cookie token.
func (p *Proxy) rememberCookieName(clientID string) string {
	return p.cookieName(cookieNamePrefix + "consent-" + hashedKey("", clientID)[:16])
}

// setRememberCookie stores a ConsentResult.RememberedConsent in the
// browser: HttpOnly, SameSite=Lax (so it comes along on the client's
// top-level redirect to /authorize), Secure with the __Host- prefix on https,
// and expiring with ConsentRememberTTL.
func (p *Proxy) setRememberCookie(w http.ResponseWriter, clientID, value string) {
	p.setCookie(w, p.rememberCookieName(clientID), value, p.cfg.ConsentRememberTTL)
}

// rememberCookie reads the remembered-consent cookie for clientID, for
// AuthorizationRequest.RememberedConsent; "" when absent.
func (p *Proxy) rememberCookie(r *http.Request, clientID string) string {
	if clientID == "" || p.cfg.ConsentRememberTTL <= 0 {
		return ""
	}
	c, err := r.Cookie(p.rememberCookieName(clientID))
	if err != nil {
		return ""
	}
	return c.Value
}

// durationInWords renders a remember period for the consent page.
func durationInWords(d time.Duration) string {
	plural := func(n int64, unit string) string {
		if n == 1 {
			return "1 " + unit
		}
		return fmt.Sprintf("%d %ss", n, unit)
	}
	switch {
	case d <= 0:
		return ""
	case d >= 24*time.Hour && d%(24*time.Hour) == 0:
		return plural(int64(d/(24*time.Hour)), "day")
	case d >= time.Hour && d%time.Hour == 0:
		return plural(int64(d/time.Hour), "hour")
	default:
		return plural(int64(d/time.Minute), "minute")
	}
}
