package mcpauth_test

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"

	"github.com/modelcontextprotocol/go-sdk/auth"
	"github.com/modelcontextprotocol/go-sdk/mcp"
	"github.com/oauthproxy-go/oauthproxy"
	"github.com/oauthproxy-go/oauthproxy/mcpauth"
	"github.com/oauthproxy-go/oauthproxy/oauthproxytest"
	"golang.org/x/oauth2"
)

// profileTool is a go-sdk tool that calls the provider's API as the user who
// called it: UpstreamTokenSource gives the user's upstream access token
// (refreshed by the proxy when it expires) and oauth2.NewClient sends it.
func profileTool(p *oauthproxy.Proxy, providerAPI string) mcp.ToolHandlerFor[struct{}, any] {
	return func(ctx context.Context, req *mcp.CallToolRequest, _ struct{}) (*mcp.CallToolResult, any, error) {
		ts, err := mcpauth.UpstreamTokenSource(ctx, p, req)
		if err != nil {
			return nil, nil, err
		}
		resp, err := oauth2.NewClient(ctx, ts).Get(providerAPI)
		if err != nil {
			return nil, nil, err
		}
		defer resp.Body.Close()
		var user struct {
			Email string `json:"email"`
		}
		if err := json.NewDecoder(resp.Body).Decode(&user); err != nil {
			return nil, nil, err
		}
		return &mcp.CallToolResult{Content: []mcp.Content{&mcp.TextContent{Text: "your email at the provider: " + user.Email}}}, nil, nil
	}
}

// ExampleUpstreamTokenSource runs profileTool behind the proxy, with the
// oauthproxytest stand-in as the provider: its userinfo endpoint stands for
// the provider's API. A user signs in, and an MCP client calls the tool.
func ExampleUpstreamTokenSource() {
	idp := oauthproxytest.NewServer(oauthproxytest.Options{ClientID: "proxy", ClientSecret: "s3cret", IssueIDToken: true})
	defer idp.Close()
	mux := http.NewServeMux()
	srv := httptest.NewServer(mux)
	defer srv.Close()
	p, err := oauthproxy.New(oauthproxy.Config{
		BaseURL:                       srv.URL,
		UpstreamAuthorizationEndpoint: idp.AuthorizationEndpoint(),
		UpstreamTokenEndpoint:         idp.TokenEndpoint(),
		UpstreamClientID:              "proxy",
		UpstreamClientSecret:          "s3cret",
		Scopes:                        []string{"openid", "email"},
		Logger:                        slog.New(slog.DiscardHandler),
	})
	if err != nil {
		panic(err)
	}
	defer p.Destroy()

	server := mcp.NewServer(&mcp.Implementation{Name: "example", Version: "1.0.0"}, nil)
	mcp.AddTool(server, &mcp.Tool{Name: "profile"}, profileTool(p, idp.UserInfoEndpoint()))
	verify := auth.RequireBearerToken(mcpauth.TokenVerifier(p), nil)
	mux.Handle("/", p.Handler())
	mux.Handle("/mcp", p.RequireBearer(verify(mcp.NewStreamableHTTPHandler(func(*http.Request) *mcp.Server { return server }, nil))))

	// An MCP client registers, the user signs in, the client gets a token.
	ctx := context.Background()
	info, err := p.RegisterClient(ctx, &oauthproxy.ClientMetadata{
		RedirectURIs: []string{"http://127.0.0.1:33418/callback"}, TokenEndpointAuthMethod: "none",
	})
	if err != nil {
		panic(err)
	}
	client := &oauth2.Config{
		ClientID:    info.ClientID,
		Endpoint:    oauth2.Endpoint{AuthURL: srv.URL + "/oauth/authorize", TokenURL: srv.URL + "/oauth/token"},
		RedirectURL: "http://127.0.0.1:33418/callback",
		Scopes:      []string{"openid", "email"},
	}
	verifier := oauth2.GenerateVerifier()
	var browser oauthproxytest.Browser // in a test: oauthproxytest.NewBrowser(t)
	res, err := browser.Authorize(client.AuthCodeURL("xyz", oauth2.S256ChallengeOption(verifier)))
	if err != nil {
		panic(err)
	}
	tok, err := client.Exchange(ctx, res.Code, oauth2.VerifierOption(verifier))
	if err != nil {
		panic(err)
	}

	// The client calls the tool over MCP with its token.
	session, err := mcp.NewClient(&mcp.Implementation{Name: "client", Version: "1.0.0"}, nil).Connect(ctx,
		&mcp.StreamableClientTransport{Endpoint: srv.URL + "/mcp", HTTPClient: client.Client(ctx, tok), DisableStandaloneSSE: true}, nil)
	if err != nil {
		panic(err)
	}
	defer session.Close()
	result, err := session.CallTool(ctx, &mcp.CallToolParams{Name: "profile"})
	if err != nil {
		panic(err)
	}
	fmt.Println(result.Content[0].(*mcp.TextContent).Text)
	// Output:
	// your email at the provider: user@example.com
}
