package providers_test

import (
	"testing"

	"github.com/oauthproxy-go/oauthproxy"
	"github.com/oauthproxy-go/oauthproxy/oauthproxytest"
	"github.com/oauthproxy-go/oauthproxy/providers"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// otherTenant is a tenant the fake's user is not in.
const otherTenant = "0b0a9e6c-3f1d-4d4e-9a57-6c1f0e2b7d11"

func TestEntraDefaults(t *testing.T) {
	cfg, err := providers.Entra(providers.EntraOrganizations, baseConfig())
	require.NoError(t, err)
	assert.Equal(t, "https://login.microsoftonline.com/organizations/oauth2/v2.0/authorize", cfg.UpstreamAuthorizationEndpoint)
	assert.Equal(t, "https://login.microsoftonline.com/organizations/oauth2/v2.0/token", cfg.UpstreamTokenEndpoint)
	assert.Equal(t, []string{"openid", "profile", "email", "offline_access"}, cfg.Scopes)
	assert.Equal(t, oauthproxy.AuthMethodClientSecretPost, cfg.UpstreamTokenEndpointAuthMethod)
	assert.Equal(t, "Microsoft", cfg.ProviderName)
	assert.Equal(t, append(append([]string{}, oauthproxy.DefaultPassthroughClaims...), "tid", "oid"), cfg.PassthroughClaims)
	assert.NotNil(t, cfg.ClaimsExtractor)

	gov, err := providers.EntraOptions{Tenant: testTenant, Authority: "https://login.microsoftonline.us"}.Apply(baseConfig())
	require.NoError(t, err)
	assert.Equal(t, "https://login.microsoftonline.us/"+testTenant+"/oauth2/v2.0/token", gov.UpstreamTokenEndpoint)

	for _, bad := range []providers.EntraOptions{
		{},
		{Tenant: "a/b"},
		{Tenant: ".."},
		{Tenant: "common", Authority: "http://login.example.com"},
		{Tenant: "common", AllowedTenants: []string{"contoso.com"}},
	} {
		_, err := bad.Apply(baseConfig())
		assert.Error(t, err, "%+v", bad)
	}
}

// entraFake is a fake with Entra's endpoints, tenant-dependent issuer,
// client_secret_post and refresh tokens only for offline_access.
func entraFake(t *testing.T, claims map[string]any) *oauthproxytest.Server {
	return newIdP(t, oauthproxytest.Options{
		EntraTenantID: testTenant, AuthMethod: oauthproxytest.AuthMethodPost,
		RefreshTokenRequiresOfflineAccess: true, IssueIDToken: true, RequirePKCE: true,
		IDTokenClaims: claims,
	})
}

func TestEntraLogin(t *testing.T) {
	for _, tenant := range []string{testTenant, providers.EntraCommon, providers.EntraOrganizations, "contoso.onmicrosoft.com"} {
		t.Run(tenant, func(t *testing.T) {
			idp := entraFake(t, nil)
			cfg, err := providers.EntraOptions{Tenant: tenant, Authority: idp.URL()}.Apply(baseConfig())
			require.NoError(t, err)
			px := startProxy(t, cfg)
			tok := px.login(px.register(), "")

			c := px.claims(tok.AccessToken)
			assert.Equal(t, oauthproxytest.DefaultUser.Subject, c.Subject)
			assert.Equal(t, testTenant, c.Extra["tid"])
			assert.Equal(t, "oid-"+oauthproxytest.DefaultUser.Subject, c.Extra["oid"])
			assert.Equal(t, oauthproxytest.DefaultUser.Email, c.Extra["email"])
			assert.Equal(t, false, c.Extra["email_verified"], "Entra does not verify email")
			assert.NotEmpty(t, px.upstream(tok.AccessToken).RefreshToken, "offline_access was requested")
			assert.Equal(t, oauthproxytest.AuthMethodPost, idp.LastTokenAuthMethod())
		})
	}
}

func TestEntraEmailVerifiedByDomainOwner(t *testing.T) {
	idp := entraFake(t, map[string]any{"xms_edov": true})
	cfg, err := providers.EntraOptions{Tenant: testTenant, Authority: idp.URL()}.Apply(baseConfig())
	require.NoError(t, err)
	px := startProxy(t, cfg)
	assert.Equal(t, true, px.claims(px.login(px.register(), "").AccessToken).Extra["email_verified"])
}

// TestEntraRejectsOtherTenants: the issuer is checked against the tenant, or
// against the {tenantid} template with the token's own tid, and
// AllowedTenants narrows the multi-tenant values.
func TestEntraRejectsOtherTenants(t *testing.T) {
	for _, tc := range []struct {
		name   string
		opts   providers.EntraOptions
		claims map[string]any
	}{
		// The user's tenant is not the configured one.
		{name: "other tenant", opts: providers.EntraOptions{Tenant: otherTenant}},
		// A tid that does not match the issuer it came with.
		{name: "tid and issuer disagree", opts: providers.EntraOptions{Tenant: providers.EntraCommon},
			claims: map[string]any{"tid": otherTenant}},
		{name: "no tid", opts: providers.EntraOptions{Tenant: providers.EntraCommon}, claims: map[string]any{"tid": nil}},
		{name: "tid not a tenant id", opts: providers.EntraOptions{Tenant: providers.EntraCommon},
			claims: map[string]any{"tid": "../evil"}},
		{name: "not in AllowedTenants", opts: providers.EntraOptions{Tenant: providers.EntraOrganizations, AllowedTenants: []string{otherTenant}}},
		// Personal accounts have one tenant of their own.
		{name: "consumers", opts: providers.EntraOptions{Tenant: providers.EntraConsumers}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			idp := entraFake(t, tc.claims)
			tc.opts.Authority = idp.URL()
			cfg, err := tc.opts.Apply(baseConfig())
			require.NoError(t, err)
			px := startProxy(t, cfg)
			px.loginFails(px.register(), oauthproxy.ErrCodeServerError)
		})
	}
	t.Run("control: in AllowedTenants", func(t *testing.T) {
		idp := entraFake(t, nil)
		cfg, err := providers.EntraOptions{Tenant: providers.EntraCommon, Authority: idp.URL(),
			AllowedTenants: []string{otherTenant, testTenant}}.Apply(baseConfig())
		require.NoError(t, err)
		px := startProxy(t, cfg)
		px.login(px.register(), "")
	})
}
