package ratelimit

import (
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// fixedClock is a clock that moves only when the test says so.
type fixedClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *fixedClock) now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *fixedClock) advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

func newTestMemory(maxKeys int) (*Memory, *fixedClock) {
	clk := &fixedClock{t: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}
	m := NewMemory(maxKeys)
	m.now = clk.now
	return m, clk
}

// allowed counts how many of n events for key are allowed.
func allowed(t *testing.T, m *Memory, key string, limit Limit, n int) int {
	t.Helper()
	count := 0
	for range n {
		d, err := m.Allow(t.Context(), key, limit)
		require.NoError(t, err)
		if d.Allowed {
			assert.Zero(t, d.RetryAfter)
			count++
		}
	}
	return count
}

func TestMemory_BurstThenRefill(t *testing.T) {
	m, clk := newTestMemory(0)
	limit := PerMinute(3) // a token every 20 s

	assert.Equal(t, 3, allowed(t, m, "k", limit, 3), "the burst is Rate")
	d, err := m.Allow(t.Context(), "k", limit)
	require.NoError(t, err)
	assert.False(t, d.Allowed)
	assert.Equal(t, 20*time.Second, d.RetryAfter, "one token comes back after Per/Rate")

	clk.advance(5 * time.Second)
	d, _ = m.Allow(t.Context(), "k", limit)
	assert.False(t, d.Allowed)
	assert.Equal(t, 15*time.Second, d.RetryAfter, "refusals do not push the next token further away")

	clk.advance(15 * time.Second)
	assert.Equal(t, 1, allowed(t, m, "k", limit, 5), "one token after 20 s, however many were refused")
}

func TestMemory_ExplicitBurst(t *testing.T) {
	m, clk := newTestMemory(0)
	limit := Limit{Rate: 60, Per: time.Minute, Burst: 2}
	assert.Equal(t, 2, allowed(t, m, "k", limit, 10))
	clk.advance(time.Second)
	assert.Equal(t, 1, allowed(t, m, "k", limit, 10))
}

func TestMemory_KeysAndLimitsAreIndependent(t *testing.T) {
	m, _ := newTestMemory(0)
	assert.Equal(t, 2, allowed(t, m, "a", PerMinute(2), 5))
	assert.Equal(t, 2, allowed(t, m, "b", PerMinute(2), 5), "another key has its own bucket")
	assert.Equal(t, 3, allowed(t, m, "a", PerMinute(3), 5), "the same key under another limit has its own bucket")
}

func TestMemory_ZeroLimitAllowsAndKeepsNothing(t *testing.T) {
	m, _ := newTestMemory(0)
	assert.Equal(t, 100, allowed(t, m, "k", Limit{}, 100))
	assert.Zero(t, m.Len())
}

func TestMemory_InvalidLimitFailsOpenWithError(t *testing.T) {
	m, _ := newTestMemory(0)
	d, err := m.Allow(t.Context(), "k", Limit{Rate: 1})
	require.Error(t, err)
	assert.True(t, d.Allowed)
	assert.Zero(t, m.Len())
}

func TestNewMemory_MaxKeys(t *testing.T) {
	assert.Equal(t, DefaultMaxKeys, NewMemory(0).maxKeys)
	assert.Equal(t, 7, NewMemory(7).maxKeys)
	assert.Panics(t, func() { NewMemory(-1) })
}

// TestSecurity_S20_MemoryKeySetBounded: a stream of distinct keys (spoofed or
// many client addresses) cannot grow the limiter past maxKeys, and what is
// forgotten is the least recently used key, not a busy one.
func TestSecurity_S20_MemoryKeySetBounded(t *testing.T) {
	m, _ := newTestMemory(100)
	limit := PerMinute(1)
	require.Equal(t, 1, allowed(t, m, "busy", limit, 1))
	for i := range 10_000 {
		_, err := m.Allow(t.Context(), fmt.Sprintf("attacker-%d", i), limit)
		require.NoError(t, err)
		if i%50 == 0 {
			// The busy client keeps using its bucket, so it is never the
			// least recently used one, and stays limited.
			require.Zero(t, allowed(t, m, "busy", limit, 1), "after %d keys", i)
		}
		require.LessOrEqual(t, m.Len(), 100)
	}
	assert.Equal(t, 100, m.Len())
	assert.Equal(t, 100, len(m.entries))
	assert.Equal(t, 100, m.listLen(), "the recency list and the map agree")
	assert.Zero(t, allowed(t, m, "attacker-9999", limit, 1), "a recent key keeps its bucket")
	assert.Equal(t, 1, allowed(t, m, "attacker-0", limit, 1), "the oldest key was forgotten: a full burst again")
}

func (m *Memory) listLen() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	n := 0
	for e := m.lru.next; e != &m.lru; e = e.next {
		n++
	}
	return n
}

// TestMemory_ConcurrentCallersShareOneBudget: under the race detector, many
// goroutines spending one key's burst get exactly the burst between them, while
// other keys come and go.
func TestMemory_ConcurrentCallersShareOneBudget(t *testing.T) {
	for _, maxKeys := range []int{1000, 10} {
		m, _ := newTestMemory(maxKeys)
		limit := PerMinute(50)
		var ok atomic.Int64
		var wg sync.WaitGroup
		for g := range 8 {
			wg.Go(func() {
				for i := range 40 {
					_, _ = m.Allow(t.Context(), fmt.Sprintf("other-%d-%d", g, i), limit)
					if d, err := m.Allow(t.Context(), "shared", limit); err == nil && d.Allowed {
						ok.Add(1)
					}
				}
			})
		}
		wg.Wait()
		if maxKeys == 1000 {
			// 321 keys fit: "shared" is never forgotten.
			assert.Equal(t, int64(50), ok.Load(), "exactly one burst")
		}
		assert.LessOrEqual(t, m.Len(), maxKeys)
		assert.Equal(t, m.Len(), m.listLen(), "the recency list and the map agree")
	}
}
