package oauthproxy_test

// Many replicas, proven (issue 4, item 5): two Proxy processes with the same
// keys share one real Redis behind one public origin, the way a load balancer
// deploys them. A browser flow may hop between them at every step, and the
// single-use guarantees (codes, refresh rotation) hold across them, because
// they rest on the store's atomic Take (GETDEL), not on process memory.

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/oauthproxy-go/oauthproxy"
	"github.com/oauthproxy-go/oauthproxy/internal/pkce"
	"github.com/oauthproxy-go/oauthproxy/oauthproxytest"
	"github.com/oauthproxy-go/oauthproxy/storage"
	"github.com/oauthproxy-go/oauthproxy/storage/redis"
	"github.com/oauthproxy-go/oauthproxy/storage/redis/redistest"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// twoReplicas starts replicas A and B, each with its own Redis client, on one
// fresh redis-server.
func twoReplicas(t *testing.T, opts ...envOption) *deployment {
	t.Helper()
	addr := redistest.Start(t)
	d := newDeployment(t, opts...)
	d.start("A", redisStore(t, addr))
	d.start("B", redisStore(t, addr))
	return d
}

func TestReplicas_FlowHopsBetweenReplicas(t *testing.T) {
	d := twoReplicas(t)
	ctx := t.Context()

	d.use("A")
	c := d.register("client_secret_basic")

	d.use("B")
	b := d.browser()
	verifier := pkce.GenerateVerifier()
	form := d.openConsent(b, authorizeParams(c, pkce.Challenge(verifier)))

	d.use("A") // consent, the upstream's redirect back and the callback
	code := d.approve(b, form)

	d.use("B")
	tok := d.exchange(c, code, verifier)
	require.Equal(t, http.StatusOK, tok.Status, "code from A redeemed on B: %v", tok.Body)
	access, refresh := tok.str("access_token"), tok.str("refresh_token")
	require.NotEmpty(t, access)
	require.NotEmpty(t, refresh)

	// The access token B issued is accepted by both.
	for _, r := range []string{"A", "B"} {
		d.use(r)
		resp, claims := d.callMCP(access)
		require.Equal(t, http.StatusOK, resp.StatusCode, "bearer check on %s", r)
		assert.Equal(t, c.ID, claims["ClientID"])
		assert.Equal(t, oauthproxytest.DefaultUser.Subject, claims["Subject"])
	}

	d.use("A")
	ref := d.refresh(c, refresh)
	require.Equal(t, http.StatusOK, ref.Status, "refresh token from B rotated on A: %v", ref.Body)
	access2, refresh2 := ref.str("access_token"), ref.str("refresh_token")
	require.NotEqual(t, refresh, refresh2, "rotated")

	// Either replica reads the grant's upstream tokens for the new token.
	upA, err := d.replica("A").LoadUpstreamTokens(ctx, access2)
	require.NoError(t, err)
	upB, err := d.replica("B").LoadUpstreamTokens(ctx, access2)
	require.NoError(t, err)
	require.NotEmpty(t, upA.AccessToken)
	assert.Equal(t, upA.AccessToken, upB.AccessToken)
	d.use("B")
	resp, _ := d.callMCP(access2)
	require.Equal(t, http.StatusOK, resp.StatusCode)

	// Reuse of the rotated token on B is detected from A's rotation record
	// and revokes the grant everywhere (S06).
	d.use("B")
	reuse := d.refresh(c, refresh)
	require.Equal(t, http.StatusBadRequest, reuse.Status)
	assert.Equal(t, "invalid_grant", reuse.str("error"))
	for _, r := range []string{"A", "B"} {
		d.use(r)
		resp, _ := d.callMCP(access2)
		assert.Equal(t, http.StatusUnauthorized, resp.StatusCode, "revoked grant refused on %s", r)
		_, err := d.replica(r).LoadUpstreamTokens(ctx, access2)
		assert.ErrorIs(t, err, oauthproxy.ErrTokenRevoked, "on %s", r)
	}

	// The hops happened where the test said, so every step found the state
	// the previous one left in Redis, not in its own memory. (Other requests,
	// such as a redirect from /authorize to the consent page, may come between.)
	assertHopsInclude(t, d.routed(), []hop{
		{"A", "POST /oauth/register"},
		{"B", "GET /oauth/authorize"},
		{"A", "POST /oauth/consent"},
		{"A", "GET /oauth/callback"},
		{"B", "POST /oauth/token"},
		{"A", "POST /mcp"},
		{"B", "POST /mcp"},
		{"A", "POST /oauth/token"},
		{"B", "POST /mcp"},
		{"B", "POST /oauth/token"},
		{"A", "POST /mcp"},
		{"B", "POST /mcp"},
	})
}

