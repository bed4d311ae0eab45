package oauthproxy_test

// Security tests for grants: what a replayed code (S05), a reused refresh
// token (S06) and an RFC 7009 revocation take down, resource indicators
// (S10) and the token swap (S11). They drive the proxy over real HTTP through
// the env harness, except where the typed API is the more direct proof.

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/oauthproxy-go/oauthproxy"
	"github.com/oauthproxy-go/oauthproxy/internal/pkce"
	"github.com/oauthproxy-go/oauthproxy/oauthproxytest"
	"github.com/oauthproxy-go/oauthproxy/storage"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// withPassThrough turns on pass-through mode (DisableTokenSwap).
func withPassThrough() envOption {
	return withConfig(func(c *oauthproxy.Config) { c.DisableTokenSwap = true })
}

// withClockedStore makes the proxy read time from clk, storage expiry included.
func withClockedStore(clk *secClock) envOption {
	return withConfig(func(c *oauthproxy.Config) {
		c.Now = clk.Now
		c.TokenStorage = storage.NewMemoryWithClock(clk.Now)
	})
}

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

// ---------------------------------------------------------------------------
// S06 RFC 7009 revocation: revoking a token ends its whole grant

func TestSecurity_S06_RevocationEndsTheGrant(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name, authMethod, revoke, hint string
	}{
		{"refresh token, no hint", "none", "refresh", ""},
		{"refresh token, refresh hint", "client_secret_basic", "refresh", "refresh_token"},
		{"refresh token, wrong hint", "client_secret_post", "refresh", "access_token"},
		{"access token, no hint", "none", "access", ""},
		{"access token, access hint", "client_secret_basic", "access", "access_token"},
		{"access token, wrong hint", "client_secret_post", "access", "refresh_token"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			e := newEnv(t)
			c := e.register(tc.authMethod)
			other := e.secTokens(c)
			tok := e.secTokens(c)
			access, refresh := tok.str("access_token"), tok.str("refresh_token")

			token := refresh
			if tc.revoke == "access" {
				token = access
			}
			res := e.sgRevoke(c, token, tc.hint)
			assert.Equal(t, http.StatusOK, res.Status, res.Body)
			assert.Empty(t, res.Body, "RFC 7009 §2.2: 200 with an empty body")

			e.sgRequireRevoked(c, access, refresh)
			assert.Equal(t, http.StatusOK, e.sgRevoke(c, token, tc.hint).Status, "revoking again is still 200")
			e.sgRequireLive(c, other.str("access_token"), other.str("refresh_token"))
		})
	}
}

func TestSecurity_S06_RevocationOfUnknownOrForeignTokenChangesNothing(t *testing.T) {
	t.Parallel()
	store := newSGRecordStore(storage.NewMemory())
	e := newEnv(t, withSecStore(store))
	owner := e.register("client_secret_basic")
	tok := e.secTokens(owner)
	access, refresh := tok.str("access_token"), tok.str("refresh_token")
	thief := e.register("none")
	thief2 := e.register("client_secret_post")

	for _, tc := range []struct {
		name        string
		by          registered
		token, hint string
	}{
		{"unknown token", owner, "not-a-token", ""},
		{"random 256-bit token", owner, strings.Repeat("A", 43), "refresh_token"},
		{"tampered access token", owner, access[:len(access)-2] + "xx", "access_token"},
		{"another client's refresh token", thief, refresh, ""},
		{"another client's refresh token with hint", thief2, refresh, "refresh_token"},
		{"another client's access token", thief, access, "access_token"},
		{"another client's access token without hint", thief2, access, ""},
	} {
		mark := store.mark()
		res := e.sgRevoke(tc.by, tc.token, tc.hint)
		assert.Equal(t, http.StatusOK, res.Status, "%s: RFC 7009 §2.2 answers 200: %s", tc.name, res.Body)
		assert.Empty(t, res.Body, tc.name)
		var changed []string
		for _, op := range store.opsSince(mark) {
			if !strings.HasPrefix(op, "save client:") { // registration idle bookkeeping
				changed = append(changed, op)
			}
		}
		assert.Empty(t, changed, "%s: nothing changes", tc.name)
	}
	e.sgRequireLive(owner, access, refresh)
}

