package oauthproxy

import "github.com/oauthproxy-go/oauthproxy/internal/redirecturi"

// redirectVerdicts remembers redirectAllowed's answers. The patterns are
// fixed for the life of a Proxy, so the answer for a URI never changes, and
// one sign-in asks it for the same URI at /authorize, the consent page, the
// callback and /token, and again at every refresh: each time a parse of the
// URI and a walk over the patterns (issue 16). A new Proxy, such as one
// started with tightened patterns, starts with no verdicts (S22).
//
// The URIs come from registrations anyone may make, so it is bounded: at most
// maxRedirectVerdicts entries of at most redirecturi.MaxLength bytes (1 MiB).
type redirectVerdicts struct{ boundedCache[bool] }

const maxRedirectVerdicts = 512

func newRedirectVerdicts() *redirectVerdicts {
	return &redirectVerdicts{boundedCache[bool]{max: maxRedirectVerdicts}}
}

func (c *redirectVerdicts) put(raw string, allowed bool) {
	if len(raw) <= redirecturi.MaxLength {
		c.boundedCache.put(raw, allowed)
	}
}
