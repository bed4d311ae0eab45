package oauthproxy

import (
	"encoding/base64"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/oauthproxy-go/oauthproxy/internal/redirecturi"
)

// Remembered consent (Config.ConsentRememberTTL): after an approval with
// "remember" ticked, the browser keeps a cookie per client whose value is
//
//	v1.<expiry, unix seconds>.<scopes, base64url>.<HMAC>
//
// The HMAC (ConsentSigningKey, its own purpose) covers the client id, the
// redirect URI (a loopback one without its port, which native clients change
// every run: RFC 8252 §7.3), the sorted scope set and the expiry, so the cookie
// vouches for nothing else: another client, another redirect URI, a wider
// scope set or a forged expiry all fall back to the consent page.

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
		p.sign(purposeRemember, clientID, redirecturi.Canonical(redirectURI), set, exp)
	if len(v) > maxRememberCookie {
		p.log.Warn("oauthproxy: scope set too large to remember consent", "client_id", clientID)
		return ""
	}
	return v
}

// consentRemembered reports whether value is a valid remembered consent for
// clientID at exactly redirectURI that covers every scope in scopes. Any
// doubt — remembering turned off, a bad signature, an expiry in the past or
// further out than ConsentRememberTTL allows — means no.
func (p *Proxy) consentRemembered(value, clientID, redirectURI string, scopes []string) bool {
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
	if !p.verifySigned(parts[3], purposeRemember, clientID, redirecturi.Canonical(redirectURI), set, parts[1]) {
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
	return p.cookieName("oauthproxy-consent-" + hashedKey("", clientID)[:16])
}

// SetRememberedConsent stores a ConsentResult.RememberedConsent in the
// browser: HttpOnly, SameSite=Lax (so it comes along on the client's
// top-level redirect to /authorize), Secure with the __Host- prefix on https,
// and expiring with ConsentRememberTTL.
func (p *Proxy) SetRememberedConsent(w http.ResponseWriter, clientID, value string) {
	http.SetCookie(w, p.newCookie(p.rememberCookieName(clientID), value, p.cfg.ConsentRememberTTL))
}

// RememberedConsent reads the remembered-consent cookie for clientID, for
// AuthorizationRequest.RememberedConsent; "" when absent.
func (p *Proxy) RememberedConsent(r *http.Request, clientID string) string {
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
