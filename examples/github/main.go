// Command github serves an MCP server (official go-sdk) behind oauthproxy,
// with "Sign in with GitHub":
//
//	GITHUB_CLIENT_ID=… GITHUB_CLIENT_SECRET=… go run ./examples/github
//
// Create the OAuth app at https://github.com/settings/developers with the
// callback URL BASE_URL/oauth/callback, then point an MCP client at
// BASE_URL/mcp and call the whoami tool.
//
// Environment:
//
//	GITHUB_CLIENT_ID, GITHUB_CLIENT_SECRET  the OAuth app (required)
//	ADDR      address to listen on (default 127.0.0.1:8080)
//	BASE_URL  the server's public URL (default http://ADDR; required unless ADDR is loopback)
//
// Signing keys are generated at startup (the log warns), so tokens end with
// the process: set Config.JWTSigningKey, EncryptionKey and ConsentSigningKey
// from a secret store in production.
package main

import (
	"fmt"
	"os"

	"github.com/oauthproxy-go/oauthproxy"
	"github.com/oauthproxy-go/oauthproxy/examples/internal/exampleserver"
	"github.com/oauthproxy-go/oauthproxy/providers"
)

func main() {
	cfg, addr, err := configFromEnv(os.Getenv)
	if err != nil {
		fmt.Fprintln(os.Stderr, "github:", err)
		os.Exit(2)
	}
	if err := exampleserver.Serve(cfg, addr, "github", "sign in with GitHub; callback URL", whoami); err != nil {
		fmt.Fprintln(os.Stderr, "github:", err)
		os.Exit(1)
	}
}

// configFromEnv builds the proxy's Config for GitHub from the environment,
// and returns the address to listen on.
func configFromEnv(getenv func(string) string) (oauthproxy.Config, string, error) {
	addr, base, err := exampleserver.ListenAndBase(getenv)
	if err != nil {
		return oauthproxy.Config{}, "", err
	}
	id, secret := getenv("GITHUB_CLIENT_ID"), getenv("GITHUB_CLIENT_SECRET")
	if id == "" || secret == "" {
		return oauthproxy.Config{}, "", fmt.Errorf("set GITHUB_CLIENT_ID and GITHUB_CLIENT_SECRET to an OAuth app's "+
			"client ID and secret (create one at https://github.com/settings/developers with callback URL %s%s)",
			base, oauthproxy.DefaultRedirectPath)
	}
	cfg, err := providers.GitHub(oauthproxy.Config{
		BaseURL:              base,
		UpstreamClientID:     id,
		UpstreamClientSecret: secret,
	})
	return cfg, addr, err
}

// whoami is the whoami tool's answer for the caller's claims.
func whoami(c *oauthproxy.Claims) string {
	return fmt.Sprintf("GitHub user %v (id %s)", c.Extra["preferred_username"], c.Subject)
}
