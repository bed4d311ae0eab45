package main

import (
	"context"
	"fmt"
	"log"
	"log/slog"
	"net/http"
	"net/http/httptest"

	"github.com/mark3labs/mcp-go/mcp"
	"github.com/mark3labs/mcp-go/server"
	"github.com/oauthproxy-go/oauthproxy"
)

// Example puts an mcp-go server behind the proxy: no adapter, as mcp-go
// runs each tool on the context of the request that carried the call.
func Example() {
	p := newProxy() // oauthproxy.New(cfg), as in the quick start
	defer p.Destroy()

	s := server.NewMCPServer("my-server", "1.0.0")
	s.AddTool(mcp.NewTool("whoami"), func(ctx context.Context, _ mcp.CallToolRequest) (*mcp.CallToolResult, error) {
		c, _ := oauthproxy.ClaimsFromContext(ctx) // the token that carried this call
		return mcp.NewToolResultText(c.Subject), nil
	})
	mux := http.NewServeMux()
	mux.Handle("/", p.Handler())
	mux.Handle("/mcp", p.RequireBearer(server.NewStreamableHTTPServer(s)))

	rec := httptest.NewRecorder()
	mux.ServeHTTP(rec, httptest.NewRequest(http.MethodPost, "https://mcp.example.com/mcp", nil))
	fmt.Println(rec.Code, rec.Header().Get("WWW-Authenticate"))
	// Output:
	// 401 Bearer resource_metadata="https://mcp.example.com/.well-known/oauth-protected-resource/mcp"
}

// newProxy is a proxy for the examples; nothing is fetched until a user signs in.
func newProxy() *oauthproxy.Proxy {
	p, err := oauthproxy.New(oauthproxy.Config{
		BaseURL:                       "https://mcp.example.com",
		UpstreamAuthorizationEndpoint: "https://idp.example.com/authorize",
		UpstreamTokenEndpoint:         "https://idp.example.com/token",
		UpstreamClientID:              "client-id",
		UpstreamClientSecret:          "client-secret",
		Logger:                        slog.New(slog.DiscardHandler),
	})
	if err != nil {
		log.Fatal(err)
	}
	return p
}
