package oauthproxy

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/netip"
	"time"

	"github.com/oauthproxy-go/oauthproxy/ratelimit"
)

// RateLimiter decides whether one more request may be served for key under
// limit (SECURITY.md S20). ratelimit.NewMemory keeps the counts in one process;
// ratelimit/redis shares them between replicas. An error means the limiter
// could not decide: the proxy logs it and serves the request (fail open), so a
// limiter outage never refuses everybody.
type RateLimiter interface {
	Allow(ctx context.Context, key string, limit ratelimit.Limit) (ratelimit.Decision, error)
}

// RateLimits are the request limits per endpoint class and client address. A
// zero Limit leaves its class unlimited. The metadata endpoints are never
// limited, and CORS preflights are not counted.
type RateLimits struct {
	Register  ratelimit.Limit // POST /oauth/register
	Authorize ratelimit.Limit // GET /oauth/authorize
	// Consent covers the consent page (GET and POST /oauth/consent) and the
	// upstream's callback (RedirectPath): one budget for the browser steps.
	Consent ratelimit.Limit
	Token   ratelimit.Limit // POST /oauth/token
	Revoke  ratelimit.Limit // POST /oauth/revoke
	// Introspect covers POST /oauth/introspect. Resource servers call it
	// for every request they check, from few addresses: give it its own
	// budget, sized for them.
	Introspect ratelimit.Limit
}

// The endpoint classes, as they appear in rate limit keys and as the Reason of
// EventRateLimited.
const (
	rateClassRegister   = "register"
	rateClassAuthorize  = "authorize"
	rateClassConsent    = "consent"
	rateClassToken      = "token"
	rateClassRevoke     = "revoke"
	rateClassIntrospect = "introspect"
)

// rateLimitedText is the fixed error_description of a refusal.
const rateLimitedText = "too many requests, retry later"

// namedLimit is one RateLimits field and its value.
type namedLimit struct {
	field string
	limit ratelimit.Limit
}

func (l RateLimits) fields() []namedLimit {
	return []namedLimit{
		{"Register", l.Register}, {"Authorize", l.Authorize}, {"Consent", l.Consent},
		{"Token", l.Token}, {"Revoke", l.Revoke}, {"Introspect", l.Introspect},
	}
}

// rateLimitDefaults validates RateLimits and TrustedProxies and, when any
// limit is set, defaults RateLimiter to an in-memory one.
func (s *settings) rateLimitDefaults() error {
	var errs []error
	enabled := false
	for _, c := range s.RateLimits.fields() {
		if err := c.limit.Validate(); err != nil {
			errs = append(errs, fmt.Errorf("RateLimits.%s: %w", c.field, err))
		}
		enabled = enabled || !c.limit.IsZero()
	}
	if enabled && s.RateLimiter == nil {
		s.RateLimiter = ratelimit.NewMemory(0)
	}
	trusted, err := parseTrustedProxies(s.TrustedProxies)
	s.trustedProxies = trusted
	errs = append(errs, err)
	return errors.Join(errs...)
}

// limitRate wraps an endpoint of class with its limit, keyed by the client
// address the routes wrapper resolved (clientAddr). A refused request never
// reaches h. Wrap it inside httpx.CORS, which answers CORS preflights itself,
// so they are not counted; any other request that reaches h is, whatever its
// method.
func (p *Proxy) limitRate(class string, limit ratelimit.Limit, h http.Handler) http.Handler {
	if limit.IsZero() {
		return h
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		d, err := p.cfg.RateLimiter.Allow(r.Context(), rateLimitKey(class, clientAddr(r, p.cfg.trustedProxies)), limit)
		if err != nil {
			p.log.Warn("oauthproxy: rate limiter failed; serving the request without a limit", "endpoint_class", class, "error", err.Error())
			h.ServeHTTP(w, r)
			return
		}
		if !d.Allowed {
			p.refuseRateLimited(w, r, class, d.RetryAfter)
			return
		}
		h.ServeHTTP(w, r)
	})
}

// rateLimitKey is the limiter key for one client address and class. An IPv6
// client is keyed by its /64, which one subscriber usually holds whole, so
// walking through its addresses does not multiply its budget.
func rateLimitKey(class, addr string) string {
	if a, err := netip.ParseAddr(addr); err == nil && a.Is6() {
		if p, err := a.Prefix(64); err == nil {
			addr = p.String()
		}
	}
	return class + "|" + addr
}

// refuseRateLimited answers 429 with Retry-After (RFC 6585 §4) and an RFC 6749
// §5.2 JSON error, and records the refusal.
func (p *Proxy) refuseRateLimited(w http.ResponseWriter, r *http.Request, class string, wait time.Duration) {
	p.emit(p.requestContext(r), Event{Type: EventRateLimited, Reason: class})
	p.writeError(w, r, &Error{Code: ErrCodeTemporarilyUnavailable, Description: rateLimitedText,
		Status: http.StatusTooManyRequests, RetryAfter: max(wait, time.Second)})
}
