package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"testing"
	"time"

	"github.com/modelcontextprotocol/go-sdk/auth"
	"github.com/modelcontextprotocol/go-sdk/mcp"
	"github.com/modelcontextprotocol/go-sdk/oauthex"
	"github.com/stretchr/testify/require"
	"golang.org/x/oauth2"
)

// TestGoSDKClient connects the official go-sdk client
// (mcp.StreamableClientTransport with auth.AuthorizationCodeHandler and
// dynamic registration) to go-sdk and mcp-go servers behind the proxy.
func TestGoSDKClient(t *testing.T) {
	for _, m := range modes {
		for _, kind := range serverKinds {
			t.Run(m.name+"/"+string(kind), func(t *testing.T) {
				t.Parallel()
				ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
				defer cancel()
				e := newEnv(t, m, kind)
				b := newBrowser(t)

				handler, err := auth.NewAuthorizationCodeHandler(&auth.AuthorizationCodeHandlerConfig{
					DynamicClientRegistrationConfig: &auth.DynamicClientRegistrationConfig{
						Metadata: &oauthex.ClientRegistrationMetadata{
							RedirectURIs:            []string{clientRedirectURI},
							TokenEndpointAuthMethod: "none",
							GrantTypes:              []string{"authorization_code", "refresh_token"},
							ResponseTypes:           []string{"code"},
							ClientName:              "go-sdk e2e client",
						},
					},
					AuthorizationCodeFetcher: func(ctx context.Context, args *auth.AuthorizationArgs) (*auth.AuthorizationResult, error) {
						q, err := b.authorize(ctx, args.URL)
						if err != nil {
							return nil, err
						}
						return &auth.AuthorizationResult{Code: q.Get("code"), State: q.Get("state"), Iss: q.Get("iss")}, nil
					},
					Client: e.http,
					NewTokenSource: func(ctx context.Context, cfg *oauth2.Config, tok *oauth2.Token) (oauth2.TokenSource, error) {
						return newClockedTokenSource(ctx, cfg, tok, e.clock), nil
					},
				})
				require.NoError(t, err)

				client := mcp.NewClient(&mcp.Implementation{Name: "go-sdk e2e client", Version: "1"}, nil)
				session, err := client.Connect(ctx, &mcp.StreamableClientTransport{
					Endpoint: e.mcpURL, HTTPClient: e.http, OAuthHandler: handler, MaxRetries: -1,
				}, nil)
				require.NoError(t, err)
				t.Cleanup(func() { _ = session.Close() })
				e.checkFirstContact(t, b, true)
				clientID := b.authQuery.Get("client_id")
				require.Equal(t, e.mcpURL, b.authQuery.Get("resource"), "RFC 8707 resource from the metadata")

				e.checkWhoami(t, goSDKWhoami(ctx, t, session), clientID)
				old := e.expireAccessToken(t)
				e.checkWhoami(t, goSDKWhoami(ctx, t, session), clientID)
				e.checkRefreshed(t, old)
			})
		}
	}
}

func goSDKWhoami(ctx context.Context, t *testing.T, s *mcp.ClientSession) whoami {
	t.Helper()
	res, err := s.CallTool(ctx, &mcp.CallToolParams{Name: "whoami"})
	require.NoError(t, err)
	require.False(t, res.IsError, "whoami failed: %s", contentText(res.Content))
	raw, err := json.Marshal(res.StructuredContent)
	require.NoError(t, err)
	var who whoami
	require.NoError(t, json.Unmarshal(raw, &who), "%s", raw)
	return who
}

func contentText(content []mcp.Content) string {
	var s string
	for _, c := range content {
		if t, ok := c.(*mcp.TextContent); ok {
			s += t.Text
		} else {
			s += fmt.Sprintf("%T", c)
		}
	}
	return s
}
