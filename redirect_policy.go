package oauthproxy

import (
	"slices"

	"github.com/oauthproxy-go/oauthproxy/internal/redirecturi"
)

// AllowedRedirectURIPatterns are checked at registration and again each time
// a stored client is used (SECURITY.md S22): an operator who tightens them
// cuts off clients registered, or metadata documents cached, under the old
// ones, instead of trusting them until they go idle.

// redirectAllowed reports whether raw, a redirect URI stored with a client,
// code or transaction, passes today's patterns.
func (p *Proxy) redirectAllowed(raw string) bool {
	if allowed, ok := p.redirectVerdicts.get(raw); ok {
		return allowed
	}
	u, err := redirecturi.Parse(raw)
	allowed := err == nil && redirecturi.Allowed(u, p.cfg.patterns)
	p.redirectVerdicts.put(raw, allowed)
	return allowed
}

// stillAllowedRedirect returns raw if today's patterns allow it, else the
// /authorize error for it: never redirected, since the URI is what is in
// doubt (RFC 6749 §4.1.2.1, S01).
func (p *Proxy) stillAllowedRedirect(raw string) (string, *Error) {
	if !p.redirectAllowed(raw) {
		return "", newError(ErrCodeInvalidRequest,
			"redirect_uri is no longer allowed by this server; remove this server from the application and add it again").noRedirect()
	}
	return raw, nil
}

// clientStillAllowed reports whether any of the client's redirect URIs passes
// today's patterns. A refresh sends nothing to a redirect URI, so one allowed
// URI keeps the client's sessions alive; none left means the client as a
// whole is outside what the operator now allows.
func (p *Proxy) clientStillAllowed(c *clientRecord) bool {
	return slices.ContainsFunc(c.RedirectURIs, p.redirectAllowed)
}

// errRedirectNoLongerAllowed is the token endpoint's answer for a code or
// refresh token whose client or redirect URI the patterns no longer allow.
// invalid_grant, not invalid_client: the client did authenticate, and
// invalid_client would tell it its credentials are wrong (and, with Basic,
// come as a 401 challenge). RFC 6749 §5.2 names invalid_grant for a grant
// that is "revoked" or "does not match the redirection URI used in the
// authorization request", which is what a tightened policy did to it; a
// client that gets it starts a new authorization, where /authorize shows the
// user why.
func errRedirectNoLongerAllowed() *Error {
	return newError(ErrCodeInvalidGrant, "this client's redirect URI is no longer allowed by this server; authorize again")
}
