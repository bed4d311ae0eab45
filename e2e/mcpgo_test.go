package e2e

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/mark3labs/mcp-go/client"
	"github.com/mark3labs/mcp-go/client/transport"
	"github.com/mark3labs/mcp-go/mcp"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestMCPGoClient connects mcp-go's client with its OAuth flow (the
// streamable HTTP transport with WithHTTPOAuth, dynamic registration, PKCE) to go-sdk
// and mcp-go servers behind the proxy. Against the go-sdk server the client is
// pinned to protocol 2025-11-25: unpinned, mcp-go v1.2.1 negotiates
// 2026-07-28 with go-sdk v1.8.0's streamable handler, which then refuses its
// tool calls with "unsupported protocol version" — with or without OAuth.
// Against mcp-go's server it runs both pinned and unpinned (the stateless
// 2026-07-28 protocol).
func TestMCPGoClient(t *testing.T) {
	cases := []struct {
		kind    serverKind
		version string // "": unpinned
	}{
		{goSDKServer, mcp.ProtocolVersion20251125},
		{mcpGoServer, mcp.ProtocolVersion20251125},
		{mcpGoServer, ""},
	}
	for _, m := range modes {
		for _, tc := range cases {
			name := m.name + "/" + string(tc.kind) + "/pinned-" + tc.version
			if tc.version == "" {
				name = m.name + "/" + string(tc.kind) + "/unpinned"
			}
			t.Run(name, func(t *testing.T) {
				t.Parallel()
				ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
				defer cancel()
				e := newEnv(t, m, tc.kind)
				b := newBrowser(t)
				store := &clockedTokenStore{clock: e.clock}

				// What client.NewOAuthStreamableHttpClient builds, plus the
				// protocol option it has no parameter for.
				tr, err := transport.NewStreamableHTTP(e.mcpURL, transport.WithHTTPBasicClient(e.http),
					transport.WithHTTPOAuth(client.OAuthConfig{
						RedirectURI: clientRedirectURI,
						Scopes:      scopes,
						TokenStore:  store,
						PKCEEnabled: true,
						HTTPClient:  e.http,
					}))
				require.NoError(t, err)
				var opts []client.ClientOption
				if tc.version != "" {
					opts = append(opts, client.WithProtocolVersion(tc.version))
				}
				c := client.NewClient(tr, opts...)
				t.Cleanup(func() { _ = c.Close() })
				require.NoError(t, c.Start(ctx))

				// Without a token, mcp-go sends nothing: Initialize fails at
				// once with the handler the application authorizes with, as
				// mcp-go's OAuth example does, and the handler discovers the
				// metadata at its RFC 9728 well-known URL.
				_, err = c.Initialize(ctx, initializeRequest())
				require.True(t, client.IsOAuthAuthorizationRequiredError(err), "%v", err)
				h := client.GetOAuthHandler(err)
				verifier, err := client.GenerateCodeVerifier()
				require.NoError(t, err)
				state, err := client.GenerateState()
				require.NoError(t, err)
				require.NoError(t, h.RegisterClient(ctx, "mcp-go e2e client"))
				authURL, err := h.GetAuthorizationURL(ctx, state, client.GenerateCodeChallenge(verifier))
				require.NoError(t, err)
				q, err := b.authorize(ctx, authURL)
				require.NoError(t, err)
				require.NoError(t, h.ProcessAuthorizationResponse(ctx, q.Get("code"), q.Get("state"), verifier))

				_, err = c.Initialize(ctx, initializeRequest())
				require.NoError(t, err)
				e.checkFirstContact(t, b, false)
				assert.Equal(t, h.GetClientID(), b.authQuery.Get("client_id"))
				assert.Equal(t, e.mcpURL, b.authQuery.Get("resource"), "RFC 8707 resource from the metadata")

				e.checkWhoami(t, mcpGoWhoami(ctx, t, c), h.GetClientID())
				first := store.saved()
				old := e.expireAccessToken(t)
				e.checkWhoami(t, mcpGoWhoami(ctx, t, c), h.GetClientID())
				e.checkRefreshed(t, old)
				assert.NotEqual(t, first.AccessToken, store.saved().AccessToken, "the refreshed token was saved")
			})
		}
	}
}

func initializeRequest() mcp.InitializeRequest {
	var req mcp.InitializeRequest
	req.Params.ClientInfo = mcp.Implementation{Name: "mcp-go e2e client", Version: "1"}
	return req
}

func mcpGoWhoami(ctx context.Context, t *testing.T, c *client.Client) whoami {
	t.Helper()
	var req mcp.CallToolRequest
	req.Params.Name = "whoami"
	res, err := c.CallTool(ctx, req)
	require.NoError(t, err)
	require.False(t, res.IsError, "whoami failed: %+v", res.Content)
	raw, err := json.Marshal(res.StructuredContent)
	require.NoError(t, err)
	var who whoami
	require.NoError(t, json.Unmarshal(raw, &who), "%s", raw)
	return who
}
