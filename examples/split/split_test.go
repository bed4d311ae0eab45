package main

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/modelcontextprotocol/go-sdk/auth"
	"github.com/modelcontextprotocol/go-sdk/mcp"
	"github.com/modelcontextprotocol/go-sdk/oauthex"
	"github.com/oauthproxy-go/oauthproxy/oauthproxytest"
	"github.com/oauthproxy-go/oauthproxy/tokenverify"
)

const clientRedirectURI = "http://127.0.0.1:53682/callback"

// TestSplit signs in with the go-sdk client at the MCP server, which sends
// it to the proxy on the other port; a tool call succeeds; then the session
// is revoked at the proxy, and the MCP server refuses the access token
// within the documented bound: the introspection cache TTL with
// -introspect, the token's lifetime (plus leeway) with JWKS alone.
func TestSplit(t *testing.T) {
	for _, tc := range []struct {
		name       string
		introspect bool
		bound      time.Duration // how long the revoked token may still pass
		signOut    func(t *testing.T, ctx context.Context, u urls, clientID, refreshToken string)
	}{
		{"introspection, RevokeSubject", true, tokenverify.DefaultIntrospectionCacheTTL, revokeSubject},
		{"JWKS only, RevokeSubject", false, time.Minute + tokenverify.DefaultLeeway, revokeSubject}, // AccessTokenTTL + Leeway
		{"introspection, RFC 7009 revocation", true, tokenverify.DefaultIntrospectionCacheTTL, revokeSession},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			clock := &stepClock{now: time.Now().Truncate(time.Second)}
			u := start(t, options{introspect: tc.introspect, now: clock.Now, accessTokenTTL: time.Minute})

			b := &browser{b: oauthproxytest.NewBrowser(t)}
			b.b.RedirectURIs = []string{clientRedirectURI}
			handler, err := auth.NewAuthorizationCodeHandler(&auth.AuthorizationCodeHandlerConfig{
				DynamicClientRegistrationConfig: &auth.DynamicClientRegistrationConfig{
					Metadata: &oauthex.ClientRegistrationMetadata{
						RedirectURIs:            []string{clientRedirectURI},
						TokenEndpointAuthMethod: "none",
						GrantTypes:              []string{"authorization_code", "refresh_token"},
						ResponseTypes:           []string{"code"},
						ClientName:              "split end-to-end test",
					},
				},
				AuthorizationCodeFetcher: b.fetch,
			})
			if err != nil {
				t.Fatal(err)
			}
			client := mcp.NewClient(&mcp.Implementation{Name: "split-test", Version: "1"}, nil)
			session, err := client.Connect(ctx, &mcp.StreamableClientTransport{
				Endpoint: u.mcp, OAuthHandler: handler, MaxRetries: -1, DisableStandaloneSSE: true,
			}, nil)
			if err != nil {
				t.Fatalf("Connect: %v", err)
			}
			defer session.Close()
			if !strings.HasPrefix(b.authorizationURL, u.proxy+"/oauth/authorize?") {
				t.Errorf("the client signed in at %q, want the proxy at %s", b.authorizationURL, u.proxy)
			}
			res, err := session.CallTool(ctx, &mcp.CallToolParams{Name: "whoami"})
			if err != nil || res.IsError {
				t.Fatalf("whoami: %v %+v", err, res)
			}
			if got, _ := res.StructuredContent.(map[string]any); got["subject"] != "user-1" || got["client_id"] != b.clientID {
				t.Errorf("whoami = %v, want user-1 and client %s", got, b.clientID)
			}

			ts, err := handler.TokenSource(ctx)
			if err != nil {
				t.Fatal(err)
			}
			tok, err := ts.Token()
			if err != nil {
				t.Fatal(err)
			}
			if code := mcpStatus(t, ctx, u.mcp, tok.AccessToken); code != http.StatusOK {
				t.Fatalf("the access token before revocation: %d", code)
			}

			tc.signOut(t, ctx, u, b.clientID, tok.RefreshToken)

			// Within the bound the token may still pass (the verifier's
			// cached answer, or the token's own expiry); past it, never.
			clock.Advance(tc.bound - time.Second)
			if code := mcpStatus(t, ctx, u.mcp, tok.AccessToken); code != http.StatusOK {
				t.Errorf("just inside the documented bound: %d (the test's bound is wrong)", code)
			}
			clock.Advance(time.Second)
			if code := mcpStatus(t, ctx, u.mcp, tok.AccessToken); code != http.StatusUnauthorized {
				t.Errorf("after the documented bound the revoked token still gets %d", code)
			}
		})
	}
}

