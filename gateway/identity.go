package gateway

import (
	"context"
	"crypto/rand"
	"net/http"
	"net/textproto"
	"strings"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/oauthproxy-go/oauthproxy"
)

// AssertionTTL is the life of the signed assertion: long enough for one
// request to reach the backend, short enough to be useless when replayed.
const AssertionTTL = 60 * time.Second

// AssertionClaims are the claims of the assertion the backend receives when
// backend.sign_assertion is on: a JWT signed with HS256 and
// OAUTHPROXY_ASSERTION_KEY (RFC 7519). The backend verifies the signature
// with the pinned algorithm, iss (the gateway's base_url), aud
// (backend.assertion_audience) and exp, and trusts its claims instead of the
// plain identity headers.
type AssertionClaims struct {
	jwt.RegisteredClaims
	ClientID          string `json:"client_id"`
	Scope             string `json:"scope,omitempty"`
	Email             string `json:"email,omitempty"`
	PreferredUsername string `json:"preferred_username,omitempty"`
}

// identity sets the backend's identity headers on the outgoing request.
type identity struct {
	headers   IdentityHeaders
	strip     []string // every name a client must not send, lower case
	passToken bool
	proxy     *oauthproxy.Proxy

	assertionKey []byte // nil: no assertion
	issuer       string
	audience     string
	now          func() time.Time
}

func newIdentity(c *Config, p *oauthproxy.Proxy, now func() time.Time) *identity {
	h := c.Backend.Headers
	id := &identity{headers: h, passToken: c.Backend.PassAccessToken, proxy: p,
		issuer: strings.TrimRight(c.BaseURL, "/"), audience: c.Backend.AssertionAudience, now: now}
	if c.Backend.SignAssertion {
		id.assertionKey = c.Secrets.AssertionKey
	}
	if id.now == nil {
		id.now = time.Now
	}
	// The configured names and the defaults: a renamed header's default
	// name would otherwise still reach the backend unchecked.
	for _, set := range []IdentityHeaders{h, DefaultIdentityHeaders} {
		for _, n := range []string{set.User, set.Email, set.PreferredUsername, set.ClientID, set.Scopes, set.AccessToken, set.Assertion} {
			id.strip = append(id.strip, strings.ToLower(n))
		}
	}
	return id
}

// stripIncoming removes the client's Authorization header, the proxy's
// cookies and every identity header, whatever the case of its name: a
// header map built by hand, or by a lenient parser, may hold variants
// that Header.Del's canonical form would miss.
func (id *identity) stripIncoming(h http.Header) {
	for name := range h {
		lower := strings.ToLower(name)
		if lower == "authorization" || lower == "proxy-authorization" || containsString(id.strip, lower) {
			delete(h, name)
		}
	}
	stripProxyCookies(h)
}

func containsString(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

// stripProxyCookies keeps the Cookie header's other cookies: they may be the
// backend's own.
func stripProxyCookies(h http.Header) {
	var kept []string
	for _, line := range h.Values("Cookie") {
		for _, part := range strings.Split(line, ";") {
			name, _, _ := strings.Cut(strings.TrimSpace(part), "=")
			if name != "" && !oauthproxy.IsProxyCookie(name) {
				kept = append(kept, strings.TrimSpace(part))
			}
		}
	}
	h.Del("Cookie")
	if len(kept) > 0 {
		h.Set("Cookie", strings.Join(kept, "; "))
	}
}

// set writes the caller's identity. token is the bearer token the client
// sent, for the upstream access token.
func (id *identity) set(ctx context.Context, out http.Header, c *oauthproxy.Claims, token string) error {
	email, _ := c.Extra["email"].(string)
	username, _ := c.Extra["preferred_username"].(string)
	scope := strings.Join(c.Scopes, " ")
	for name, v := range map[string]string{
		id.headers.User: c.Subject, id.headers.Email: email, id.headers.PreferredUsername: username,
		id.headers.ClientID: c.ClientID, id.headers.Scopes: scope,
	} {
		if v != "" {
			out[textproto.CanonicalMIMEHeaderKey(name)] = []string{headerSafe(v)}
		}
	}
	if id.passToken {
		up, err := id.proxy.LoadUpstreamTokens(ctx, token)
		if err != nil {
			return err
		}
		out.Set(id.headers.AccessToken, up.AccessToken)
	}
	if id.assertionKey != nil {
		now := id.now()
		a := AssertionClaims{
			RegisteredClaims: jwt.RegisteredClaims{
				Issuer: id.issuer, Subject: c.Subject, Audience: jwt.ClaimStrings{id.audience},
				IssuedAt: jwt.NewNumericDate(now), ExpiresAt: jwt.NewNumericDate(now.Add(AssertionTTL)),
				ID: rand.Text(),
			},
			ClientID: c.ClientID, Scope: scope, Email: email, PreferredUsername: username,
		}
		signed, err := jwt.NewWithClaims(jwt.SigningMethodHS256, a).SignedString(id.assertionKey)
		if err != nil {
			return err
		}
		out.Set(id.headers.Assertion, signed)
	}
	return nil
}

// headerSafe drops control characters, so an upstream claim cannot split
// or end a header line.
func headerSafe(s string) string {
	return strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f {
			return -1
		}
		return r
	}, s)
}

// VerifyAssertion checks an assertion as a backend written in Go would:
// HS256 only, the issuer, the audience and the expiry. It is here for
// backends and tests; other languages use any JWT library the same way.
func VerifyAssertion(token string, key []byte, issuer, audience string) (*AssertionClaims, error) {
	var c AssertionClaims
	_, err := jwt.ParseWithClaims(token, &c, func(*jwt.Token) (any, error) { return key, nil },
		jwt.WithValidMethods([]string{jwt.SigningMethodHS256.Alg()}),
		jwt.WithIssuer(issuer), jwt.WithAudience(audience), jwt.WithExpirationRequired())
	if err != nil {
		return nil, err
	}
	return &c, nil
}
