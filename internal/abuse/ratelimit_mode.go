package abuse

import (
	"github.com/oauthproxy-go/oauthproxy"
	"github.com/oauthproxy-go/oauthproxy/ratelimit"
)

// rateLimited sets per-address limits that every legitimate client of the run
// stays under — the legitimate user (one sign-in a second: an authorization,
// three consent-class requests and a code exchange) and each established
// session on its own address (a refresh a second at most) — and that the
// attacker, sending as fast as it can from one address, hits at once. They
// also keep one address from filling MaxPendingAuthorizations: 120
// authorizations a minute for TransactionTTL (10 min) is 1,200 pending, under
// the default 2,000.
func rateLimited(cfg *oauthproxy.Config) {
	cfg.RateLimits = oauthproxy.RateLimits{
		Register:  ratelimit.PerMinute(10),
		Authorize: ratelimit.PerMinute(120),
		Consent:   ratelimit.PerMinute(360),
		Token:     ratelimit.PerMinute(240),
		Revoke:    ratelimit.PerMinute(60),
	}
	// The attack forges X-Forwarded-For and Forwarded on every request; no
	// proxy is trusted, so the limits key on the connection's address (S20).
	cfg.TrustedProxies = nil
}
