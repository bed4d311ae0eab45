// Package exampleserver is the part the github, google and oidc examples
// share: where to listen, and an MCP server (official go-sdk) with a whoami
// tool behind oauthproxy.
package exampleserver

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
)

// ListenAndBase reads ADDR and BASE_URL. Without BASE_URL the server must
// listen on loopback, the one place OAuth allows plain http.
func ListenAndBase(getenv func(string) string) (addr, base string, err error) {
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

// Serve runs the proxy and the MCP server until SIGINT or SIGTERM. name is
// the example's ("github"), signIn how the log line tells where to sign in and
// what the callback is called ("sign in with GitHub; callback URL"), and
// whoami the whoami tool's answer for the caller's claims.
func Serve(cfg oauthproxy.Config, addr, name, signIn string, whoami func(*oauthproxy.Claims) string) error {
	p, err := oauthproxy.New(cfg)
	if err != nil {
		return err
	}
	defer p.Destroy()
	mux := http.NewServeMux()
	mux.Handle("/", p.Handler()) // metadata, register, authorize, consent, callback, token
	mux.Handle("/mcp", MCPHandler(p, name, whoami))
	srv := &http.Server{Addr: addr, Handler: mux, ReadHeaderTimeout: 10 * time.Second, MaxHeaderBytes: oauthproxy.MaxHeaderBytes}

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	go func() {
		<-ctx.Done()
		shutdownCtx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = srv.Shutdown(shutdownCtx)
	}()
	log.Printf("MCP endpoint: %s/mcp (%s %s%s)", cfg.BaseURL, signIn, cfg.BaseURL, oauthproxy.DefaultRedirectPath)
	if err := srv.ListenAndServe(); !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

// MCPHandler is a go-sdk MCP server named oauthproxy-NAME-example with a
// whoami tool, behind the proxy's bearer check.
func MCPHandler(p *oauthproxy.Proxy, name string, whoami func(*oauthproxy.Claims) string) http.Handler {
	server := mcp.NewServer(&mcp.Implementation{Name: "oauthproxy-" + name + "-example", Version: "1.0.0"}, nil)
	mcp.AddTool(server, &mcp.Tool{Name: "whoami", Description: "Who you are signed in as"},
		func(_ context.Context, req *mcp.CallToolRequest, _ struct{}) (*mcp.CallToolResult, any, error) {
			c, ok := mcpauth.ClaimsFromRequest(req) // the claims of the token that carried this call
			if !ok {
				return nil, nil, errors.New("not signed in")
			}
			return &mcp.CallToolResult{Content: []mcp.Content{&mcp.TextContent{Text: whoami(c)}}}, nil, nil
		})
	streamable := mcp.NewStreamableHTTPHandler(func(*http.Request) *mcp.Server { return server }, nil)
	return p.RequireBearer(auth.RequireBearerToken(mcpauth.TokenVerifier(p), nil)(streamable))
}
