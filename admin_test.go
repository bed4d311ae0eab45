package oauthproxy_test

import (
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/oauthproxy-go/oauthproxy"
	"github.com/oauthproxy-go/oauthproxy/storage"
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

// DeleteClient removes the client and revokes its grants: its tokens stop
// working, other clients' grants of the same user stay.
func TestAdmin_DeleteClient(t *testing.T) {
	e := newEnv(t)
	c1, c2 := e.register("client_secret_basic"), e.register("none")
	a1, a2 := e.signIn(c1, alice), e.signIn(c2, alice)
	b1 := e.signIn(c1, bob)

	info, err := e.proxy.GetClient(t.Context(), c1.ID)
	require.NoError(t, err)
	assert.Equal(t, c1.ID, info.ClientID)
	assert.Equal(t, "client_secret_basic", info.TokenEndpointAuthMethod)
	assert.Equal(t, []string{clientRedirect}, info.RedirectURIs)

	require.NoError(t, e.proxy.DeleteClient(t.Context(), c1.ID))
	assert.False(t, e.works(a1), "alice's access token at the deleted client")
	assert.False(t, e.works(b1), "bob's access token at the deleted client")
	tok := e.refresh(c1, a1.refresh)
	assert.Equal(t, oauthproxy.ErrCodeInvalidClient, tok.str("error"), "the deleted client cannot refresh")
	assert.True(t, e.works(a2) && e.refreshes(&a2), "alice's session at the other client stays")

	_, err = e.proxy.GetClient(t.Context(), c1.ID)
	requireAdminError(t, err, oauthproxy.ErrCodeInvalidClient, 404)
	assert.Empty(t, grantIDs(t, e.proxy, oauthproxy.GrantFilter{ClientID: c1.ID}, 0))
	list, err := e.proxy.ListClients(t.Context(), oauthproxy.Page{})
	require.NoError(t, err)
	require.Len(t, list.Clients, 1)
	assert.Equal(t, c2.ID, list.Clients[0].ClientID)
	requireAdminError(t, e.proxy.DeleteClient(t.Context(), c1.ID), oauthproxy.ErrCodeInvalidClient, 404)
}

// ListClients pages through every registered client.
func TestAdmin_ListClientsPages(t *testing.T) {
	e := newEnv(t)
	want := map[string]bool{}
	for range 5 {
		want[e.register("none").ID] = true
	}
	got := map[string]bool{}
	page := oauthproxy.Page{Size: 2}
	for pages := 1; ; pages++ {
		require.LessOrEqual(t, pages, 3, "5 clients at 2 a page")
		list, err := e.proxy.ListClients(t.Context(), page)
		require.NoError(t, err)
		require.LessOrEqual(t, len(list.Clients), 2)
		for _, c := range list.Clients {
			got[c.ClientID] = true
		}
		if list.NextCursor == "" {
			break
		}
		page.Cursor = list.NextCursor
	}
	assert.Equal(t, want, got)
}

// Bad input gets a clear *Error and leaves storage untouched.
func TestAdmin_BadInputChangesNothing(t *testing.T) {
	mem := storage.NewMemory()
	e := newEnv(t, withConfig(func(c *oauthproxy.Config) { c.TokenStorage = mem }))
	c := e.register("none")
	s := e.signIn(c, alice)
	before := mem.Len()
	ctx := t.Context()

	_, err := e.proxy.GetClient(ctx, "no-such-client")
	requireAdminError(t, err, oauthproxy.ErrCodeInvalidClient, 404)
	requireAdminError(t, e.proxy.DeleteClient(ctx, "no-such-client"), oauthproxy.ErrCodeInvalidClient, 404)
	_, err = e.proxy.GetClient(ctx, "")
	requireAdminError(t, err, oauthproxy.ErrCodeInvalidRequest, 400)
	requireAdminError(t, e.proxy.DeleteClient(ctx, ""), oauthproxy.ErrCodeInvalidRequest, 400)
	_, err = e.proxy.RevokeSubject(ctx, "")
	requireAdminError(t, err, oauthproxy.ErrCodeInvalidRequest, 400)
	requireAdminError(t, e.proxy.RevokeGrant(ctx, ""), oauthproxy.ErrCodeInvalidRequest, 400)
	requireAdminError(t, e.proxy.RevokeGrant(ctx, "no-such-grant"), oauthproxy.ErrCodeInvalidGrant, 404)
	_, err = e.proxy.ListGrants(ctx, oauthproxy.GrantFilter{}, oauthproxy.Page{})
	requireAdminError(t, err, oauthproxy.ErrCodeInvalidRequest, 400)
	_, err = e.proxy.ListGrants(ctx, oauthproxy.GrantFilter{Subject: "alice"}, oauthproxy.Page{Size: -1})
	requireAdminError(t, err, oauthproxy.ErrCodeInvalidRequest, 400)
	_, err = e.proxy.ListClients(ctx, oauthproxy.Page{Cursor: strings.Repeat("x", 2000)})
	requireAdminError(t, err, oauthproxy.ErrCodeInvalidRequest, 400)

	assert.Equal(t, before, mem.Len(), "no entry added or removed")
	assert.True(t, e.works(s), "the session is untouched")
	n, err := e.proxy.RevokeSubject(ctx, "someone-else")
	require.NoError(t, err, "a user without grants is not an error")
	assert.Zero(t, n)
	assert.True(t, e.works(s))
}
