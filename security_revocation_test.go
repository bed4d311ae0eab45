package oauthproxy_test

// Security tests for S06: RFC 7009 revocation ends the whole grant.

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/oauthproxy-go/oauthproxy"
	"github.com/oauthproxy-go/oauthproxy/storage"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

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
	store := newRecordingStore(storage.NewMemory())
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
		assert.Empty(t, store.changedSince(mark), "%s: nothing changes", tc.name)
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