// revokeSubject is the operator signing user-1 out everywhere.
func revokeSubject(t *testing.T, ctx context.Context, u urls, _, _ string) {
	t.Helper()
	n, err := u.admin.RevokeSubject(ctx, "user-1")
	if err != nil || n != 1 {
		t.Fatalf("RevokeSubject = %d, %v; want the one grant", n, err)
	}
}

// revokeSession is the client signing out: RFC 7009 revocation of the
// refresh token revokes the whole grant.
func revokeSession(t *testing.T, ctx context.Context, u urls, clientID, refreshToken string) {
	t.Helper()
	proxyURL := u.proxy
	form := url.Values{"token": {refreshToken}, "token_type_hint": {"refresh_token"}, "client_id": {clientID}}
	req, _ := http.NewRequestWithContext(ctx, http.MethodPost, proxyURL+"/oauth/revoke", strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("revoke: %d", resp.StatusCode)
	}
}

// mcpStatus sends an MCP initialize request with token and returns the status.
func mcpStatus(t *testing.T, ctx context.Context, mcpURL, token string) int {
	t.Helper()
	body := `{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-06-18","capabilities":{},"clientInfo":{"name":"raw","version":"1"}}}`
	req, _ := http.NewRequestWithContext(ctx, http.MethodPost, mcpURL, strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json, text/event-stream")
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if resp.StatusCode == http.StatusUnauthorized && !strings.Contains(resp.Header.Get("WWW-Authenticate"), `error="invalid_token"`) {
		t.Errorf("401 without error=invalid_token: %q", resp.Header.Get("WWW-Authenticate"))
	}
	return resp.StatusCode
}

// start runs the example on random loopback ports until the test ends.
func start(t *testing.T, opts options) urls {
	t.Helper()
	opts.proxyAddr, opts.mcpAddr = "127.0.0.1:0", "127.0.0.1:0"
	opts.log = slog.New(slog.DiscardHandler)
	ctx, cancel := context.WithCancel(context.Background())
	ready := make(chan urls, 1)
	done := make(chan error, 1)
	var out strings.Builder
	go func() { done <- run(ctx, opts, &out, ready) }()
	t.Cleanup(func() {
		cancel()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("run: %v", err)
			}
		case <-time.After(2 * shutdownTimeout):
			t.Error("run did not return after its context was cancelled")
		}
	})
	select {
	case u := <-ready:
		return u
	case err := <-done:
		t.Fatalf("run returned early: %v", err)
	case <-time.After(10 * time.Second):
		t.Fatal("run did not become ready")
	}
	return urls{}
}

// browser plays the user: it approves the consent page and signs in at the
// stand-in's page, and stops at the client's redirect URI.
type browser struct {
	b                          *oauthproxytest.Browser
	clientID, authorizationURL string
}

func (b *browser) fetch(ctx context.Context, args *auth.AuthorizationArgs) (*auth.AuthorizationResult, error) {
	res, err := b.b.AuthorizeContext(ctx, args.URL)
	if err != nil {
		return nil, err
	}
	b.authorizationURL, b.clientID = args.URL, res.AuthorizationURL.Query().Get("client_id")
	return &auth.AuthorizationResult{Code: res.Code, State: res.State, Iss: res.Iss}, nil
}

// stepClock moves only when the test says so; both services share it.
type stepClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *stepClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *stepClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}