func TestSecurity_S06_RevocationAuthenticatesTheClient(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	c := e.register("client_secret_basic")
	tok := e.secTokens(c)
	access, refresh := tok.str("access_token"), tok.str("refresh_token")

	for _, tc := range []struct {
		name              string
		form              url.Values
		basicID, basicPwd string
		wantBasicHeader   bool
	}{
		{name: "client_id without its secret", form: url.Values{"token": {refresh}, "client_id": {c.ID}}},
		{name: "no client at all", form: url.Values{"token": {refresh}}},
		{name: "wrong secret with Basic", form: url.Values{"token": {refresh}}, basicID: c.ID, basicPwd: "wrong", wantBasicHeader: true},
		{name: "secret in the body although registered for Basic", form: url.Values{"token": {access}, "client_id": {c.ID}, "client_secret": {c.Secret}}},
	} {
		res := sgPost(t, e.srv.URL+"/oauth/revoke", tc.form, tc.basicID, tc.basicPwd)
		assert.Equal(t, http.StatusUnauthorized, res.Status, "%s: %s", tc.name, res.Body)
		assert.Equal(t, "invalid_client", res.json(t)["error"], tc.name)
		if tc.wantBasicHeader {
			assert.Contains(t, res.Header.Get("WWW-Authenticate"), "Basic", tc.name)
		}
	}
	e.sgRequireLive(c, access, refresh)
}

func TestSecurity_S06_RevocationRequiresAToken(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	c := e.register("none")
	tok := e.secTokens(c)
	for _, form := range []url.Values{
		{"client_id": {c.ID}},
		{"client_id": {c.ID}, "token": {""}},
		{"client_id": {c.ID}, "token_type_hint": {"refresh_token"}},
	} {
		res := sgPost(t, e.srv.URL+"/oauth/revoke", form, "", "")
		assert.Equal(t, http.StatusBadRequest, res.Status, "%v: %s", form, res.Body)
		assert.Equal(t, "invalid_request", res.json(t)["error"], "%v", form)
	}
	e.sgRequireLive(c, tok.str("access_token"), tok.str("refresh_token"))
}

func TestSecurity_S06_MetadataAdvertisesRevocationEndpoint(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	resp, err := http.Get(e.srv.URL + "/.well-known/oauth-authorization-server")
	require.NoError(t, err)
	defer resp.Body.Close()
	require.Equal(t, http.StatusOK, resp.StatusCode)
	var md map[string]any
	require.NoError(t, json.NewDecoder(resp.Body).Decode(&md))
	assert.Equal(t, e.srv.URL+"/oauth/revoke", md["revocation_endpoint"])
	assert.Equal(t, e.proxy.GetAuthorizationServerMetadata().RevocationEndpoint, md["revocation_endpoint"])
}

