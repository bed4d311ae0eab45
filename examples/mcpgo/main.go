// Command mcpgo serves an MCP server written with github.com/mark3labs/mcp-go
// behind oauthproxy: MCP clients sign in with GitHub (or a stand-in provider)
// through the proxy, and the whoami tool reads the caller's claims with
// oauthproxy.ClaimsFromContext.
//
//	GITHUB_CLIENT_ID=… GITHUB_CLIENT_SECRET=… go run ./examples/mcpgo
//
// Without the GitHub variables, users sign in at a stand-in provider
// (oauthproxytest) that runs in the same process. The GitHub OAuth app's
// callback URL must be http://127.0.0.1:8080/oauth/callback.
package main

import (
	"context"
	"crypto/rand"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/oauthproxy-go/oauthproxy"
	"github.com/oauthproxy-go/oauthproxy/oauthproxytest"
)

func main() {
	addr := flag.String("addr", "127.0.0.1:8080", "loopback `address` to listen on (the proxy serves plain http)")
	flag.Parse()
	log := slog.New(slog.NewTextHandler(os.Stderr, nil))
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()

	ln, err := net.Listen("tcp", *addr)
	if err == nil {
		err = run(ctx, ln, log)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "mcpgo:", err)
		os.Exit(1)
	}
}

// run serves the proxy and the MCP server on ln until ctx ends.
func run(ctx context.Context, ln net.Listener, log *slog.Logger) error {
	cfg, closeUpstream := upstream()
	defer closeUpstream()
	cfg.BaseURL = "http://" + ln.Addr().String()
	cfg.Logger = log
	p, err := oauthproxy.New(cfg)
	if err != nil {
		return err
	}
	defer p.Destroy()

	mcpServer := newMCPServer()
	mux := http.NewServeMux()
	mux.Handle("/", p.Handler())
	mux.Handle("/mcp", p.RequireBearer(mcpServer))
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second, MaxHeaderBytes: oauthproxy.MaxHeaderBytes}

	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()
	log.Info("serving", "mcp_endpoint", cfg.BaseURL+"/mcp", "upstream", cfg.ProviderName)
	select {
	case err := <-served:
		return err
	case <-ctx.Done():
	}
	shutdownCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer cancel()
	_ = mcpServer.Shutdown(shutdownCtx) // ends the sessions' open SSE streams
	if err := srv.Shutdown(shutdownCtx); err != nil {
		_ = srv.Close()
	}
	if err := <-served; !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

// upstream returns the upstream part of the proxy's Config: GitHub when
// GITHUB_CLIENT_ID and GITHUB_CLIENT_SECRET are set, otherwise a stand-in
// provider started here, which close stops.
func upstream() (cfg oauthproxy.Config, close func()) {
	if id, secret := os.Getenv("GITHUB_CLIENT_ID"), os.Getenv("GITHUB_CLIENT_SECRET"); id != "" && secret != "" {
		return oauthproxy.Config{
			UpstreamAuthorizationEndpoint: "https://github.com/login/oauth/authorize",
			UpstreamTokenEndpoint:         "https://github.com/login/oauth/access_token",
			UpstreamUserInfoEndpoint:      "https://api.github.com/user",
			UpstreamClientID:              id,
			UpstreamClientSecret:          secret,
			Scopes:                        []string{"read:user"},
			ProviderName:                  "GitHub",
		}, func() {}
	}
	secret := rand.Text()
	idp := oauthproxytest.NewServer(oauthproxytest.Options{
		ClientID: "mcp-go-example", ClientSecret: secret, LoginPage: true, IssueIDToken: true, RequirePKCE: true,
	})
	return oauthproxy.Config{
		UpstreamAuthorizationEndpoint: idp.AuthorizationEndpoint(),
		UpstreamTokenEndpoint:         idp.TokenEndpoint(),
		UpstreamClientID:              "mcp-go-example",
		UpstreamClientSecret:          secret,
		Scopes:                        []string{"openid", "email", "profile"},
		ProviderName:                  "the stand-in provider",
	}, idp.Close
}