// assertHopsInclude checks that want happened, in this order, within got.
func assertHopsInclude(t *testing.T, got, want []hop) {
	t.Helper()
	i := 0
	for _, h := range got {
		if i < len(want) && h == want[i] {
			i++
		}
	}
	if i < len(want) {
		t.Errorf("hop %d (%v) did not happen in order; routed: %v", i, want[i], got)
	}
}

// TestReplicas_SeparateMemoryStoresDoNotShare is the control for the tests
// above: with the default in-memory store, a client registered on A is unknown
// to B. It shows the front end really separates the replicas, so what works
// over Redis works because of Redis.
func TestReplicas_SeparateMemoryStoresDoNotShare(t *testing.T) {
	d := newDeployment(t)
	d.start("A", storage.NewMemory())
	d.start("B", storage.NewMemory())

	d.use("A")
	c := d.register("none")
	d.use("B")
	resp, err := d.browser().Get(d.srv.URL + "/oauth/authorize?" + authorizeParams(c, pkce.Challenge(pkce.GenerateVerifier())).Encode())
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, http.StatusBadRequest, resp.StatusCode, "B does not know A's client")
}

// raceOn sends n requests at once, request i to replica "A" when i is even and
// "B" when odd, and returns the answers.
func raceOn(t *testing.T, n int, send func(replica string) (tokenResult, error)) []tokenResult {
	t.Helper()
	results := make([]tokenResult, n)
	errs := make([]error, n)
	start := make(chan struct{})
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			replica := "A"
			if i%2 == 1 {
				replica = "B"
			}
			<-start
			results[i], errs[i] = send(replica)
		}()
	}
	close(start)
	wg.Wait()
	require.NoError(t, errors.Join(errs...))
	return results
}

// raceWidth is how many requests each race sends, half to each replica.
const raceWidth = 16

func TestReplicas_CodeRacedOnBothIsRedeemedOnce(t *testing.T) {
	for _, tc := range []struct {
		name    string
		forward bool
	}{
		{"proxy PKCE", false},
		// With ForwardPKCE the upstream code is exchanged at /token, so the
		// race must also reach the upstream only once.
		{"ForwardPKCE", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d := twoReplicas(t, withConfig(func(c *oauthproxy.Config) { c.ForwardPKCE = tc.forward }))
			d.use("A")
			c := d.register("client_secret_post")
			for round := range 3 {
				code, verifier := d.code(c)
				before := d.idp.Stats().CodeExchanges
				d.routed()

				results := raceOn(t, raceWidth, func(replica string) (tokenResult, error) {
					return d.tokenVia(replica, c, url.Values{
						"grant_type":    {"authorization_code"},
						"code":          {code},
						"redirect_uri":  {clientRedirect},
						"code_verifier": {verifier},
					})
				})

				wins := 0
				for _, r := range results {
					switch r.Status {
					case http.StatusOK:
						wins++
						assert.NotEmpty(t, r.str("access_token"))
					case http.StatusBadRequest:
						assert.Equal(t, "invalid_grant", r.str("error"), "a loser: %v", r.Body)
					default:
						t.Errorf("round %d: unexpected answer %d %v", round, r.Status, r.Body)
					}
				}
				assert.Equal(t, 1, wins, "round %d: the code is redeemed exactly once across replicas", round)
				if tc.forward {
					assert.Equal(t, before+1, d.idp.Stats().CodeExchanges, "round %d: the upstream code is exchanged once", round)
				}
				assertBothServed(t, d.routed(), raceWidth)
			}
		})
	}
}

