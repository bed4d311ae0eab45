// Package ratelimit provides request rate limits keyed by client address.
//
// A Limit says how many events a key may have per period; a limiter's Allow
// method decides one event at a time. Memory keeps the limits of one process in
// a bounded key set; the ratelimit/redis package shares them between replicas.
// The proxy keys them by endpoint class and client address (oauthproxy.Config
// RateLimits, SECURITY.md S20), and refuses with 429 and Retry-After (RFC 6585
// §4).
package ratelimit

import (
	"fmt"
	"time"
)

// Limit allows Rate events per Per, in bursts of up to Burst events (0 means
// Rate). Tokens refill continuously: PerMinute(60) allows one event a second
// after its burst of 60 is spent. The zero Limit means no limit.
type Limit struct {
	Rate  int
	Per   time.Duration
	Burst int
}

// PerSecond allows n events a second, in bursts of up to n.
func PerSecond(n int) Limit { return Limit{Rate: n, Per: time.Second} }

// PerMinute allows n events a minute, in bursts of up to n.
func PerMinute(n int) Limit { return Limit{Rate: n, Per: time.Minute} }

// IsZero reports whether l is the zero Limit, which limits nothing.
func (l Limit) IsZero() bool { return l == Limit{} }

// Validate reports a Limit that is neither zero nor a positive rate: a
// negative field, a Rate without a Per, or a Per or Burst without a Rate (a
// rate of zero events is not "no limit"; leave the whole Limit zero for that).
func (l Limit) Validate() error {
	switch {
	case l.IsZero():
		return nil
	case l.Rate < 0 || l.Per < 0 || l.Burst < 0:
		return fmt.Errorf("rate limit %s has a negative field", l)
	case l.Rate == 0:
		return fmt.Errorf("rate limit %s has no Rate (leave the whole limit zero for no limit)", l)
	case l.Per == 0:
		return fmt.Errorf("rate limit %s has no Per", l)
	}
	return nil
}

// BurstSize is Burst, or Rate when Burst is 0.
func (l Limit) BurstSize() int {
	if l.Burst == 0 {
		return l.Rate
	}
	return l.Burst
}

// String describes l, as "10 per 1m0s (burst 10)".
func (l Limit) String() string {
	if l.IsZero() {
		return "no limit"
	}
	return fmt.Sprintf("%d per %s (burst %d)", l.Rate, l.Per, l.BurstSize())
}

// Decision is a limiter's answer for one event.
type Decision struct {
	// Allowed reports whether the event may happen now.
	Allowed bool
	// RetryAfter, when the event is refused, is how long until one event
	// would be allowed; it is greater than zero then.
	RetryAfter time.Duration
}
