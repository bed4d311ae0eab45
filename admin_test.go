package oauthproxy_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/oauthproxy-go/oauthproxy"
)

// RevokeSubject signs a user out everywhere: every access token refused at the
// next bearer check and every refresh token dead, under every client, while
// other users keep their sessions. On every backend.
func TestAdmin_RevokeSubjectSignsUserOutEverywhere(t *testing.T) {
	for _, b := range adminBackends {
		t.Run(b.name, func(t *testing.T) {
			e := newEnv(t, withConfig(func(c *oauthproxy.Config) { c.TokenStorage = b.open(t) }))
			c1, c2 := e.register("client_secret_basic"), e.register("none")
			a1, a2 := e.signIn(c1, alice), e.signIn(c2, alice)
			bobs := e.signIn(c1, bob)
			require.True(t, e.works(a1) && e.works(a2) && e.works(bobs))

			n, err := e.proxy.RevokeSubject(t.Context(), "alice")
			require.NoError(t, err)
			assert.Equal(t, 2, n, "alice's grant at each client")

			assert.False(t, e.works(a1), "alice's access token at client 1")
			assert.False(t, e.works(a2), "alice's access token at client 2")
			assert.False(t, e.refreshes(&a1), "alice's refresh token at client 1")
			assert.False(t, e.refreshes(&a2), "alice's refresh token at client 2")
			assert.True(t, e.works(bobs), "bob is not signed out")
			assert.True(t, e.refreshes(&bobs), "bob's refresh token still works")
			assert.Empty(t, grantIDs(t, e.proxy, oauthproxy.GrantFilter{Subject: "alice"}, 0))

			n, err = e.proxy.RevokeSubject(t.Context(), "alice")
			require.NoError(t, err)
			assert.Zero(t, n, "nothing left to revoke")

			again := e.signIn(c1, alice)
			assert.True(t, e.works(again), "alice may sign in again afterwards")
		})
	}
}

// ListGrants by subject, by client and by both, with what an operator needs
// to see, page by page. On every backend.
func TestAdmin_ListGrants(t *testing.T) {
	for _, b := range adminBackends {
		t.Run(b.name, func(t *testing.T) {
			e := newEnv(t, withConfig(func(c *oauthproxy.Config) { c.TokenStorage = b.open(t) }))
			c1, c2 := e.register("client_secret_basic"), e.register("none")
			before := time.Now()
			a1 := e.signIn(c1, alice)
			e.signIn(c2, alice)
			e.signIn(c1, bob)

			byAlice := grantIDs(t, e.proxy, oauthproxy.GrantFilter{Subject: "alice"}, 1)
			require.Len(t, byAlice, 2)
			byC1 := grantIDs(t, e.proxy, oauthproxy.GrantFilter{ClientID: c1.ID}, 1)
			require.Len(t, byC1, 2)
			both := grantIDs(t, e.proxy, oauthproxy.GrantFilter{Subject: "alice", ClientID: c1.ID}, 0)
			require.Len(t, both, 1)

			var g oauthproxy.GrantInfo
			for _, g = range both {
			}
			assert.Equal(t, c1.ID, g.ClientID)
			assert.Equal(t, "alice", g.Subject)
			assert.ElementsMatch(t, []string{"openid", "email"}, g.Scopes)
			assert.Equal(t, e.cfg.BaseURL+"/mcp", g.Resource)
			assert.False(t, g.CreatedAt.Before(before.Truncate(time.Second)), "created at sign-in")
			assert.True(t, g.LastRefreshAt.IsZero(), "never refreshed yet")
			assert.WithinDuration(t, time.Now().Add(30*24*time.Hour), g.ExpiresAt, time.Minute, "RefreshTokenTTL from redemption")
			assert.Contains(t, byAlice, g.ID)
			assert.Contains(t, byC1, g.ID)

			require.True(t, e.refreshes(&a1))
			g = grantIDs(t, e.proxy, oauthproxy.GrantFilter{Subject: "alice", ClientID: c1.ID}, 0)[g.ID]
			assert.False(t, g.LastRefreshAt.IsZero(), "the refresh is recorded")

			require.NoError(t, e.proxy.RevokeGrant(t.Context(), g.ID))
			assert.False(t, e.works(a1), "RevokeGrant refuses the grant's access token")
			assert.False(t, e.refreshes(&a1), "and its refresh token")
			assert.NotContains(t, grantIDs(t, e.proxy, oauthproxy.GrantFilter{Subject: "alice"}, 0), g.ID, "a revoked grant is not listed")
			require.NoError(t, e.proxy.RevokeGrant(t.Context(), g.ID), "revoking twice succeeds")
		})
	}
}
