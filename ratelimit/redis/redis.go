// Package redis is a ratelimit limiter on Redis 7 or Valkey, so several proxy
// replicas share one budget per key. Import it under another name next to
// storage/redis, and give it a client with ContextTimeoutEnabled, so the
// per-decision timeout bounds socket reads too:
//
//	import redislimit "github.com/oauthproxy-go/oauthproxy/ratelimit/redis"
//
//	client := goredis.NewClient(&goredis.Options{Addr: "redis:6379", ContextTimeoutEnabled: true})
//	cfg.RateLimiter = redislimit.New(client, redislimit.WithPrefix("mcp-proxy:"))
//
// Each decision is one round trip: a Lua script (GCRA, from
// github.com/go-redis/redis_rate) run with EVALSHA, which reads and updates one
// key and takes the time from the Redis server, so replicas' clocks need not
// agree. Only the first decision after the server loses its script cache costs a
// second trip (EVAL). Keys expire once their bucket is full again, so an idle
// key costs nothing. One key per command, so Redis Cluster clients work as they
// are.
//
// When Redis cannot answer (down, slow past the timeout, a script error), Allow
// fails open: it returns Allowed true with the error, and the proxy logs the
// error and serves the request. A Redis outage then means no rate limiting, not
// an outage of the proxy; the storage (if also on Redis) fails on its own terms.
package redis

import (
	"context"
	"fmt"
	"time"

	"github.com/go-redis/redis_rate/v10"
	goredis "github.com/redis/go-redis/v9"

	"github.com/oauthproxy-go/oauthproxy/ratelimit"
)

// DefaultPrefix is put before every key unless WithPrefix says otherwise.
// redis_rate adds its own "rate:" in front, so the Redis keys are
// "rate:oauthproxy:ratelimit:" followed by the limiter key.
const DefaultPrefix = "oauthproxy:ratelimit:"

// DefaultTimeout bounds each decision unless WithTimeout says otherwise: a rate
// limit must not hold a request for long when Redis is slow.
const DefaultTimeout = 250 * time.Millisecond

// Limiter decides events on Redis. It is safe for concurrent use and starts no
// goroutine; it never closes the client.
type Limiter struct {
	gcra    *redis_rate.Limiter
	prefix  string
	timeout time.Duration
}

// Option configures a Limiter.
type Option func(*Limiter)

// WithPrefix sets the string put before every key (after redis_rate's "rate:"),
// to share one Redis database between several proxies or applications.
func WithPrefix(prefix string) Option {
	return func(l *Limiter) { l.prefix = prefix }
}

// WithTimeout bounds each decision; 0 or less leaves only the caller's context
// and the client's own timeouts. It bounds socket reads only when the client
// has ContextTimeoutEnabled set.
func WithTimeout(d time.Duration) Option {
	return func(l *Limiter) { l.timeout = d }
}

// New returns a limiter on client, which may be a single-node, failover or
// cluster client. It panics on a nil client.
func New(client goredis.UniversalClient, opts ...Option) *Limiter {
	if client == nil {
		panic("ratelimit/redis: New with a nil client")
	}
	l := &Limiter{gcra: redis_rate.NewLimiter(client), prefix: DefaultPrefix, timeout: DefaultTimeout}
	for _, o := range opts {
		o(l)
	}
	return l
}

// Allow decides one event for key under limit. The zero Limit allows everything
// without asking Redis. Any failure returns Allowed true with the error (fail
// open; see the package documentation).
func (l *Limiter) Allow(ctx context.Context, key string, limit ratelimit.Limit) (ratelimit.Decision, error) {
	if err := limit.Validate(); err != nil {
		return ratelimit.Decision{Allowed: true}, fmt.Errorf("ratelimit/redis: %w", err)
	}
	if limit.IsZero() {
		return ratelimit.Decision{Allowed: true}, nil
	}
	if l.timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, l.timeout)
		defer cancel()
	}
	res, err := l.gcra.Allow(ctx, l.prefix+key, redis_rate.Limit{
		Rate:   limit.Rate,
		Period: limit.Per,
		Burst:  limit.BurstSize(),
	})
	if err != nil {
		return ratelimit.Decision{Allowed: true}, fmt.Errorf("ratelimit/redis: %w", err)
	}
	if res.Allowed > 0 {
		return ratelimit.Decision{Allowed: true}, nil
	}
	// redis_rate reports -1 when it does not know; a refusal always carries a
	// wait, so never return a zero RetryAfter with Allowed false.
	return ratelimit.Decision{RetryAfter: max(res.RetryAfter, time.Millisecond)}, nil
}