func TestReplicas_RefreshRacedOnBothRotatesOnce(t *testing.T) {
	for _, tc := range []struct {
		name  string
		grace time.Duration
	}{
		{"no grace", 0},
		// With RefreshReuseGrace, losers on either replica may get the
		// winner's answer again, but never a second rotation.
		{"RefreshReuseGrace", time.Minute},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d := twoReplicas(t, withConfig(func(c *oauthproxy.Config) { c.RefreshReuseGrace = tc.grace }))
			d.use("A")
			c := d.register("client_secret_basic")
			for round := range 3 {
				code, verifier := d.code(c)
				tok := d.exchange(c, code, verifier)
				require.Equal(t, http.StatusOK, tok.Status, "%v", tok.Body)
				refresh := tok.str("refresh_token")
				d.routed()

				results := raceOn(t, raceWidth, func(replica string) (tokenResult, error) {
					return d.tokenVia(replica, c, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {refresh}})
				})

				wins := 0
				issued := map[string]bool{}
				for _, r := range results {
					switch r.Status {
					case http.StatusOK:
						wins++
						require.NotEmpty(t, r.str("refresh_token"))
						issued[r.str("refresh_token")+" "+r.str("access_token")] = true
					case http.StatusBadRequest:
						assert.Equal(t, "invalid_grant", r.str("error"), "a loser: %v", r.Body)
					default:
						t.Errorf("round %d: unexpected answer %d %v", round, r.Status, r.Body)
					}
				}
				require.GreaterOrEqual(t, wins, 1, "round %d: one use succeeds", round)
				assert.Len(t, issued, 1, "round %d: the refresh token rotated exactly once across replicas", round)
				if tc.grace == 0 {
					assert.Equal(t, 1, wins, "round %d: without grace, exactly one use succeeds", round)
				}
				assertBothServed(t, d.routed(), raceWidth)
			}
		})
	}
}

// assertBothServed checks that a race of n token requests was split evenly
// between the replicas.
func assertBothServed(t *testing.T, hops []hop, n int) {
	t.Helper()
	count := map[string]int{}
	for _, h := range hops {
		require.Equal(t, "POST /oauth/token", h.Route)
		count[h.Replica]++
	}
	assert.Equal(t, map[string]int{"A": n / 2, "B": n / 2}, count)
}

// TestReplicas_ConcurrentUpstreamRefreshKeepsSession: when the upstream access
// token is due, the proxy refreshes it upstream, and (freshGrant's own comment)
// "concurrent users of one grant share an upstream refresh, because many
// providers rotate refresh tokens, so a second concurrent refresh would fail
// and kill the session". That sharing is a singleflight inside one process;
// across replicas two refreshes of one grant still race at the upstream. Here
// the upstream rotates refresh tokens, A's upstream refresh is held at the
// upstream while B refreshes the same grant, then A's goes through with the
// spent upstream refresh token.
func TestReplicas_ConcurrentUpstreamRefreshKeepsSession(t *testing.T) {
	for _, tc := range []struct {
		name string
		// onA is the operation whose upstream refresh loses the race.
		onA func(d *deployment, c registered, access, refresh string) error
	}{
		{"client refresh on A", func(d *deployment, c registered, _, refresh string) error {
			r, err := d.tokenVia("A", c, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {refresh}})
			if err == nil && r.Status != http.StatusOK {
				err = fmt.Errorf("refresh on A: %d %v", r.Status, r.Body)
			}
			return err
		}},
		{"LoadUpstreamTokens on A", func(d *deployment, _ registered, access, _ string) error {
			_, err := d.replica("A").LoadUpstreamTokens(d.t.Context(), access)
			return err
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d := twoReplicas(t, withIdP(func(o *oauthproxytest.Options) {
				o.RotateRefreshTokens = true
				// Under the proxy's one-minute leeway: every use refreshes upstream.
				o.AccessTokenTTL = 30 * time.Second
			}))
			d.use("A")
			c := d.register("client_secret_basic")
			code, verifier := d.code(c)
			tok := d.exchange(c, code, verifier)
			require.Equal(t, http.StatusOK, tok.Status, "%v", tok.Body)
			access, refresh := tok.str("access_token"), tok.str("refresh_token")

			release := make(chan struct{})
			var releaseOnce sync.Once
			unblock := func() { releaseOnce.Do(func() { close(release) }) }
			defer unblock()
			d.idp.HangNext(release)
			errA := make(chan error, 1)
			go func() { errA <- tc.onA(d, c, access, refresh) }()
			require.Eventually(t, func() bool {
				return d.idp.LastTokenRequest().Get("grant_type") == "refresh_token"
			}, 5*time.Second, 5*time.Millisecond, "A's upstream refresh reaches the upstream")

			// Meanwhile a tool call on B needs the upstream tokens too.
			_, err := d.replica("B").LoadUpstreamTokens(t.Context(), access)
			require.NoError(t, err, "B refreshes the grant upstream")
			unblock()

			assert.NoError(t, <-errA, "A's concurrent use of the same, live grant must not fail")
			_, err = d.replica("A").LoadUpstreamTokens(t.Context(), access)
			assert.NoError(t, err, "the grant is alive afterwards")
		})
	}
}

