package oauthproxy_test

// The metadata documents returned by the methods of *Proxy.

import (
	"net/url"
	"strings"
	"testing"

	"github.com/oauthproxy-go/oauthproxy"
	"github.com/oauthproxy-go/oauthproxy/internal/pkce"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// ---------------------------------------------------------------------------
// Metadata

func TestMethods_GetAuthorizationServerMetadata(t *testing.T) {
	for _, base := range []string{directBaseURL, directBaseURL + "/", "https://mcp.example.com", "https://example.com/tenant/a"} {
		t.Run(base, func(t *testing.T) {
			p, err := oauthproxy.New(oauthproxy.Config{
				BaseURL:                       base,
				UpstreamAuthorizationEndpoint: "https://idp.example.com/authorize",
				UpstreamTokenEndpoint:         "https://idp.example.com/token",
				UpstreamClientID:              "id",
				UpstreamClientSecret:          "secret",
				Scopes:                        []string{"read:user"},
				JWTSigningKey:                 testJWTKey,
				EncryptionKey:                 testEncKey,
				ConsentSigningKey:             testConsentKey,
				Logger:                        discardLogger(),
			})
			require.NoError(t, err)
			defer p.Destroy()
			issuer := strings.TrimRight(base, "/")
			md := p.GetAuthorizationServerMetadata()
			assert.Equal(t, issuer, md.Issuer)
			assert.Equal(t, issuer+"/oauth/authorize", md.AuthorizationEndpoint)
			assert.Equal(t, issuer+"/oauth/token", md.TokenEndpoint)
			assert.Equal(t, issuer+"/oauth/register", md.RegistrationEndpoint)
			assert.Equal(t, []string{"S256"}, md.CodeChallengeMethodsSupported, "S256 only (S02)")
			assert.Contains(t, md.TokenEndpointAuthMethodsSupported, "none", "public clients")
			assert.Contains(t, md.TokenEndpointAuthMethodsSupported, "client_secret_basic")
			assert.Contains(t, md.TokenEndpointAuthMethodsSupported, "client_secret_post")
			assert.True(t, md.AuthorizationResponseIssParameterSupported, "RFC 9207 (S12)")
			assert.Equal(t, []string{"code"}, md.ResponseTypesSupported)
			assert.ElementsMatch(t, []string{"authorization_code", "refresh_token"}, md.GrantTypesSupported)
			assert.Equal(t, []string{"read:user"}, md.ScopesSupported)
			assert.NotContains(t, md.GrantTypesSupported, "implicit")
			assert.NotContains(t, md.GrantTypesSupported, "password")
		})
	}
}

func TestMethods_GetProtectedResourceMetadata(t *testing.T) {
	tests := []struct {
		name, resource, want, metadataURL string
	}{
		{"default", "", directBaseURL + "/mcp", directBaseURL + "/.well-known/oauth-protected-resource/mcp"},
		{"custom on another host", "https://api.example.com/v1/mcp", "https://api.example.com/v1/mcp",
			"https://api.example.com/.well-known/oauth-protected-resource/v1/mcp"},
		{"custom with trailing slash kept", directBaseURL + "/mcp/", directBaseURL + "/mcp/",
			directBaseURL + "/.well-known/oauth-protected-resource/mcp"},
		{"custom origin only", "https://api.example.com", "https://api.example.com",
			"https://api.example.com/.well-known/oauth-protected-resource"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := newDirect(t, withConfig(func(c *oauthproxy.Config) { c.Resource = tt.resource }))
			md := d.p.GetProtectedResourceMetadata()
			assert.Equal(t, tt.want, md.Resource, "exactly Config.Resource (RFC 9728 §3.3)")
			assert.Equal(t, []string{directBaseURL}, md.AuthorizationServers)
			assert.Equal(t, []string{"header"}, md.BearerMethodsSupported)
			assert.Equal(t, []string{"openid", "email", "profile"}, md.ScopesSupported)
			assert.Equal(t, tt.metadataURL, d.p.ProtectedResourceMetadataURL())

			// Tokens are issued for it and accepted only for it.
			c := d.register("none")
			code, verifier := d.login(c)
			req := codeRequest(c, code, verifier)
			req.Resource = tt.want
			tok, err := d.p.ExchangeAuthorizationCode(d.ctx, req)
			require.NoError(t, err)
			claims, err := d.p.VerifyAccessToken(d.ctx, tok.AccessToken)
			require.NoError(t, err)
			assert.Equal(t, tt.want, claims.Audience)
		})
	}
}

func TestMethods_MetadataIsACopy(t *testing.T) {
	// Callers may modify what the getters return (e.g. to add fields before
	// serving it themselves); that must not change what the proxy grants.
	d := newDirect(t, withConfig(func(c *oauthproxy.Config) { c.DisableConsent = true }))
	as := d.p.GetAuthorizationServerMetadata()
	as.ScopesSupported[0] = "admin"
	pr := d.p.GetProtectedResourceMetadata()
	pr.ScopesSupported[1] = "root"

	assert.Equal(t, []string{"openid", "email", "profile"}, d.p.GetAuthorizationServerMetadata().ScopesSupported)
	assert.Equal(t, []string{"openid", "email", "profile"}, d.p.GetProtectedResourceMetadata().ScopesSupported)
	c := d.register("none")
	req := authRequest(c, pkce.Challenge(pkce.GenerateVerifier()))
	req.Scope = "" // the configured default set
	res, err := d.p.Authorize(d.ctx, req)
	require.NoError(t, err)
	u, err := url.Parse(res.RedirectURL)
	require.NoError(t, err)
	assert.Equal(t, "openid email profile", u.Query().Get("scope"), "no scope outside Config.Scopes is requested")
}
