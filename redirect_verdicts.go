package oauthproxy

import (
	"sync"

	"github.com/oauthproxy-go/oauthproxy/internal/redirecturi"
)

// redirectVerdicts remembers redirectAllowed's answers. The patterns are
// fixed for the life of a Proxy, so the answer for a URI never changes, and
// one sign-in asks it for the same URI at /authorize, the consent page, the
// callback and /token, and again at every refresh: each time a parse of the
// URI and a walk over the patterns (issue 16). A new Proxy, such as one
// started with tightened patterns, starts with no verdicts (S22).
//
// The URIs come from registrations anyone may make, so the cache is bounded:
// at most maxRedirectVerdicts entries of at most redirecturi.MaxLength bytes
// (1 MiB), and when it is full it starts over.
type redirectVerdicts struct {
	mu sync.RWMutex
	m  map[string]bool
}

const maxRedirectVerdicts = 512

func (c *redirectVerdicts) get(raw string) (allowed, ok bool) {
	c.mu.RLock()
	allowed, ok = c.m[raw]
	c.mu.RUnlock()
	return allowed, ok
}

func (c *redirectVerdicts) put(raw string, allowed bool) {
	if len(raw) > redirecturi.MaxLength {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.m == nil || len(c.m) >= maxRedirectVerdicts {
		c.m = make(map[string]bool, maxRedirectVerdicts/4)
	}
	c.m[raw] = allowed
}
