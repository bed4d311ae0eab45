package oauthproxy_test

// Security tests for S05 and S06: a replayed code or a reused rotated refresh token revokes the grant.

import (
	"context"
	"encoding/json"
	"net/http"
	"testing"
	"time"

	"github.com/oauthproxy-go/oauthproxy"
	"github.com/oauthproxy-go/oauthproxy/internal/pkce"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// ---------------------------------------------------------------------------
// S05 a replayed code revokes every token issued from it

func TestSecurity_S05_CodeReplayRevokesGrant(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name           string
		mode           envOption
		authMethod     string
		replayByOther  bool
		replayVerifier bool // replay with the right verifier (else a wrong one)
	}{
		{name: "swap, public client replays", authMethod: "none", replayVerifier: true},
		{name: "swap, confidential client replays", authMethod: "client_secret_basic", replayVerifier: true},
		{name: "swap, replay with a wrong verifier", authMethod: "client_secret_post"},
		{name: "swap, another client replays", authMethod: "none", replayByOther: true, replayVerifier: true},
		{name: "pass-through, client replays", mode: withPassThrough(), authMethod: "none", replayVerifier: true},
		{name: "pass-through, another client replays", mode: withPassThrough(), authMethod: "client_secret_basic", replayByOther: true, replayVerifier: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			var opts []envOption
			if tc.mode != nil {
				opts = append(opts, tc.mode)
			}
			e := newEnv(t, opts...)
			c := e.register(tc.authMethod)
			other := e.secTokens(c) // another grant of the same client

			code, verifier := e.code(c)
			tok := e.exchange(c, code, verifier)
			require.Equal(t, http.StatusOK, tok.Status, "%v", tok.Body)
			access, refresh := tok.str("access_token"), tok.str("refresh_token")
			resp, _ := e.callMCP(access)
			require.Equal(t, http.StatusOK, resp.StatusCode, "the access token works before the replay")

			replayer, replayVerifier := c, verifier
			if tc.replayByOther {
				replayer = e.register("none")
			}
			if !tc.replayVerifier {
				replayVerifier = pkce.GenerateVerifier()
			}
			replay := e.exchange(replayer, code, replayVerifier)
			assert.Equal(t, http.StatusBadRequest, replay.Status)
			assert.Equal(t, "invalid_grant", replay.str("error"))
			assert.Empty(t, replay.str("access_token"))
			assert.Empty(t, replay.str("refresh_token"))

			e.sgRequireRevoked(c, access, refresh)
			_, err := e.proxy.VerifyAccessToken(context.Background(), access)
			assert.ErrorIs(t, err, oauthproxy.ErrTokenRevoked)

			// The client's other grant is not touched.
			e.sgRequireLive(c, other.str("access_token"), other.str("refresh_token"))
		})
	}
}

