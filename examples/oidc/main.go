// Command oidc serves an MCP server (official go-sdk) behind oauthproxy, with
// sign-in at any OpenID Connect provider found by discovery: Auth0, Okta,
// Keycloak, a single-tenant Entra ID, …
//
//	OIDC_ISSUER=https://dev-123.okta.com/oauth2/default OIDC_CLIENT_ID=… OIDC_CLIENT_SECRET=… go run ./examples/oidc
//
// Register a confidential web client at the provider with the redirect URI
// BASE_URL/oauth/callback, then point an MCP client at BASE_URL/mcp and call
// the whoami tool.
//
// Environment:
//
//	OIDC_ISSUER         the issuer URL; ISSUER/.well-known/openid-configuration is read at startup (required)
//	OIDC_CLIENT_ID, OIDC_CLIENT_SECRET  the client registered at the provider (required)
//	OIDC_SCOPES         space-separated scopes (default openid profile email; add
//	                    offline_access where the provider wants it for refresh tokens)
//	ADDR      address to listen on (default 127.0.0.1:8080)
//	BASE_URL  the server's public URL (default http://ADDR; required unless ADDR is loopback)
//
// Signing keys are generated at startup (the log warns), so tokens end with
// the process: set Config.JWTSigningKey, EncryptionKey and ConsentSigningKey
// from a secret store in production.
package main

import (
	"context"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/oauthproxy-go/oauthproxy"
	"github.com/oauthproxy-go/oauthproxy/examples/internal/exampleserver"
	"github.com/oauthproxy-go/oauthproxy/providers"
)

func main() {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	cfg, addr, err := configFromEnv(ctx, os.Getenv)
	cancel()
	if err != nil {
		fmt.Fprintln(os.Stderr, "oidc:", err)
		os.Exit(2)
	}
	if err := exampleserver.Serve(cfg, addr, "oidc", "sign in at "+cfg.UpstreamAuthorizationEndpoint+"; redirect URI", whoami); err != nil {
		fmt.Fprintln(os.Stderr, "oidc:", err)
		os.Exit(1)
	}
}

// configFromEnv builds the proxy's Config for the OpenID provider named by
// the environment, by discovery, and returns the address to listen on.
func configFromEnv(ctx context.Context, getenv func(string) string) (oauthproxy.Config, string, error) {
	var missing []string
	for _, name := range []string{"OIDC_ISSUER", "OIDC_CLIENT_ID", "OIDC_CLIENT_SECRET"} {
		if getenv(name) == "" {
			missing = append(missing, name)
		}
	}
	addr, base, err := exampleserver.ListenAndBase(getenv)
	if err != nil {
		return oauthproxy.Config{}, "", err
	}
	if len(missing) > 0 {
		return oauthproxy.Config{}, "", fmt.Errorf("set %s: the provider's issuer URL and a client registered there "+
			"with the redirect URI %s%s", strings.Join(missing, ", "), base, oauthproxy.DefaultRedirectPath)
	}
	cfg, err := providers.OIDC(ctx, getenv("OIDC_ISSUER"), oauthproxy.Config{
		BaseURL:              base,
		UpstreamClientID:     getenv("OIDC_CLIENT_ID"),
		UpstreamClientSecret: getenv("OIDC_CLIENT_SECRET"),
		Scopes:               strings.Fields(getenv("OIDC_SCOPES")), // none: the preset's default
	})
	return cfg, addr, err
}

// whoami is the whoami tool's answer for the caller's claims.
func whoami(c *oauthproxy.Claims) string {
	return fmt.Sprintf("%v <%v> (sub %s)", c.Extra["name"], c.Extra["email"], c.Subject)
}
