package providers_test

import (
	"context"
	"fmt"
	"log"

	"github.com/oauthproxy-go/oauthproxy"
	"github.com/oauthproxy-go/oauthproxy/oauthproxytest"
	"github.com/oauthproxy-go/oauthproxy/providers"
)

// ExampleOIDC configures the proxy for an OpenID provider found by discovery;
// here a stand-in shaped like Okta, whose issuer has a path and which issues
// refresh tokens only for offline_access.
func ExampleOIDC() {
	idp := oauthproxytest.NewServer(oauthproxytest.Options{
		ClientID: "proxy", ClientSecret: "secret", IssueIDToken: true,
		IssuerPath: "/oauth2/default", RefreshTokenRequiresOfflineAccess: true,
	})
	defer idp.Close()

	cfg, err := providers.OIDC(context.Background(), idp.Issuer(), oauthproxy.Config{
		BaseURL:              "http://127.0.0.1:8080",
		UpstreamClientID:     "proxy",
		UpstreamClientSecret: "secret",
		Scopes:               []string{"openid", "profile", "email", "offline_access"},
	})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(cfg.UpstreamTokenEndpoint == idp.URL()+"/oauth2/default/token")
	fmt.Println(cfg.UpstreamTokenEndpointAuthMethod)
	fmt.Println(cfg.Scopes)
	// Output:
	// true
	// client_secret_basic
	// [openid profile email offline_access]
}

// ExampleGitHub configures the proxy for github.com. Nothing is fetched until
// a user signs in.
func ExampleGitHub() {
	cfg, err := providers.GitHub(oauthproxy.Config{
		BaseURL:              "https://mcp.example.com",
		UpstreamClientID:     "Iv1.0123456789abcdef",
		UpstreamClientSecret: "secret",
	})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(cfg.UpstreamAuthorizationEndpoint)
	fmt.Println(cfg.UpstreamTokenEndpoint)
	fmt.Println(cfg.Scopes)
	// Output:
	// https://github.com/login/oauth/authorize
	// https://github.com/login/oauth/access_token
	// [read:user user:email]
}

// ExampleEntra admits work and school accounts of two tenants only.
func ExampleEntra() {
	cfg, err := providers.EntraOptions{
		Tenant:         providers.EntraOrganizations,
		AllowedTenants: []string{"72f988bf-86f1-41af-91ab-2d7cd011db47", "0b0a9e6c-3f1d-4d4e-9a57-6c1f0e2b7d11"},
	}.Apply(oauthproxy.Config{
		BaseURL:              "https://mcp.example.com",
		UpstreamClientID:     "00000000-0000-0000-0000-000000000001",
		UpstreamClientSecret: "secret",
	})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(cfg.UpstreamAuthorizationEndpoint)
	fmt.Println(cfg.Scopes)
	// Output:
	// https://login.microsoftonline.com/organizations/oauth2/v2.0/authorize
	// [openid profile email offline_access]
}
