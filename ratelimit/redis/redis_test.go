package redis_test

import (
	"net"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/oauthproxy-go/oauthproxy/ratelimit"
	redislimit "github.com/oauthproxy-go/oauthproxy/ratelimit/redis"
	"github.com/oauthproxy-go/oauthproxy/storage/redis/redistest"
)

// allowed counts how many of n events for key l allows.
func allowed(t *testing.T, l *redislimit.Limiter, key string, limit ratelimit.Limit, n int) int {
	t.Helper()
	count := 0
	for range n {
		d, err := l.Allow(t.Context(), key, limit)
		require.NoError(t, err)
		if d.Allowed {
			assert.Zero(t, d.RetryAfter)
			count++
		} else {
			assert.Positive(t, d.RetryAfter)
		}
	}
	return count
}

func TestLimiter_BurstThenRefuse(t *testing.T) {
	l := redislimit.New(redistest.NewClient(t, redistest.Start(t)))
	limit := ratelimit.PerMinute(3) // a token every 20 s
	assert.Equal(t, 3, allowed(t, l, "k", limit, 3))
	d, err := l.Allow(t.Context(), "k", limit)
	require.NoError(t, err)
	assert.False(t, d.Allowed)
	assert.Greater(t, d.RetryAfter, 19*time.Second)
	assert.LessOrEqual(t, d.RetryAfter, 20*time.Second)

	assert.Equal(t, 2, allowed(t, l, "k2", ratelimit.Limit{Rate: 3, Per: time.Minute, Burst: 2}, 5), "an explicit burst")
	assert.Equal(t, 3, allowed(t, l, "k3", limit, 5), "another key has its own budget")
}

func TestLimiter_Refills(t *testing.T) {
	l := redislimit.New(redistest.NewClient(t, redistest.Start(t)))
	limit := ratelimit.Limit{Rate: 10, Per: time.Second, Burst: 1} // a token every 100 ms
	assert.Equal(t, 1, allowed(t, l, "k", limit, 3))
	require.Eventually(t, func() bool {
		d, err := l.Allow(t.Context(), "k", limit)
		return err == nil && d.Allowed
	}, 2*time.Second, 20*time.Millisecond)
}

// TestSecurity_S20_RedisReplicasShareBudget: two replicas, each with its own
// client and limiter on one Redis, give one address one budget between them.
func TestSecurity_S20_RedisReplicasShareBudget(t *testing.T) {
	addr := redistest.Start(t)
	a := redislimit.New(redistest.NewClient(t, addr))
	b := redislimit.New(redistest.NewClient(t, addr))
	limit := ratelimit.PerMinute(10)

	var mu sync.Mutex
	total := 0
	var wg sync.WaitGroup
	for _, l := range []*redislimit.Limiter{a, b, a, b} {
		wg.Go(func() {
			n := 0
			for range 10 {
				if d, err := l.Allow(t.Context(), "register|192.0.2.1", limit); err == nil && d.Allowed {
					n++
				}
			}
			mu.Lock()
			total += n
			mu.Unlock()
		})
	}
	wg.Wait()
	assert.Equal(t, 10, total, "40 attempts on two replicas, one burst of 10 allowed")
}

func TestLimiter_PrefixAndExpiry(t *testing.T) {
	client := redistest.NewClient(t, redistest.Start(t))
	ctx := t.Context()
	def := redislimit.New(client)
	custom := redislimit.New(client, redislimit.WithPrefix("mine:"))
	limit := ratelimit.PerMinute(2)

	assert.Equal(t, 2, allowed(t, def, "k", limit, 3))
	assert.Equal(t, 2, allowed(t, custom, "k", limit, 3), "another prefix is another budget")
	keys, err := client.Keys(ctx, "*").Result()
	require.NoError(t, err)
	assert.ElementsMatch(t, []string{"rate:" + redislimit.DefaultPrefix + "k", "rate:mine:k"}, keys)

	// A key lives only until its bucket is full again: two tokens at 30 s each.
	ttl, err := client.TTL(ctx, "rate:mine:k").Result()
	require.NoError(t, err)
	assert.Greater(t, ttl, 30*time.Second)
	assert.LessOrEqual(t, ttl, time.Minute)
}

func TestLimiter_ZeroLimitDoesNotAskRedis(t *testing.T) {
	// Nothing listens here: a call to Redis would fail.
	l := redislimit.New(redistest.NewClient(t, "127.0.0.1:1"))
	d, err := l.Allow(t.Context(), "k", ratelimit.Limit{})
	require.NoError(t, err)
	assert.True(t, d.Allowed)

	d, err = l.Allow(t.Context(), "k", ratelimit.Limit{Per: time.Second})
	require.Error(t, err, "an invalid limit is reported")
	assert.True(t, d.Allowed)
}

// TestLimiter_UnreachableFailsOpen: with Redis down, every event is allowed and
// the error says why, so the proxy logs it and keeps serving.
func TestLimiter_UnreachableFailsOpen(t *testing.T) {
	srv := redistest.StartWithOptions(t, redistest.Options{})
	l := redislimit.New(redistest.NewClient(t, srv.Addr()))
	limit := ratelimit.PerMinute(1)
	assert.Equal(t, 1, allowed(t, l, "k", limit, 2))

	srv.Stop()
	for range 3 {
		d, err := l.Allow(t.Context(), "k", limit)
		require.Error(t, err)
		assert.Contains(t, err.Error(), "ratelimit/redis")
		assert.True(t, d.Allowed)
	}
}

// TestLimiter_TimeoutFailsOpen: a server that accepts but never answers holds a
// decision for the timeout, not for the client's 3 s read timeout.
func TestLimiter_TimeoutFailsOpen(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	var (
		accepting sync.WaitGroup
		mu        sync.Mutex
		held      []net.Conn
	)
	accepting.Go(func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			held = append(held, c)
			mu.Unlock()
		}
	})
	t.Cleanup(func() {
		_ = ln.Close()
		accepting.Wait()
		for _, c := range held {
			_ = c.Close()
		}
	})

	l := redislimit.New(redistest.NewClient(t, ln.Addr().String()), redislimit.WithTimeout(100*time.Millisecond))
	start := time.Now()
	d, err := l.Allow(t.Context(), "k", ratelimit.PerMinute(1))
	require.Error(t, err)
	assert.True(t, d.Allowed)
	assert.Less(t, time.Since(start), 2*time.Second)
}

func TestNewPanicsWithoutClient(t *testing.T) {
	assert.Panics(t, func() { redislimit.New(nil) })
}

// TestLimiter_OneRoundTripPerDecision: once the script is cached, each
// decision is a single EVALSHA.
func TestLimiter_OneRoundTripPerDecision(t *testing.T) {
	ctx := t.Context()
	client := redistest.NewClient(t, redistest.Start(t))
	l := redislimit.New(client)
	allowed(t, l, "warm", ratelimit.PerMinute(100), 1) // EVALSHA, NOSCRIPT, EVAL
	require.NoError(t, client.ConfigResetStat(ctx).Err())
	allowed(t, l, "k", ratelimit.PerMinute(100), 5)
	stats, err := client.Info(ctx, "commandstats").Result()
	require.NoError(t, err)
	assert.Contains(t, stats, "cmdstat_evalsha:calls=5,")
	assert.NotContains(t, stats, "cmdstat_eval:", "no fallback to EVAL once the script is cached")
}