// A revoked grant must stay revoked for as long as any token issued from it
// could otherwise still be used. In pass-through mode the client holds the
// upstream's tokens, which live by the upstream's clock (here the fake IdP's
// default one hour) and, for the refresh token, RefreshTokenTTL.
func TestSecurity_S05_RevocationOutlivesTheTokens(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name      string
		mode      envOption
		revokeBy  string        // "replay" (S05) or an RFC 7009 revocation of "access" or "refresh"
		accessTTL time.Duration // Config.AccessTokenTTL; 0 for the default
		advance   time.Duration
		check     string // "access" or "refresh"
	}{
		{name: "pass-through replay, access token within its upstream lifetime", mode: withPassThrough(), revokeBy: "replay", accessTTL: 5 * time.Minute, advance: 10 * time.Minute, check: "access"},
		{name: "pass-through replay, refresh token after AccessTokenTTL", mode: withPassThrough(), revokeBy: "replay", advance: 2 * time.Hour, check: "refresh"},
		{name: "pass-through refresh revoked, access token within its upstream lifetime", mode: withPassThrough(), revokeBy: "refresh", accessTTL: 5 * time.Minute, advance: 10 * time.Minute, check: "access"},
		{name: "pass-through access revoked, refresh token after AccessTokenTTL", mode: withPassThrough(), revokeBy: "access", advance: 2 * time.Hour, check: "refresh"},
		{name: "swap replay, refresh token after AccessTokenTTL", revokeBy: "replay", advance: 2 * time.Hour, check: "refresh"},
		{name: "swap access revoked, refresh token after AccessTokenTTL", revokeBy: "access", advance: 2 * time.Hour, check: "refresh"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			clk := newSecClock()
			opts := []envOption{withClockedStore(clk), withConfig(func(c *oauthproxy.Config) { c.AccessTokenTTL = tc.accessTTL })}
			if tc.mode != nil {
				opts = append(opts, tc.mode)
			}
			e := newEnv(t, opts...)
			c := e.register("none")
			code, verifier := e.code(c)
			tok := e.exchange(c, code, verifier)
			require.Equal(t, http.StatusOK, tok.Status, "%v", tok.Body)
			access, refresh := tok.str("access_token"), tok.str("refresh_token")
			switch tc.revokeBy {
			case "replay":
				require.Equal(t, "invalid_grant", e.exchange(c, code, verifier).str("error"))
			case "access":
				require.Equal(t, http.StatusOK, e.sgRevoke(c, access, "").Status)
			case "refresh":
				require.Equal(t, http.StatusOK, e.sgRevoke(c, refresh, "").Status)
			}
			resp, _ := e.callMCP(access)
			require.Equal(t, http.StatusUnauthorized, resp.StatusCode, "revoked at once")

			clk.Advance(tc.advance)
			switch tc.check {
			case "access":
				resp, _ := e.callMCP(access)
				assert.Equal(t, http.StatusUnauthorized, resp.StatusCode,
					"an access token of a revoked grant must not come back to life after %s", tc.advance)
			case "refresh":
				res := e.refresh(c, refresh)
				assert.Equal(t, http.StatusBadRequest, res.Status,
					"a refresh token of a revoked grant must not come back to life after %s: %v", tc.advance, res.Body)
				assert.Equal(t, "invalid_grant", res.str("error"))
				assert.Empty(t, res.str("access_token"))
			}
		})
	}
}

// ---------------------------------------------------------------------------
// S06 reuse of a rotated refresh token revokes the grant

func TestSecurity_S06_RotatedRefreshTokenReuseRevokesGrant(t *testing.T) {
	t.Parallel()
	for _, method := range []string{"none", "client_secret_basic"} {
		t.Run(method, func(t *testing.T) {
			t.Parallel()
			e := newEnv(t)
			c := e.register(method)
			other := e.secTokens(c)
			tok := e.secTokens(c)
			old := tok.str("refresh_token")

			first := e.refresh(c, old)
			require.Equal(t, http.StatusOK, first.Status, "%v", first.Body)
			require.NotEqual(t, old, first.str("refresh_token"), "the refresh token rotates")

			reuse := e.refresh(c, old)
			assert.Equal(t, http.StatusBadRequest, reuse.Status)
			assert.Equal(t, "invalid_grant", reuse.str("error"))
			assert.Empty(t, reuse.str("access_token"))

			e.sgRequireRevoked(c, first.str("access_token"), first.str("refresh_token"))
			resp, _ := e.callMCP(tok.str("access_token"))
			assert.Equal(t, http.StatusUnauthorized, resp.StatusCode, "the first access token dies too")

			e.sgRequireLive(c, other.str("access_token"), other.str("refresh_token"))
		})
	}
}

