package oauthproxy_test

import (
	"net/http"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/oauthproxy-go/oauthproxy"
)

// Two replicas on one Redis: a user signed out on A is refused by B at its
// next bearer check and refresh, and B lists and revokes what A issued.
func TestReplicas_AdminRevocationOnAIsSeenByB(t *testing.T) {
	d := twoReplicas(t)
	d.use("A")
	c := d.register("client_secret_basic")
	s := d.signIn(c, alice)
	other := d.signIn(c, bob)

	d.use("B")
	require.True(t, d.works(s), "B accepts A's token before the revocation")
	grants := grantIDs(t, d.replica("B"), oauthproxy.GrantFilter{Subject: "alice"}, 0)
	require.Len(t, grants, 1, "B lists the grant A made")

	n, err := d.replica("A").RevokeSubject(t.Context(), "alice")
	require.NoError(t, err)
	require.Equal(t, 1, n)

	resp, _ := d.callMCP(s.access)
	assert.Equal(t, http.StatusUnauthorized, resp.StatusCode, "B refuses at its next bearer check")
	assert.False(t, d.refreshes(&s), "B refuses the refresh token")
	assert.True(t, d.works(other), "bob is still signed in on B")

	require.NoError(t, d.replica("B").DeleteClient(t.Context(), c.ID))
	d.use("A")
	assert.False(t, d.works(other), "A refuses a grant of the client B deleted")
	_, err = d.replica("A").GetClient(t.Context(), c.ID)
	requireAdminError(t, err, oauthproxy.ErrCodeInvalidClient, 404)
}

// In pass-through mode the proxy keeps no grant after the token response, yet
// RevokeSubject still refuses the upstream token it handed out.
func TestAdmin_RevokeSubjectInPassThroughMode(t *testing.T) {
	e := newEnv(t, withConfig(func(c *oauthproxy.Config) { c.DisableTokenSwap = true }))
	c := e.register("none")
	s := e.signIn(c, alice)
	require.True(t, e.works(s))
	n, err := e.proxy.RevokeSubject(t.Context(), "alice")
	require.NoError(t, err)
	assert.Equal(t, 1, n)
	assert.False(t, e.works(s), "the upstream token is refused at the bearer check")
	assert.False(t, e.refreshes(&s), "and its refresh token at the proxy")
}