func TestSecurity_S06_RevocationReachesTheUpstream(t *testing.T) {
	t.Parallel()
	for _, revoke := range []string{"refresh", "access"} {
		t.Run(revoke, func(t *testing.T) {
			t.Parallel()
			up := newSGUpstreamRevocation(t)
			e := newEnv(t, withConfig(func(c *oauthproxy.Config) { c.UpstreamRevocationEndpoint = up.endpoint() }))
			c := e.register("none")
			tok := e.secTokens(c)
			ut, err := e.proxy.LoadUpstreamTokens(context.Background(), tok.str("access_token"))
			require.NoError(t, err)
			require.NotEmpty(t, ut.RefreshToken)

			// An unknown token is not forwarded.
			require.Equal(t, http.StatusOK, e.sgRevoke(c, "not-a-token", "").Status)
			require.Empty(t, up.calls(), "nothing to revoke upstream for an unknown token")

			token := tok.str("refresh_token")
			if revoke == "access" {
				token = tok.str("access_token")
			}
			require.Equal(t, http.StatusOK, e.sgRevoke(c, token, "").Status)
			calls := up.calls()
			require.Len(t, calls, 1, "the upstream tokens are revoked upstream")
			assert.Equal(t, ut.RefreshToken, calls[0].Token, "the upstream refresh token, not the proxy's")
			assert.Equal(t, "refresh_token", calls[0].Hint)
			assert.True(t, calls[0].HasBasic, "the proxy authenticates as its upstream client")
			assert.Equal(t, "upstream-client", calls[0].BasicID)
			assert.Equal(t, "upstream-secret", calls[0].BasicPwd)
			e.sgRequireRevoked(c, tok.str("access_token"), tok.str("refresh_token"))
		})
	}
}

func TestSecurity_S06_PassThroughRevocationEndsTheGrant(t *testing.T) {
	t.Parallel()
	for _, revoke := range []string{"access", "refresh"} {
		t.Run(revoke, func(t *testing.T) {
			t.Parallel()
			e := newEnv(t, withPassThrough())
			c := e.register("none")
			other := e.secTokens(c)
			tok := e.secTokens(c)
			access, refresh := tok.str("access_token"), tok.str("refresh_token")
			resp, _ := e.callMCP(access)
			require.Equal(t, http.StatusOK, resp.StatusCode)

			token := access
			if revoke == "refresh" {
				token = refresh
			}
			res := e.sgRevoke(c, token, "")
			assert.Equal(t, http.StatusOK, res.Status, res.Body)
			assert.Empty(t, res.Body)
			e.sgRequireDead(c, access, refresh, oauthproxy.ErrTokenRevoked, oauthproxy.ErrInvalidToken)
			e.sgRequireLive(c, other.str("access_token"), other.str("refresh_token"))
		})
	}
}

// In pass-through mode the client revokes the upstream's own token, so the
// proxy forwards that token upstream, saying which kind it is (RFC 7009 §2.1).
func TestSecurity_S06_PassThroughRevocationForwardsTheTokenUpstream(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ revoke, wantHint string }{
		{"refresh", "refresh_token"},
		{"access", "access_token"},
	} {
		t.Run(tc.revoke, func(t *testing.T) {
			t.Parallel()
			up := newSGUpstreamRevocation(t)
			e := newEnv(t, withPassThrough(), withConfig(func(c *oauthproxy.Config) { c.UpstreamRevocationEndpoint = up.endpoint() }))
			c := e.register("none")
			tok := e.secTokens(c)
			token := tok.str("refresh_token")
			if tc.revoke == "access" {
				token = tok.str("access_token")
			}
			require.Equal(t, http.StatusOK, e.sgRevoke(c, token, "").Status)
			calls := up.calls()
			require.Len(t, calls, 1)
			assert.Equal(t, token, calls[0].Token)
			assert.Equal(t, tc.wantHint, calls[0].Hint, "the hint names the kind of token sent")
			assert.Equal(t, "upstream-client", calls[0].BasicID)
		})
	}
}

// After a grant is revoked, a retry within RefreshReuseGrace must not hand
// out the (now dead) pair again as if the refresh had succeeded.
func TestSecurity_S06_GraceRetryAfterRevocationGetsNoTokens(t *testing.T) {
	t.Parallel()
	clk := newSecClock()
	e := newEnv(t, withClockedStore(clk), withConfig(func(c *oauthproxy.Config) { c.RefreshReuseGrace = 5 * time.Second }))
	c := e.register("none")
	tok := e.secTokens(c)
	first := e.refresh(c, tok.str("refresh_token"))
	require.Equal(t, http.StatusOK, first.Status, "%v", first.Body)
	require.Equal(t, http.StatusOK, e.sgRevoke(c, first.str("refresh_token"), "refresh_token").Status)

	clk.Advance(time.Second)
	retry := e.refresh(c, tok.str("refresh_token"))
	assert.Equal(t, http.StatusBadRequest, retry.Status, "no token response for a revoked grant: %v", retry.Body)
	assert.Equal(t, "invalid_grant", retry.str("error"))
	assert.Empty(t, retry.str("access_token"))
}