// gatedStore holds Save of keys with a prefix until released, to stop a
// replica at one point of a multi-write operation.
type gatedStore struct {
	*redis.Store
	prefix  string
	reached chan struct{} // closed when a Save of prefix arrives
	release chan struct{} // closed to let it go on
	once    sync.Once
}

func (g *gatedStore) Save(ctx context.Context, key string, value []byte, ttl time.Duration) error {
	if strings.HasPrefix(key, g.prefix) {
		g.once.Do(func() { close(g.reached) })
		<-g.release
	}
	return g.Store.Save(ctx, key, value, ttl)
}

// TestReplicas_GraceRetryDuringRotationKeepsGrant: with RefreshReuseGrace, "the
// same client retrying within the grace period gets the pair it was already
// issued ... as long as that pair's refresh token is unused" (Config docs). A
// client whose refresh response is slow retries, and the load balancer sends
// the retry to B while A is still finishing the rotation: A has saved the
// rotation marker but not yet the answer B should repeat.
func TestReplicas_GraceRetryDuringRotationKeepsGrant(t *testing.T) {
	addr := redistest.Start(t)
	d := newDeployment(t, withConfig(func(c *oauthproxy.Config) { c.RefreshReuseGrace = time.Minute }))
	gate := &gatedStore{Store: redisStore(t, addr), prefix: "graceresp:", reached: make(chan struct{}), release: make(chan struct{})}
	var releaseOnce sync.Once
	unblock := func() { releaseOnce.Do(func() { close(gate.release) }) }
	defer unblock()
	d.start("A", gate)
	d.start("B", redisStore(t, addr))

	d.use("A")
	c := d.register("client_secret_basic")
	code, verifier := d.code(c)
	tok := d.exchange(c, code, verifier)
	require.Equal(t, http.StatusOK, tok.Status, "%v", tok.Body)
	form := url.Values{"grant_type": {"refresh_token"}, "refresh_token": {tok.str("refresh_token")}}

	first := make(chan tokenResult, 1)
	go func() {
		r, err := d.tokenVia("A", c, form)
		if err != nil {
			r = tokenResult{Body: map[string]any{"transport": err.Error()}}
		}
		first <- r
	}()
	select {
	case <-gate.reached:
	case <-time.After(5 * time.Second):
		t.Fatal("A never reached saving the grace answer")
	}
	retry, err := d.tokenVia("B", c, form) // the client's retry, within the grace period
	require.NoError(t, err)
	unblock()
	r := <-first
	require.Equal(t, http.StatusOK, r.Status, "A's rotation: %v", r.Body)

	// Whatever B answered the retry, the pair A issued is unused and within
	// the grace period: the grant must not have been revoked.
	t.Logf("retry on B answered %d %v", retry.Status, retry.Body)
	resp, _ := d.callMCP(r.str("access_token"))
	assert.Equal(t, http.StatusOK, resp.StatusCode, "the access token A just issued still works")
	again := d.refresh(c, r.str("refresh_token"))
	assert.Equal(t, http.StatusOK, again.Status, "the refresh token A just issued still works: %v", again.Body)
}
