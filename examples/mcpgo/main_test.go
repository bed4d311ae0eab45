package main

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/mark3labs/mcp-go/client"
	"github.com/mark3labs/mcp-go/client/transport"
	"github.com/mark3labs/mcp-go/mcp"
	"github.com/oauthproxy-go/oauthproxy"
	"github.com/oauthproxy-go/oauthproxy/oauthproxytest"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/oauth2"
)

// TestWhoami_ClaimsPerRequest proves that oauthproxy.ClaimsFromContext in an
// mcp-go tool handler sees the token of the request that carried the call:
// one MCP session whose client switches from client A's token to client B's
// gets B's claims on the next call, in the initialize-handshake protocol
// (with a session ID) and in the stateless 2026-07-28 one.
func TestWhoami_ClaimsPerRequest(t *testing.T) {
	for _, version := range []string{mcp.ProtocolVersion20251125, mcp.LATEST_PROTOCOL_VERSION} {
		t.Run(version, func(t *testing.T) {
			e := newEnv(t)
			tokA, clientA := e.token(t)
			tokB, clientB := e.token(t)

			var mu sync.Mutex
			current := tokA
			c := e.client(t, version, func(context.Context) map[string]string {
				mu.Lock()
				defer mu.Unlock()
				return map[string]string{"Authorization": "Bearer " + current}
			})
			session := c.GetSessionId()
			for _, want := range []struct{ token, clientID string }{{tokA, clientA}, {tokB, clientB}, {tokA, clientA}} {
				mu.Lock()
				current = want.token
				mu.Unlock()
				who := whoamiCall(t, c)
				assert.Equal(t, want.clientID, who.ClientID, "the client whose token carried the call")
				assert.Equal(t, "user-1", who.Subject)
				assert.ElementsMatch(t, []string{"openid", "email"}, who.Scopes)
				assert.Equal(t, "user@example.com", who.Claims["email"])
			}
			assert.Equal(t, session, c.GetSessionId(), "one MCP session throughout")
		})
	}
}

// Without a token, or with a bad one, the mcp-go client gets the proxy's 401
// and learns where the protected resource metadata is (RFC 9728 §5.1).
func TestUnauthorized(t *testing.T) {
	e := newEnv(t)
	for _, header := range []map[string]string{nil, {"Authorization": "Bearer not-a-token"}} {
		tr, err := transport.NewStreamableHTTP(e.url+"/mcp", transport.WithHTTPHeaders(header))
		require.NoError(t, err)
		c := client.NewClient(tr, client.WithProtocolVersion(mcp.ProtocolVersion20251125))
		require.NoError(t, c.Start(context.Background()))
		_, err = c.Initialize(context.Background(), mcp.InitializeRequest{})
		require.Error(t, err)
		assert.True(t, client.IsAuthorizationRequiredError(err), "%v", err)
		assert.Equal(t, e.proxy.ProtectedResourceMetadataURL(), client.GetResourceMetadataURL(err))
		require.NoError(t, c.Close())
	}
}

// run serves the metadata and the protected endpoint, and returns promptly
// when its context ends.
func TestRun(t *testing.T) {
	t.Setenv("GITHUB_CLIENT_ID", "") // the stand-in provider, never the network
	t.Setenv("GITHUB_CLIENT_SECRET", "")
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	base := "http://" + ln.Addr().String()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- run(ctx, ln, slog.New(slog.DiscardHandler)) }()

	resp, err := http.Get(base + "/.well-known/oauth-protected-resource/mcp")
	require.NoError(t, err)
	var prm struct{ Resource string }
	require.NoError(t, json.NewDecoder(resp.Body).Decode(&prm))
	resp.Body.Close()
	assert.Equal(t, base+"/mcp", prm.Resource)

	resp, err = http.Post(base+"/mcp", "application/json", strings.NewReader(`{}`))
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, http.StatusUnauthorized, resp.StatusCode)

	cancel()
	select {
	case err := <-done:
		require.NoError(t, err)
	case <-time.After(10 * time.Second):
		t.Fatal("run did not return after its context ended")
	}
}

