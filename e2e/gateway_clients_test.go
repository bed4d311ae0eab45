package e2e

import (
	"context"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/mark3labs/mcp-go/client"
	"github.com/mark3labs/mcp-go/client/transport"
	mcpgomcp "github.com/mark3labs/mcp-go/mcp"
	"github.com/modelcontextprotocol/go-sdk/auth"
	"github.com/modelcontextprotocol/go-sdk/mcp"
	"github.com/modelcontextprotocol/go-sdk/oauthex"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/oauth2"
)

// gatewayBackends start the MCP servers the gateway is tested in front of:
// one in Go (go-sdk) and one in TypeScript (@modelcontextprotocol/sdk, run
// with node).
var gatewayBackends = []struct {
	name  string
	start func(*testing.T) mcpBackend
}{
	{"go-backend", startGoBackend},
	{"ts-backend", startTSBackend},
}

// progressGate releases the backend's slow tool when the first progress
// notification reaches the client. If the gateway buffered the event
// stream, the progress could only arrive with the result, the tool would
// never be released, and the call would fail at the test's deadline: so a
// call that returns proves the progress came while the tool still ran.
type progressGate struct {
	release func()
	seen    atomic.Int32
	once    sync.Once
}

func (g *progressGate) progressed() {
	g.seen.Add(1)
	g.once.Do(func() { go g.release() })
}

