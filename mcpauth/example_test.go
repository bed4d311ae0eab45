package mcpauth_test

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"

	"github.com/modelcontextprotocol/go-sdk/auth"
	"github.com/modelcontextprotocol/go-sdk/mcp"
	"github.com/oauthproxy-go/oauthproxy"
	"github.com/oauthproxy-go/oauthproxy/mcpauth"
)

// Example puts a go-sdk MCP server behind the proxy: p.RequireBearer answers
// clients without a valid token, auth.RequireBearerToken hands the token's
// claims to the go-sdk, and the tool reads them with ClaimsFromRequest.
func Example() {
	p := newProxy() // oauthproxy.New(cfg), as in the quick start
	defer p.Destroy()

	server := mcp.NewServer(&mcp.Implementation{Name: "example", Version: "1.0.0"}, nil)
	mcp.AddTool(server, &mcp.Tool{Name: "whoami"}, func(_ context.Context, req *mcp.CallToolRequest, _ struct{}) (*mcp.CallToolResult, any, error) {
		c, ok := mcpauth.ClaimsFromRequest(req)
		if !ok {
			return nil, nil, errors.New("not signed in")
		}
		return &mcp.CallToolResult{Content: []mcp.Content{&mcp.TextContent{Text: "signed in as " + c.Subject}}}, nil, nil
	})
	streamable := mcp.NewStreamableHTTPHandler(func(*http.Request) *mcp.Server { return server }, nil)
	verify := auth.RequireBearerToken(mcpauth.TokenVerifier(p), nil)

	mux := http.NewServeMux()
	mux.Handle("/", p.Handler())
	mux.Handle("/mcp", p.RequireBearer(verify(streamable)))

	// A client without a token learns where to sign in (RFC 9728 §5.1).
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
		UpstreamAuthorizationEndpoint: "https://github.com/login/oauth/authorize",
		UpstreamTokenEndpoint:         "https://github.com/login/oauth/access_token",
		UpstreamClientID:              "github-client-id",
		UpstreamClientSecret:          "github-client-secret",
		Logger:                        slog.New(slog.DiscardHandler),
	})
	if err != nil {
		panic(err)
	}
	return p
}
