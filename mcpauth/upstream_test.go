package mcpauth_test

import (
	"context"
	"encoding/json"
	"net/http"
	"sync"
	"testing"

	"github.com/modelcontextprotocol/go-sdk/auth"
	"github.com/modelcontextprotocol/go-sdk/mcp"
	"github.com/oauthproxy-go/oauthproxy"
	"github.com/oauthproxy-go/oauthproxy/mcpauth"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/oauth2"
)

func TestUpstreamTokenSource_WithoutClaims(t *testing.T) {
	e := newEnv(t, nil)
	for name, req := range map[string]mcp.Request{
		"nil request":       nil,
		"no token info":     &mcp.CallToolRequest{Extra: &mcp.RequestExtra{}},
		"another verifier":  &mcp.CallToolRequest{Extra: &mcp.RequestExtra{TokenInfo: &auth.TokenInfo{UserID: "u"}}},
		"no extra at all":   &mcp.CallToolRequest{},
		"a resource read":   &mcp.ReadResourceRequest{},
		"forged claims key": &mcp.CallToolRequest{Extra: &mcp.RequestExtra{TokenInfo: &auth.TokenInfo{Extra: map[string]any{mcpauth.ClaimsKey: "x"}}}},
	} {
		t.Run(name, func(t *testing.T) {
			ts, err := mcpauth.UpstreamTokenSource(context.Background(), e.proxy, req)
			assert.Nil(t, ts)
			assert.ErrorIs(t, err, oauthproxy.ErrInvalidToken)
		})
	}
}

// In one go-sdk session whose client switches from grant A's token to grant
// B's (the same user, signed in from two clients: the go-sdk refuses a
// session to another user), the tool gets the upstream token of each call's
// grant, in swap and in pass-through mode, and calls the provider with it.
func TestUpstreamTokenSource_PerCall(t *testing.T) {
	for _, passThrough := range []bool{false, true} {
		t.Run(map[bool]string{false: "swap", true: "pass-through"}[passThrough], func(t *testing.T) {
			e := newEnv(t, func(c *oauthproxy.Config) { c.DisableTokenSwap = passThrough })
			server := mcp.NewServer(&mcp.Implementation{Name: "t", Version: "1"}, nil)
			type out struct{ Sub, UpstreamToken string }
			mcp.AddTool(server, &mcp.Tool{Name: "provider-sub"}, func(ctx context.Context, req *mcp.CallToolRequest, _ struct{}) (*mcp.CallToolResult, out, error) {
				ts, err := mcpauth.UpstreamTokenSource(ctx, e.proxy, req)
				if err != nil {
					return nil, out{}, err
				}
				tok, err := ts.Token()
				if err != nil {
					return nil, out{}, err
				}
				resp, err := oauth2.NewClient(ctx, ts).Get(e.idp.UserInfoEndpoint())
				if err != nil {
					return nil, out{}, err
				}
				defer resp.Body.Close()
				o := out{UpstreamToken: tok.AccessToken}
				err = json.NewDecoder(resp.Body).Decode(&struct {
					Sub *string `json:"sub"`
				}{&o.Sub})
				return nil, o, err
			})
			t.Cleanup(func() {
				for ss := range server.Sessions() {
					_ = ss.Close()
				}
			})
			streamable := mcp.NewStreamableHTTPHandler(func(*http.Request) *mcp.Server { return server }, nil)
			e.mux.Handle("/mcp", e.proxy.RequireBearer(auth.RequireBearerToken(mcpauth.TokenVerifier(e.proxy), nil)(streamable)))

			tokA, _ := e.issueToken(t)
			tokB, _ := e.issueToken(t)
			upstream := func(tok string) string {
				u, err := e.proxy.LoadUpstreamTokens(context.Background(), tok)
				require.NoError(t, err)
				return u.AccessToken
			}
			require.NotEqual(t, upstream(tokA), upstream(tokB))

			var mu sync.Mutex
			bearer := tokA
			hc := &http.Client{Transport: roundTripFunc(func(r *http.Request) (*http.Response, error) {
				mu.Lock()
				r = r.Clone(r.Context())
				r.Header.Set("Authorization", "Bearer "+bearer)
				mu.Unlock()
				return http.DefaultTransport.RoundTrip(r)
			})}
			session, err := mcp.NewClient(&mcp.Implementation{Name: "t", Version: "1"}, nil).Connect(context.Background(),
				&mcp.StreamableClientTransport{Endpoint: e.url + "/mcp", HTTPClient: hc, DisableStandaloneSSE: true, MaxRetries: -1}, nil)
			require.NoError(t, err)
			defer session.Close()

			call := func(token string) out {
				mu.Lock()
				bearer = token
				mu.Unlock()
				res, err := session.CallTool(context.Background(), &mcp.CallToolParams{Name: "provider-sub"})
				require.NoError(t, err)
				require.False(t, res.IsError, "%v", res.Content)
				raw, err := json.Marshal(res.StructuredContent)
				require.NoError(t, err)
				var got out
				require.NoError(t, json.Unmarshal(raw, &got))
				return got
			}
			assert.Equal(t, out{Sub: "user-1", UpstreamToken: upstream(tokA)}, call(tokA))
			assert.Equal(t, out{Sub: "user-1", UpstreamToken: upstream(tokB)}, call(tokB),
				"the grant of this call, not of the session's first request")
		})
	}
}
