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
	"context"
	"errors"
	"fmt"
	"log"
	"net"
	"net/http"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/modelcontextprotocol/go-sdk/auth"
	"github.com/modelcontextprotocol/go-sdk/mcp"
	"github.com/oauthproxy-go/oauthproxy"
	"github.com/oauthproxy-go/oauthproxy/mcpauth"
	"github.com/oauthproxy-go/oauthproxy/providers"
)

func main() {
	cfg, addr, err := configFromEnv(os.Getenv)
	if err != nil {
		fmt.Fprintln(os.Stderr, "github:", err)
		os.Exit(2)
	}
	if err := serve(cfg, addr); err != nil {
		fmt.Fprintln(os.Stderr, "github:", err)
		os.Exit(1)
	}
}

// configFromEnv builds the proxy's Config for GitHub from the environment,
// and returns the address to listen on.
func configFromEnv(getenv func(string) string) (oauthproxy.Config, string, error) {
	addr, base, err := listenAndBase(getenv)
	if err != nil {
		return oauthproxy.Config{}, "", err
	}
	id, secret := getenv("GITHUB_CLIENT_ID"), getenv("GITHUB_CLIENT_SECRET")
	if id == "" || secret == "" {
		return oauthproxy.Config{}, "", fmt.Errorf("set GITHUB_CLIENT_ID and GITHUB_CLIENT_SECRET to an OAuth app's "+
			"client ID and secret (create one at https://github.com/settings/developers with callback URL %s%s)",
			base, oauthproxy.DefaultRedirectPath)
	}
	return providers.GitHub(oauthproxy.Config{
		BaseURL:              base,
		UpstreamClientID:     id,
		UpstreamClientSecret: secret,
	}), addr, nil
}

// listenAndBase reads ADDR and BASE_URL. Without BASE_URL the server must
// listen on loopback, the one place OAuth allows plain http.
func listenAndBase(getenv func(string) string) (addr, base string, err error) {
	addr = getenv("ADDR")
	if addr == "" {
		addr = "127.0.0.1:8080"
	}
	base = strings.TrimRight(getenv("BASE_URL"), "/")
	if base != "" {
		return addr, base, nil
	}
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return "", "", fmt.Errorf("ADDR %q: %w", addr, err)
	}
	if ip := net.ParseIP(host); host != "localhost" && (ip == nil || !ip.IsLoopback()) {
		return "", "", fmt.Errorf("set BASE_URL to this server's public https URL (ADDR %q is not a loopback address)", addr)
	}
	return addr, "http://" + addr, nil
}

// serve runs the proxy and the MCP server until SIGINT or SIGTERM.
func serve(cfg oauthproxy.Config, addr string) error {
	p, err := oauthproxy.New(cfg)
	if err != nil {
		return err
	}
	defer p.Destroy()
	mux := http.NewServeMux()
	mux.Handle("/", p.Handler()) // metadata, register, authorize, consent, callback, token
	mux.Handle("/mcp", mcpHandler(p))
	srv := &http.Server{Addr: addr, Handler: mux, ReadHeaderTimeout: 10 * time.Second}

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	go func() {
		<-ctx.Done()
		shutdownCtx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = srv.Shutdown(shutdownCtx)
	}()
	log.Printf("MCP endpoint: %s/mcp (sign in with GitHub; callback URL %s%s)", cfg.BaseURL, cfg.BaseURL, oauthproxy.DefaultRedirectPath)
	if err := srv.ListenAndServe(); !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

// mcpHandler is a go-sdk MCP server with a whoami tool, behind the proxy's
// bearer check.
func mcpHandler(p *oauthproxy.Proxy) http.Handler {
	server := mcp.NewServer(&mcp.Implementation{Name: "oauthproxy-github-example", Version: "1.0.0"}, nil)
	mcp.AddTool(server, &mcp.Tool{Name: "whoami", Description: "Who you are signed in as"},
		func(_ context.Context, req *mcp.CallToolRequest, _ struct{}) (*mcp.CallToolResult, any, error) {
			c, ok := mcpauth.ClaimsFromRequest(req) // the claims of the token that carried this call
			if !ok {
				return nil, nil, errors.New("not signed in")
			}
			text := fmt.Sprintf("GitHub user %v (id %s)", c.Extra["preferred_username"], c.Subject)
			return &mcp.CallToolResult{Content: []mcp.Content{&mcp.TextContent{Text: text}}}, nil, nil
		})
	streamable := mcp.NewStreamableHTTPHandler(func(*http.Request) *mcp.Server { return server }, nil)
	return p.RequireBearer(auth.RequireBearerToken(mcpauth.TokenVerifier(p), nil)(streamable))
}