// ---------------------------------------------------------------------------
// S10 resource indicators (RFC 8707)

// sgForeignResources are resource values that are not the env's Resource
// (BaseURL+"/mcp").
func sgForeignResources(base string) []string {
	return []string{
		"https://evil.example/mcp",
		base,
		base + "/",
		base + "/mcp/",
		base + "/MCP",
		base + "/mcp/other",
		base + "/mcp?tenant=1",
		strings.Replace(base, "http://", "https://", 1) + "/mcp",
		strings.Replace(base, "127.0.0.1", "localhost", 1) + "/mcp",
	}
}

func TestSecurity_S10_AuthorizeRefusesForeignResource(t *testing.T) {
	t.Parallel()
	store := newSecStore()
	e := newEnv(t, withSecStore(store))
	c := e.register("none")
	for _, resource := range sgForeignResources(e.srv.URL) {
		params := authorizeParams(c, pkce.Challenge(pkce.GenerateVerifier()))
		params.Set("resource", resource)
		mark := store.mark()
		h := e.secAuthorize(newSecBrowser(t), params)
		q := secClientRedirect(t, h, clientRedirect)
		assert.Equal(t, "invalid_target", q.Get("error"), resource)
		assert.Equal(t, "client-state-123", q.Get("state"), resource)
		assert.Equal(t, e.srv.URL, q.Get("iss"), resource)
		assert.Empty(t, q.Get("code"), resource)
		assert.Empty(t, store.since(mark), "%s: no transaction is recorded", resource)
	}
}

func TestSecurity_S10_TokenEndpointRefusesForeignResource(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	c := e.register("client_secret_basic")
	code, verifier := e.code(c)
	exchange := func(resource string) tokenResult {
		return e.token(c, url.Values{
			"grant_type":    {"authorization_code"},
			"code":          {code},
			"redirect_uri":  {clientRedirect},
			"code_verifier": {verifier},
			"resource":      {resource},
		})
	}
	for _, resource := range sgForeignResources(e.srv.URL) {
		res := exchange(resource)
		assert.Equal(t, http.StatusBadRequest, res.Status, resource)
		assert.Equal(t, "invalid_target", res.str("error"), resource)
		assert.Empty(t, res.str("access_token"), resource)
	}
	tok := exchange(e.srv.URL + "/mcp")
	require.Equal(t, http.StatusOK, tok.Status, "a refused request does not spend the code: %v", tok.Body)

	rt := tok.str("refresh_token")
	for _, resource := range sgForeignResources(e.srv.URL) {
		res := e.token(c, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {rt}, "resource": {resource}})
		assert.Equal(t, http.StatusBadRequest, res.Status, resource)
		assert.Equal(t, "invalid_target", res.str("error"), resource)
		assert.Empty(t, res.str("access_token"), resource)
	}
	res := e.token(c, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {rt}, "resource": {e.srv.URL + "/mcp"}})
	require.Equal(t, http.StatusOK, res.Status, "a refused refresh does not spend the token: %v", res.Body)
	e.sgRequireLive(c, res.str("access_token"), res.str("refresh_token"))
}

