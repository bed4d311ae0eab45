package oauthproxy_test

// The proxy's own client at the upstream: a public client (auth method
// "none" with PKCE) and extra parameters on the upstream token requests.

import (
	"net/http"
	"testing"

	"github.com/oauthproxy-go/oauthproxy"
	"github.com/oauthproxy-go/oauthproxy/oauthproxytest"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// publicUpstream registers the proxy at the fake upstream as a public client.
func publicUpstream() []envOption {
	return []envOption{
		withConfig(func(c *oauthproxy.Config) {
			c.UpstreamTokenEndpointAuthMethod = oauthproxy.AuthMethodNone
			c.UpstreamClientSecret = ""
		}),
		withIdP(func(o *oauthproxytest.Options) {
			o.AuthMethod = oauthproxytest.AuthMethodNone
			o.ClientSecret = ""
		}),
	}
}

// Through Handler: a public upstream client signs users in with S256 PKCE
// upstream, sends its client_id and no secret to the token endpoint, and
// refreshes the same way.
func TestUpstreamPublicClient_ThroughHandler(t *testing.T) {
	for _, forward := range []bool{false, true} {
		t.Run(map[bool]string{false: "proxy PKCE", true: "ForwardPKCE"}[forward], func(t *testing.T) {
			clock := newStepClock()
			e := newEnv(t, append(publicUpstream(),
				withConfig(func(c *oauthproxy.Config) { c.ForwardPKCE = forward; c.Now = clock.Now }),
				withIdP(func(o *oauthproxytest.Options) { o.Now = clock.Now; withUpstreamTTL(o) }))...)
			c := e.register("none")
			code, verifier := e.code(c)
			authz := e.idp.LastAuthorizeQuery()
			assert.Equal(t, "S256", authz.Get("code_challenge_method"))
			assert.NotEmpty(t, authz.Get("code_challenge"))

			tr := e.exchange(c, code, verifier)
			require.Equal(t, http.StatusOK, tr.Status, "%v", tr.Body)
			sent := e.idp.LastTokenRequest()
			assert.Equal(t, "none", e.idp.LastTokenAuthMethod())
			assert.Equal(t, "upstream-client", sent.Get("client_id"))
			assert.NotContains(t, sent, "client_secret")
			assert.NotEmpty(t, sent.Get("code_verifier"), "the code is bound to PKCE (RFC 7636 §4.5)")

			clock.Advance(upstreamTTL)
			ref := e.refresh(c, tr.str("refresh_token"))
			require.Equal(t, http.StatusOK, ref.Status, "%v", ref.Body)
			assert.Equal(t, 1, e.idp.Stats().Refreshes)
			sent = e.idp.LastTokenRequest()
			assert.Equal(t, "refresh_token", sent.Get("grant_type"))
			assert.Equal(t, "upstream-client", sent.Get("client_id"))
			assert.NotContains(t, sent, "client_secret")
		})
	}
}

// Directly through the methods, and through UpstreamTokenSource's refresh.
func TestUpstreamPublicClient_Direct(t *testing.T) {
	d := newDirect(t, append(publicUpstream(), withIdP(withUpstreamTTL))...)
	tr := d.tokens(d.register("none"))
	assert.Equal(t, "none", d.idp.LastTokenAuthMethod())

	d.clock.Advance(upstreamTTL)
	ts, _ := d.sourceFor(tr.AccessToken)
	sub, err := callProvider(d.ctx, ts, d.idp.UserInfoEndpoint())
	require.NoError(t, err)
	assert.Equal(t, oauthproxytest.DefaultUser.Subject, sub)
	assert.Equal(t, 1, d.idp.Stats().Refreshes)
	assert.Equal(t, "none", d.idp.LastTokenAuthMethod())
}

// ExtraTokenParams go with the code exchange and every refresh, through
// Handler and directly, and the proxy keeps its own copy of them.
func TestExtraTokenParams(t *testing.T) {
	extra := func() map[string]string {
		return map[string]string{"audience": "https://api.example.com", "resource": "https://api.example.com/v1"}
	}
	check := func(t *testing.T, idp *oauthproxytest.Server, grantType string) {
		t.Helper()
		sent := idp.LastTokenRequest()
		require.Equal(t, grantType, sent.Get("grant_type"))
		for k, v := range extra() {
			assert.Equal(t, []string{v}, sent[k], k)
		}
	}

	t.Run("through Handler", func(t *testing.T) {
		clock := newStepClock()
		var params map[string]string
		e := newEnv(t,
			withConfig(func(c *oauthproxy.Config) { params = extra(); c.ExtraTokenParams = params; c.Now = clock.Now }),
			withIdP(func(o *oauthproxytest.Options) { o.Now = clock.Now; withUpstreamTTL(o) }))
		params["audience"] = "https://evil.example.com" // after New: no effect
		c := e.register("none")
		code, verifier := e.code(c)
		check(t, e.idp, "authorization_code")
		tr := e.exchange(c, code, verifier)
		require.Equal(t, http.StatusOK, tr.Status, "%v", tr.Body)

		clock.Advance(upstreamTTL)
		ref := e.refresh(c, tr.str("refresh_token"))
		require.Equal(t, http.StatusOK, ref.Status, "%v", ref.Body)
		check(t, e.idp, "refresh_token")
	})

	t.Run("directly", func(t *testing.T) {
		d := newDirect(t, withIdP(withUpstreamTTL), withConfig(func(c *oauthproxy.Config) { c.ExtraTokenParams = extra() }))
		c := d.register("none")
		tr := d.tokens(c)
		check(t, d.idp, "authorization_code")
		d.clock.Advance(upstreamTTL)
		_, err := d.refresh(c, tr.RefreshToken)
		require.NoError(t, err)
		check(t, d.idp, "refresh_token")
	})

	t.Run("pass-through refresh", func(t *testing.T) {
		d := newDirect(t, withConfig(func(c *oauthproxy.Config) { c.ExtraTokenParams = extra(); c.DisableTokenSwap = true }))
		c := d.register("none")
		tr := d.tokens(c)
		_, err := d.refresh(c, tr.RefreshToken)
		require.NoError(t, err)
		check(t, d.idp, "refresh_token")
	})
}

func TestNew_UpstreamClientConfig(t *testing.T) {
	t.Run("public client without a secret", func(t *testing.T) {
		cfg := validConfig()
		cfg.UpstreamTokenEndpointAuthMethod, cfg.UpstreamClientSecret = oauthproxy.AuthMethodNone, ""
		p, err := oauthproxy.New(cfg)
		require.NoError(t, err)
		p.Destroy()
	})
	tests := []struct {
		name   string
		mutate func(*oauthproxy.Config)
		want   string // in the error
	}{
		{"none with a secret", func(c *oauthproxy.Config) { c.UpstreamTokenEndpointAuthMethod = oauthproxy.AuthMethodNone },
			`UpstreamClientSecret must be empty when UpstreamTokenEndpointAuthMethod is "none"`},
		{"no secret, confidential", func(c *oauthproxy.Config) { c.UpstreamClientSecret = "" },
			`UpstreamClientSecret is required (or set UpstreamTokenEndpointAuthMethod to "none"`},
		{"empty ExtraTokenParams name", func(c *oauthproxy.Config) { c.ExtraTokenParams = map[string]string{"": "x"} },
			"ExtraTokenParams has an empty parameter name"},
	}
	for _, reserved := range []string{"grant_type", "code", "redirect_uri", "code_verifier", "refresh_token", "scope",
		"client_id", "client_secret", "client_assertion", "client_assertion_type"} {
		tests = append(tests, struct {
			name   string
			mutate func(*oauthproxy.Config)
			want   string
		}{"ExtraTokenParams sets " + reserved, func(c *oauthproxy.Config) {
			c.ExtraTokenParams = map[string]string{"audience": "ok", reserved: "x"}
		}, `ExtraTokenParams may not set "` + reserved + `"`})
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := validConfig()
			tt.mutate(&cfg)
			p, err := oauthproxy.New(cfg)
			assert.Nil(t, p)
			require.Error(t, err)
			assert.Contains(t, err.Error(), tt.want)
		})
	}
}
