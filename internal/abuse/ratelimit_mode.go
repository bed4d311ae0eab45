package abuse

import (
	"github.com/oauthproxy-go/oauthproxy"
	"github.com/oauthproxy-go/oauthproxy/ratelimit"
)

// rateLimited sets per-address limits every legitimate client of the run
// stays under — the legitimate user (one flow per LegitInterval, 250ms by
// default: 4 authorizations, 12 consent and callback requests and 4 code
// exchanges a second) and each established session on its own address (a
// refresh per round) — and that the attacker, sending as fast as it can from
// one address, hits at once.
func rateLimited(cfg *oauthproxy.Config) {
	cfg.RateLimits = oauthproxy.RateLimits{
		Register:  ratelimit.PerMinute(10),
		Authorize: ratelimit.PerSecond(10),
		Consent:   ratelimit.PerSecond(30),
		Token:     ratelimit.PerSecond(20),
		Revoke:    ratelimit.PerSecond(10),
	}
	// The attack forges X-Forwarded-For and Forwarded on every request; no
	// proxy is trusted, so the limits key on the connection's address (S20).
	cfg.TrustedProxies = nil
}