// TestGatewayGoSDKClient: the go-sdk client signs in through the gateway
// (401, discovery, registration, consent, login at the fake upstream, code
// exchange), calls a tool on each backend, which sees the user from the
// gateway's headers and not the client's spoofed ones, gets a tool's
// progress while it runs, and refreshes after the token expired.
func TestGatewayGoSDKClient(t *testing.T) {
	for _, be := range gatewayBackends {
		t.Run(be.name, func(t *testing.T) {
			t.Parallel()
			ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
			defer cancel()
			backend := be.start(t)
			e := newGatewayEnv(t, backend.url)
			b := newBrowser(t)
			gate := &progressGate{release: backend.release}

			handler, err := auth.NewAuthorizationCodeHandler(&auth.AuthorizationCodeHandlerConfig{
				DynamicClientRegistrationConfig: &auth.DynamicClientRegistrationConfig{
					Metadata: &oauthex.ClientRegistrationMetadata{
						RedirectURIs: []string{clientRedirectURI}, TokenEndpointAuthMethod: "none",
						GrantTypes: []string{"authorization_code", "refresh_token"}, ResponseTypes: []string{"code"},
						ClientName: "go-sdk gateway client",
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
			c := mcp.NewClient(&mcp.Implementation{Name: "go-sdk gateway client", Version: "1"}, &mcp.ClientOptions{
				ProgressNotificationHandler: func(context.Context, *mcp.ProgressNotificationClientRequest) { gate.progressed() },
			})
			session, err := c.Connect(ctx, &mcp.StreamableClientTransport{
				Endpoint: e.mcpURL, HTTPClient: e.http, OAuthHandler: handler, MaxRetries: -1,
			}, nil)
			require.NoError(t, err)
			t.Cleanup(func() { _ = session.Close() })
			require.NoError(t, e.log.inOrder("POST /mcp 401", "GET /.well-known/oauth-protected-resource/mcp 200",
				"GET /.well-known/oauth-authorization-server 200", "POST /oauth/register 201", "GET /oauth/authorize 302",
				"GET /oauth/consent 200", "POST /oauth/consent 303", "GET /oauth/callback 302", "POST /oauth/token authorization_code 200"))
			assert.Equal(t, []string{"consent", "login"}, b.pages)
			clientID := b.authQuery.Get("client_id")

			whoami := func() backendWho {
				res, err := session.CallTool(ctx, &mcp.CallToolParams{Name: "whoami"})
				require.NoError(t, err)
				require.False(t, res.IsError, textOf(res.Content))
				return parseWho(t, textOf(res.Content))
			}
			e.checkIdentity(t, whoami(), clientID)

			params := &mcp.CallToolParams{Name: "slow"}
			params.SetProgressToken("progress-1")
			res, err := session.CallTool(ctx, params)
			require.NoError(t, err)
			assert.Equal(t, "done", textOf(res.Content))
			assert.EqualValues(t, 1, gate.seen.Load(), "the progress arrived before the result")

			old := e.expireAccessToken(t)
			e.checkIdentity(t, whoami(), clientID)
			e.checkRefreshed(t, old)
		})
	}
}

// TestGatewayMCPGoClient does the same with mcp-go's client and its OAuth
// flow.
func TestGatewayMCPGoClient(t *testing.T) {
	for _, be := range gatewayBackends {
		t.Run(be.name, func(t *testing.T) {
			t.Parallel()
			ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
			defer cancel()
			backend := be.start(t)
			e := newGatewayEnv(t, backend.url)
			b := newBrowser(t)
			gate := &progressGate{release: backend.release}
			store := &clockedTokenStore{clock: e.clock}

			tr, err := transport.NewStreamableHTTP(e.mcpURL, transport.WithHTTPBasicClient(e.http),
				transport.WithHTTPOAuth(client.OAuthConfig{
					RedirectURI: clientRedirectURI, Scopes: scopes, TokenStore: store, PKCEEnabled: true, HTTPClient: e.http,
				}))
			require.NoError(t, err)
			// Pinned: see TestMCPGoClient on mcp-go and go-sdk's protocol versions.
			c := client.NewClient(tr, client.WithProtocolVersion(mcpgomcp.ProtocolVersion20251125))
			t.Cleanup(func() { _ = c.Close() })
			c.OnNotification(func(n mcpgomcp.JSONRPCNotification) {
				if n.Method == "notifications/progress" {
					gate.progressed()
				}
			})
			require.NoError(t, c.Start(ctx))

			_, err = c.Initialize(ctx, initializeRequest())
			require.True(t, client.IsOAuthAuthorizationRequiredError(err), "%v", err)
			h := client.GetOAuthHandler(err)
			verifier, err := client.GenerateCodeVerifier()
			require.NoError(t, err)
			state, err := client.GenerateState()
			require.NoError(t, err)
			require.NoError(t, h.RegisterClient(ctx, "mcp-go gateway client"))
			authURL, err := h.GetAuthorizationURL(ctx, state, client.GenerateCodeChallenge(verifier))
			require.NoError(t, err)
			q, err := b.authorize(ctx, authURL)
			require.NoError(t, err)
			require.NoError(t, h.ProcessAuthorizationResponse(ctx, q.Get("code"), q.Get("state"), verifier))
			_, err = c.Initialize(ctx, initializeRequest())
			require.NoError(t, err)
			assert.Equal(t, []string{"consent", "login"}, b.pages)

			whoami := func() backendWho {
				var req mcpgomcp.CallToolRequest
				req.Params.Name = "whoami"
				res, err := c.CallTool(ctx, req)
				require.NoError(t, err)
				require.False(t, res.IsError)
				require.NotEmpty(t, res.Content)
				text, ok := mcpgomcp.AsTextContent(res.Content[0])
				require.True(t, ok)
				return parseWho(t, text.Text)
			}
			e.checkIdentity(t, whoami(), h.GetClientID())

			var slow mcpgomcp.CallToolRequest
			slow.Params.Name = "slow"
			slow.Params.Meta = &mcpgomcp.Meta{ProgressToken: "progress-1"}
			res, err := c.CallTool(ctx, slow)
			require.NoError(t, err)
			require.NotEmpty(t, res.Content)
			text, _ := mcpgomcp.AsTextContent(res.Content[0])
			assert.Equal(t, "done", text.Text)
			assert.EqualValues(t, 1, gate.seen.Load(), "the progress arrived before the result")

			old := e.expireAccessToken(t)
			e.checkIdentity(t, whoami(), h.GetClientID())
			e.checkRefreshed(t, old)
		})
	}
}