func TestSecurity_S10_AccessTokenAudienceIsTheResource(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name     string
		resource string // Config.Resource; "" for the default
	}{
		{name: "default resource"},
		{name: "configured resource", resource: "https://mcp.example.com/tools/mcp"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			e := newEnv(t, withConfig(func(c *oauthproxy.Config) { c.Resource = tc.resource }))
			resource := tc.resource
			if resource == "" {
				resource = e.srv.URL + "/mcp"
			}
			c := e.register("none")
			verifier := pkce.GenerateVerifier()
			params := authorizeParams(c, pkce.Challenge(verifier))
			params.Set("resource", resource)
			loc := e.login(e.browser(), params)
			require.Empty(t, loc.Query().Get("error"), loc.Query().Get("error_description"))

			tok := e.token(c, url.Values{
				"grant_type":    {"authorization_code"},
				"code":          {loc.Query().Get("code")},
				"redirect_uri":  {clientRedirect},
				"code_verifier": {verifier},
				"resource":      {resource},
			})
			require.Equal(t, http.StatusOK, tok.Status, "%v", tok.Body)
			aud, err := secClaims(t, tok.str("access_token")).GetAudience()
			require.NoError(t, err)
			assert.Equal(t, []string{resource}, []string(aud))

			res := e.token(c, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {tok.str("refresh_token")}, "resource": {resource}})
			require.Equal(t, http.StatusOK, res.Status, "%v", res.Body)
			aud, err = secClaims(t, res.str("access_token")).GetAudience()
			require.NoError(t, err)
			assert.Equal(t, []string{resource}, []string(aud))

			resp, claims := e.callMCP(res.str("access_token"))
			require.Equal(t, http.StatusOK, resp.StatusCode)
			assert.Equal(t, resource, claims["Audience"])
		})
	}
}

func TestSecurity_S10_BearerRefusesTokenForAnotherResource(t *testing.T) {
	t.Parallel()
	e := newEnv(t) // proxy A: Resource = BaseURL+"/mcp"
	c := e.register("none")
	tok := e.secTokens(c)
	access := tok.str("access_token")
	ctx := context.Background()

	// Proxy B differs from A only in Resource: same issuer, same keys.
	cfgB := e.cfg
	cfgB.Resource = e.srv.URL + "/other-mcp"
	b := sgNew(t, cfgB)
	_, err := b.VerifyAccessToken(ctx, access)
	assert.ErrorIs(t, err, oauthproxy.ErrInvalidToken)
	_, err = b.LoadUpstreamTokens(ctx, access)
	assert.ErrorIs(t, err, oauthproxy.ErrInvalidToken)
	rec := sgServe(b.RequireBearer(sgOK), sgBearerRequest(access))
	assert.Equal(t, http.StatusUnauthorized, rec.Code)
	assert.Contains(t, rec.Header().Get("WWW-Authenticate"), `error="invalid_token"`)
	assert.NotEqual(t, "ok", rec.Body.String(), "the protected handler is not reached")

	// A second instance of A's configuration accepts it: only the audience
	// made the difference.
	a2 := sgNew(t, e.cfg)
	_, err = a2.VerifyAccessToken(ctx, access)
	assert.NoError(t, err)
	assert.Equal(t, http.StatusOK, sgServe(a2.RequireBearer(sgOK), sgBearerRequest(access)).Code)
}

// ---------------------------------------------------------------------------
// S11 no token passthrough in swap mode

