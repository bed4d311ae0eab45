package providers_test

import (
	"context"
	"testing"

	"github.com/oauthproxy-go/oauthproxy"
	"github.com/oauthproxy-go/oauthproxy/oauthproxytest"
	"github.com/oauthproxy-go/oauthproxy/providers"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestGoogleDefaults(t *testing.T) {
	cfg, err := providers.Google(baseConfig())
	require.NoError(t, err)
	assert.Equal(t, "https://accounts.google.com/o/oauth2/v2/auth", cfg.UpstreamAuthorizationEndpoint)
	assert.Equal(t, "https://oauth2.googleapis.com/token", cfg.UpstreamTokenEndpoint)
	assert.Equal(t, "https://openidconnect.googleapis.com/v1/userinfo", cfg.UpstreamUserInfoEndpoint)
	assert.Equal(t, "https://oauth2.googleapis.com/revoke", cfg.UpstreamRevocationEndpoint)
	assert.Equal(t, map[string]string{"access_type": "offline", "prompt": "consent"}, cfg.ExtraAuthorizationParams)
	assert.Equal(t, []string{"openid", "profile", "email"}, cfg.Scopes)
	assert.Equal(t, "Google", cfg.ProviderName)
	assert.Equal(t, oauthproxy.AuthMethodClientSecretBasic, cfg.UpstreamTokenEndpointAuthMethod)
	assert.NotNil(t, cfg.ClaimsExtractor)

	base := baseConfig()
	mine := map[string]string{"prompt": "select_account consent", "login_hint": "a@example.com"}
	base.ExtraAuthorizationParams = mine
	cfg, err = providers.GoogleOptions{HostedDomain: "example.com"}.Apply(base)
	require.NoError(t, err)
	assert.Equal(t, map[string]string{
		"access_type": "offline", "prompt": "select_account consent", "login_hint": "a@example.com", "hd": "example.com",
	}, cfg.ExtraAuthorizationParams, "the caller's parameters win")
	assert.Len(t, mine, 2, "the caller's map is not changed")

	_, err = providers.Google(oauthproxy.Config{})
	require.ErrorContains(t, err, "UpstreamClientID")
}

// googleFake is a fake with Google's refresh token rules.
func googleFake(t *testing.T, opts oauthproxytest.Options) (*oauthproxytest.Server, *providers.Metadata) {
	t.Helper()
	opts.IssueIDToken, opts.RequirePKCE, opts.GoogleOfflineAccess = true, true, true
	idp := newIdP(t, opts)
	m, err := providers.Discover(context.Background(), idp.Issuer(), nil)
	require.NoError(t, err)
	return idp, m
}

// TestGoogleRefreshTokenOnEveryLogin: Google sends a refresh token only for
// access_type=offline, and to a returning user only with prompt=consent. The
// preset asks for both, so every grant can be refreshed; the control shows
// what a returning user would get without prompt=consent.
func TestGoogleRefreshTokenOnEveryLogin(t *testing.T) {
	idp, m := googleFake(t, oauthproxytest.Options{})
	cfg, err := providers.GoogleOptions{Metadata: m}.Apply(baseConfig())
	require.NoError(t, err)
	px := startProxy(t, cfg)
	c := px.register()
	for i := range 2 {
		tok := px.login(c, "")
		assert.NotEmpty(t, px.upstream(tok.AccessToken).RefreshToken, "login %d", i+1)
		assert.Equal(t, oauthproxytest.DefaultUser.Email, px.claims(tok.AccessToken).Extra["email"])
	}
	q := idp.LastAuthorizeQuery()
	assert.Equal(t, "offline", q.Get("access_type"))
	assert.Equal(t, "consent", q.Get("prompt"))

	t.Run("control: without prompt=consent", func(t *testing.T) {
		_, m := googleFake(t, oauthproxytest.Options{})
		base := baseConfig()
		base.ExtraAuthorizationParams = map[string]string{"prompt": "select_account"}
		cfg, err := providers.GoogleOptions{Metadata: m}.Apply(base)
		require.NoError(t, err)
		px := startProxy(t, cfg)
		c := px.register()
		assert.NotEmpty(t, px.upstream(px.login(c, "").AccessToken).RefreshToken, "first consent")
		assert.Empty(t, px.upstream(px.login(c, "").AccessToken).RefreshToken, "returning user")
	})
}

// TestGoogleHostedDomain: the hd parameter only steers the account chooser;
// the id_token's hd claim is what admits a user.
func TestGoogleHostedDomain(t *testing.T) {
	for _, tc := range []struct {
		name  string
		hd    any // the id_token's hd claim; nil for none (a consumer account)
		admit bool
	}{
		{"same domain", "example.com", true},
		{"other domain", "example.org", false},
		{"consumer account", nil, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			idp, m := googleFake(t, oauthproxytest.Options{IDTokenClaims: map[string]any{"hd": tc.hd}})
			cfg, err := providers.GoogleOptions{Metadata: m, HostedDomain: "example.com"}.Apply(baseConfig())
			require.NoError(t, err)
			px := startProxy(t, cfg)
			c := px.register()
			if tc.admit {
				tok := px.login(c, "")
				assert.Equal(t, oauthproxytest.DefaultUser.Subject, px.claims(tok.AccessToken).Subject)
			} else {
				px.loginFails(c, oauthproxy.ErrCodeServerError)
			}
			assert.Equal(t, "example.com", idp.LastAuthorizeQuery().Get("hd"))
		})
	}
}