func TestSecurity_S06_RefreshReuseGraceReturnsTheSamePair(t *testing.T) {
	t.Parallel()
	clk := newSecClock()
	e := newEnv(t, withClockedStore(clk), withConfig(func(c *oauthproxy.Config) { c.RefreshReuseGrace = 5 * time.Second }))
	c := e.register("none")
	tok := e.secTokens(c)
	old := tok.str("refresh_token")

	first := e.refresh(c, old)
	require.Equal(t, http.StatusOK, first.Status, "%v", first.Body)

	// The client lost the answer and retries within the grace period.
	for _, after := range []time.Duration{time.Second, time.Second} {
		clk.Advance(after)
		retry := e.refresh(c, old)
		require.Equal(t, http.StatusOK, retry.Status, "a retry within the grace period succeeds: %v", retry.Body)
		assert.Equal(t, first.str("access_token"), retry.str("access_token"), "the same access token, not a new one")
		assert.Equal(t, first.str("refresh_token"), retry.str("refresh_token"), "the same refresh token, not a new one")
	}
	resp, _ := e.callMCP(first.str("access_token"))
	require.Equal(t, http.StatusOK, resp.StatusCode, "a retry within the grace does not revoke the grant")

	// The new refresh token works once, after which the old one has no
	// answer left to repeat: presenting it again is reuse.
	second := e.refresh(c, first.str("refresh_token"))
	require.Equal(t, http.StatusOK, second.Status, "the new refresh token still works: %v", second.Body)
	clk.Advance(time.Second) // still within the grace period of the old token
	late := e.refresh(c, old)
	assert.Equal(t, http.StatusBadRequest, late.Status)
	assert.Equal(t, "invalid_grant", late.str("error"))
	assert.Empty(t, late.str("access_token"))
	e.sgRequireRevoked(c, second.str("access_token"), second.str("refresh_token"))
}

func TestSecurity_S06_RefreshReuseAfterGraceRevokesGrant(t *testing.T) {
	t.Parallel()
	clk := newSecClock()
	e := newEnv(t, withClockedStore(clk), withConfig(func(c *oauthproxy.Config) { c.RefreshReuseGrace = 5 * time.Second }))
	c := e.register("none")
	tok := e.secTokens(c)
	first := e.refresh(c, tok.str("refresh_token"))
	require.Equal(t, http.StatusOK, first.Status, "%v", first.Body)

	clk.Advance(6 * time.Second)
	reuse := e.refresh(c, tok.str("refresh_token"))
	assert.Equal(t, http.StatusBadRequest, reuse.Status)
	assert.Equal(t, "invalid_grant", reuse.str("error"))
	assert.Empty(t, reuse.str("access_token"))
	e.sgRequireRevoked(c, first.str("access_token"), first.str("refresh_token"))
}

func TestSecurity_S06_RefreshReuseGraceIsOnlyForTheSameClient(t *testing.T) {
	t.Parallel()
	for _, method := range []string{"none", "client_secret_post"} {
		t.Run(method, func(t *testing.T) {
			t.Parallel()
			clk := newSecClock()
			e := newEnv(t, withClockedStore(clk), withConfig(func(c *oauthproxy.Config) { c.RefreshReuseGrace = 5 * time.Second }))
			owner := e.register("none")
			thief := e.register(method)
			tok := e.secTokens(owner)
			first := e.refresh(owner, tok.str("refresh_token"))
			require.Equal(t, http.StatusOK, first.Status, "%v", first.Body)

			clk.Advance(time.Second)
			stolen := e.refresh(thief, tok.str("refresh_token"))
			assert.Equal(t, http.StatusBadRequest, stolen.Status)
			assert.Equal(t, "invalid_grant", stolen.str("error"))
			raw, _ := json.Marshal(stolen.Body)
			assert.NotContains(t, string(raw), first.str("access_token"), "another client never gets the pair")
			assert.NotContains(t, string(raw), first.str("refresh_token"), "another client never gets the pair")
			// A rotated token in another client's hands has leaked: RFC 9700
			// §4.14.2 revokes the grant.
			e.sgRequireRevoked(owner, first.str("access_token"), first.str("refresh_token"))
		})
	}
}

func TestSecurity_S06_RefreshReuseGraceIsBounded(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		grace time.Duration
		ok    bool
	}{
		{0, true},
		{5 * time.Second, true},
		{time.Minute, true},
		{-time.Nanosecond, false},
		{-5 * time.Second, false},
		{time.Minute + time.Nanosecond, false},
		{time.Hour, false},
	} {
		cfg := sgConfig()
		cfg.RefreshReuseGrace = tc.grace
		p, err := oauthproxy.New(cfg)
		if tc.ok {
			assert.NoError(t, err, "RefreshReuseGrace %s", tc.grace)
			if p != nil {
				p.Destroy()
			}
			continue
		}
		if assert.Error(t, err, "RefreshReuseGrace %s must be refused", tc.grace) {
			assert.Contains(t, err.Error(), "RefreshReuseGrace")
		}
		assert.Nil(t, p)
	}
}