func TestSecurity_S11_UpstreamTokensNeverReachTheClient(t *testing.T) {
	t.Parallel()
	rec := &sgUpstreamRecorder{}
	// Upstream access tokens that are always within the refresh leeway make
	// every proxy refresh refresh upstream too, with rotation, so the refresh
	// responses are checked against fresh upstream tokens.
	e := newEnv(t, withSGUpstreamRecorder(rec), withIdP(func(o *oauthproxytest.Options) {
		o.AccessTokenTTL = 30 * time.Second
		o.RotateRefreshTokens = true
	}))
	c := e.register("client_secret_basic")

	var seen []string // everything the client and its browser were shown
	see := func(header http.Header, body string) {
		seen = append(seen, body)
		for k, vs := range header {
			seen = append(seen, k+": "+strings.Join(vs, ", "))
		}
	}
	b := newSecBrowser(t)
	verifier := pkce.GenerateVerifier()
	page, form := e.secOpenConsent(b, authorizeParams(c, pkce.Challenge(verifier)))
	see(page.Header, page.Body)
	cb := b.get(e.secToCallback(b, e.secDecide(b, form, "approve")))
	see(cb.Header, cb.Body)
	q := secClientRedirect(t, cb, clientRedirect)

	tok := e.exchange(c, q.Get("code"), verifier)
	require.Equal(t, http.StatusOK, tok.Status, "%v", tok.Body)
	seeToken := func(r tokenResult) {
		raw, _ := json.Marshal(r.Body)
		see(r.Header, string(raw))
	}
	seeToken(tok)
	rt := tok.str("refresh_token")
	var access string
	for range 2 {
		r := e.refresh(c, rt)
		require.Equal(t, http.StatusOK, r.Status, "%v", r.Body)
		seeToken(r)
		rt, access = r.str("refresh_token"), r.str("access_token")
	}
	require.GreaterOrEqual(t, e.idp.Stats().Refreshes, 2, "the proxy refreshed upstream")
	resp, echo := e.callMCP(access)
	require.Equal(t, http.StatusOK, resp.StatusCode)
	raw, _ := json.Marshal(echo)
	see(resp.Header, string(raw))

	ut, err := e.proxy.LoadUpstreamTokens(context.Background(), access)
	require.NoError(t, err)
	upstream := rec.tokens()
	require.Contains(t, upstream, ut.AccessToken, "the recorder saw the upstream's tokens")
	require.Contains(t, upstream, ut.RefreshToken)
	require.GreaterOrEqual(t, len(upstream), 6)
	for _, secret := range upstream {
		for _, s := range seen {
			if !assert.NotContains(t, s, secret, "an upstream token reached the client") {
				return
			}
		}
	}

	// The upstream's access token is not a bearer token at the proxy's
	// resource, nor is its refresh token a refresh token at the proxy.
	for _, upstreamAccess := range []string{ut.AccessToken, upstream[0]} {
		resp, _ := e.callMCP(upstreamAccess)
		assert.Equal(t, http.StatusUnauthorized, resp.StatusCode)
		assert.Contains(t, resp.Header.Get("WWW-Authenticate"), `error="invalid_token"`)
		_, err := e.proxy.VerifyAccessToken(context.Background(), upstreamAccess)
		assert.ErrorIs(t, err, oauthproxy.ErrInvalidToken)
	}
	res := e.refresh(c, ut.RefreshToken)
	assert.Equal(t, http.StatusBadRequest, res.Status)
	assert.Equal(t, "invalid_grant", res.str("error"))
}

func TestSecurity_S11_PassThroughHandsOutTheUpstreamToken(t *testing.T) {
	t.Parallel()
	rec := &sgUpstreamRecorder{}
	e := newEnv(t, withPassThrough(), withSGUpstreamRecorder(rec))
	c := e.register("none")
	tok := e.secTokens(c)
	access := tok.str("access_token")

	assert.Contains(t, rec.tokens(), access, "the client holds the upstream's access token")
	assert.Contains(t, rec.tokens(), tok.str("refresh_token"), "and the upstream's refresh token")
	ut, err := e.proxy.LoadUpstreamTokens(context.Background(), access)
	require.NoError(t, err)
	assert.Equal(t, access, ut.AccessToken)
	resp, claims := e.callMCP(access)
	require.Equal(t, http.StatusOK, resp.StatusCode, "the upstream token works at the resource")
	assert.Equal(t, c.ID, claims["ClientID"])

	// Only tokens the proxy handed out are accepted.
	resp, _ = e.callMCP("some-upstream-token-the-proxy-never-issued")
	assert.Equal(t, http.StatusUnauthorized, resp.StatusCode)
	assert.Contains(t, resp.Header.Get("WWW-Authenticate"), `error="invalid_token"`)
}
