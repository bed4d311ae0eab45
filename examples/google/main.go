// Command google serves an MCP server (official go-sdk) behind oauthproxy,
// with "Sign in with Google":
//
//	GOOGLE_CLIENT_ID=… GOOGLE_CLIENT_SECRET=… go run ./examples/google
//
// Create an OAuth client of type "Web application" in the Google Cloud
// console (APIs & Services, Credentials) with the authorized redirect URI
// BASE_URL/oauth/callback, then point an MCP client at BASE_URL/mcp and call
// the whoami tool.
//
// Environment:
//
//	GOOGLE_CLIENT_ID, GOOGLE_CLIENT_SECRET  the OAuth client (required)
//	GOOGLE_HOSTED_DOMAIN  admit only accounts of this Workspace domain (optional)
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
		fmt.Fprintln(os.Stderr, "google:", err)
		os.Exit(2)
	}
	if err := exampleserver.Serve(cfg, addr, "google", "sign in with Google; redirect URI", whoami); err != nil {
		fmt.Fprintln(os.Stderr, "google:", err)
		os.Exit(1)
	}
}

// configFromEnv builds the proxy's Config for Google from the environment,
// and returns the address to listen on.
func configFromEnv(getenv func(string) string) (oauthproxy.Config, string, error) {
	addr, base, err := exampleserver.ListenAndBase(getenv)
	if err != nil {
		return oauthproxy.Config{}, "", err
	}
	id, secret := getenv("GOOGLE_CLIENT_ID"), getenv("GOOGLE_CLIENT_SECRET")
	if id == "" || secret == "" {
		return oauthproxy.Config{}, "", fmt.Errorf("set GOOGLE_CLIENT_ID and GOOGLE_CLIENT_SECRET to an OAuth client's "+
			"ID and secret (create a \"Web application\" client at https://console.cloud.google.com/apis/credentials "+
			"with the authorized redirect URI %s%s)", base, oauthproxy.DefaultRedirectPath)
	}
	cfg, err := providers.GoogleOptions{HostedDomain: getenv("GOOGLE_HOSTED_DOMAIN")}.Apply(oauthproxy.Config{
		BaseURL:              base,
		UpstreamClientID:     id,
		UpstreamClientSecret: secret,
	})
	return cfg, addr, err
}

// whoami is the whoami tool's answer for the caller's claims.
func whoami(c *oauthproxy.Claims) string {
	return fmt.Sprintf("Google account %v (sub %s)", c.Extra["email"], c.Subject)
}
