package oauthproxy_test

import (
	"net/url"
	"testing"

	"github.com/oauthproxy-go/oauthproxy"
	"github.com/oauthproxy-go/oauthproxy/internal/pkce"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// Edges of the authorization and callback code that mutation testing found
// unpinned (docs/mutation.md). Named TestMethods_Authorize… and
// TestMethods_HandleCallback… so scripts/mutate.sh's selection for that group
// runs them.

// TestMethods_Authorize_NoScopeSendsNoScopeUpstream: a request without scope
// on a proxy that offers none sends no scope parameter upstream at all (not
// an empty one, and not one from ExtraAuthorizationParams): the upstream
// applies its own default (RFC 6749 §3.3).
func TestMethods_Authorize_NoScopeSendsNoScopeUpstream(t *testing.T) {
	d := newDirect(t, withConfig(func(c *oauthproxy.Config) {
		c.DisableConsent = true
		c.Scopes = nil
		c.ExtraAuthorizationParams = map[string]string{"scope": "extra"}
	}))
	c := d.register("none")
	req := authRequest(c, pkce.Challenge(pkce.GenerateVerifier()))
	req.Scope = ""
	res, err := d.p.Authorize(d.ctx, req)
	require.NoError(t, err)
	u, err := url.Parse(res.RedirectURL)
	require.NoError(t, err)
	_, sent := u.Query()["scope"]
	assert.False(t, sent, "scope sent upstream: %s", u.RawQuery)

	// One scope is sent as itself.
	req.Scope = "openid"
	res, err = d.p.Authorize(d.ctx, req)
	require.NoError(t, err)
	u, err = url.Parse(res.RedirectURL)
	require.NoError(t, err)
	assert.Equal(t, []string{"openid"}, u.Query()["scope"])
}