// env is the example's handler behind a proxy in front of the fake upstream.
type env struct {
	proxy *oauthproxy.Proxy
	url   string
}

func newEnv(t *testing.T) *env {
	t.Helper()
	secret := rand.Text()
	idp := oauthproxytest.Start(t, oauthproxytest.Options{ClientID: "proxy", ClientSecret: secret, IssueIDToken: true})
	mux := http.NewServeMux()
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	p, err := oauthproxy.New(oauthproxy.Config{
		BaseURL:                       srv.URL,
		UpstreamAuthorizationEndpoint: idp.AuthorizationEndpoint(),
		UpstreamTokenEndpoint:         idp.TokenEndpoint(),
		UpstreamClientID:              "proxy",
		UpstreamClientSecret:          secret,
		DisableConsent:                true, // the browser part is redirects only
		Logger:                        slog.New(slog.DiscardHandler),
	})
	require.NoError(t, err)
	t.Cleanup(p.Destroy)
	mcpServer := newMCPServer()
	t.Cleanup(func() { _ = mcpServer.Shutdown(context.Background()) })
	mux.Handle("/", p.Handler())
	mux.Handle("/mcp", p.RequireBearer(mcpServer))
	return &env{proxy: p, url: srv.URL}
}

const clientRedirect = "http://127.0.0.1:9/callback"

// token registers a public client at the proxy and runs the authorization
// code flow with PKCE for it, returning its access token and client_id.
func (e *env) token(t *testing.T) (token, clientID string) {
	t.Helper()
	info, err := e.proxy.RegisterClient(context.Background(), &oauthproxy.ClientMetadata{
		RedirectURIs: []string{clientRedirect}, TokenEndpointAuthMethod: "none",
	})
	require.NoError(t, err)
	cfg := &oauth2.Config{
		ClientID:    info.ClientID,
		Endpoint:    oauth2.Endpoint{AuthURL: e.url + "/oauth/authorize", TokenURL: e.url + "/oauth/token", AuthStyle: oauth2.AuthStyleInParams},
		RedirectURL: clientRedirect,
		Scopes:      []string{"openid", "email"},
	}
	verifier := oauth2.GenerateVerifier()
	res, err := oauthproxytest.NewBrowser(t).Authorize(cfg.AuthCodeURL("st", oauth2.S256ChallengeOption(verifier)))
	require.NoError(t, err)
	require.Empty(t, res.Pages, "no consent page, no sign-in page: redirects only")
	tok, err := cfg.Exchange(context.Background(), res.Code, oauth2.VerifierOption(verifier))
	require.NoError(t, err)
	return tok.AccessToken, info.ClientID
}

// client connects an mcp-go client speaking version, with headers from
// headers on every request.
func (e *env) client(t *testing.T, version string, headers transport.HTTPHeaderFunc) *client.Client {
	t.Helper()
	tr, err := transport.NewStreamableHTTP(e.url+"/mcp", transport.WithHTTPHeaderFunc(headers))
	require.NoError(t, err)
	c := client.NewClient(tr, client.WithProtocolVersion(version))
	t.Cleanup(func() { _ = c.Close() })
	require.NoError(t, c.Start(context.Background()))
	init := mcp.InitializeRequest{}
	init.Params.ClientInfo = mcp.Implementation{Name: "mcp-go example test", Version: "1"}
	_, err = c.Initialize(context.Background(), init)
	require.NoError(t, err)
	return c
}

func whoamiCall(t *testing.T, c *client.Client) whoamiOutput {
	t.Helper()
	req := mcp.CallToolRequest{}
	req.Params.Name = "whoami"
	res, err := c.CallTool(context.Background(), req)
	require.NoError(t, err)
	require.False(t, res.IsError, "%+v", res.Content)
	raw, err := json.Marshal(res.StructuredContent)
	require.NoError(t, err)
	var who whoamiOutput
	require.NoError(t, json.Unmarshal(raw, &who))
	return who
}
