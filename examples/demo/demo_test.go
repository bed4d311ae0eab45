package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/modelcontextprotocol/go-sdk/auth"
	"github.com/modelcontextprotocol/go-sdk/mcp"
	"github.com/modelcontextprotocol/go-sdk/oauthex"
	"github.com/oauthproxy-go/oauthproxy/oauthproxytest"
)

// clientRedirectURI is the MCP client's loopback redirect URI. Nothing listens
// there: the test's browser stops at the redirect and reads the code from it.
const clientRedirectURI = "http://127.0.0.1:53682/callback"

// TestEndToEnd runs the demo and drives it with the go-sdk's MCP client and its
// OAuth handler: discovery from the 401, dynamic client registration, PKCE,
// the consent page and the stand-in's login page (clicked by a cookie-jar
// "browser"), the code exchange, then a whoami call with the token.
func TestEndToEnd(t *testing.T) {
	t.Setenv("GITHUB_CLIENT_ID", "") // always the stand-in, never the network
	t.Setenv("GITHUB_CLIENT_SECRET", "")
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()

	d := startDemo(t, options{})
	mcpURL := d.base + "/mcp"
	for _, want := range []string{mcpURL, "whoami", `"Test User"`, "claude mcp add --transport http demo " + mcpURL, "Demo only"} {
		if !strings.Contains(d.banner(), want) {
			t.Errorf("banner lacks %q:\n%s", want, d.banner())
		}
	}

	t.Run("no token", func(t *testing.T) {
		for _, method := range []string{http.MethodGet, http.MethodPost} {
			resp := mcpRequest(t, ctx, method, mcpURL, "")
			checkChallenge(t, resp, d.base, "")
		}
		resp := mcpRequest(t, ctx, http.MethodPost, mcpURL, "not-a-token")
		checkChallenge(t, resp, d.base, `error="invalid_token"`)
	})

	t.Run("a client without OAuth cannot connect", func(t *testing.T) {
		client := mcp.NewClient(&mcp.Implementation{Name: "no-oauth", Version: "1"}, nil)
		_, err := client.Connect(ctx, &mcp.StreamableClientTransport{
			Endpoint: mcpURL, HTTPClient: loopbackClient(nil), MaxRetries: -1,
		}, nil)
		if err == nil {
			t.Fatal("Connect without a token succeeded")
		}
	})

	b := newBrowser(t)
	handler, err := auth.NewAuthorizationCodeHandler(&auth.AuthorizationCodeHandlerConfig{
		DynamicClientRegistrationConfig: &auth.DynamicClientRegistrationConfig{
			Metadata: &oauthex.ClientRegistrationMetadata{
				RedirectURIs:            []string{clientRedirectURI},
				TokenEndpointAuthMethod: "none",
				GrantTypes:              []string{"authorization_code", "refresh_token"},
				ResponseTypes:           []string{"code"},
				ClientName:              "demo end-to-end test",
			},
		},
		AuthorizationCodeFetcher: b.fetch,
		Client:                   loopbackClient(nil),
	})
	if err != nil {
		t.Fatal(err)
	}
	client := mcp.NewClient(&mcp.Implementation{Name: "demo-test", Version: "1"}, nil)
	session, err := client.Connect(ctx, &mcp.StreamableClientTransport{
		Endpoint:     mcpURL,
		HTTPClient:   loopbackClient(nil),
		OAuthHandler: handler,
		MaxRetries:   -1,
	}, nil)
	if err != nil {
		t.Fatalf("Connect with the go-sdk OAuth handler: %v", err)
	}
	defer session.Close()
	if got, want := b.pages, []string{"consent", "login"}; !slices.Equal(got, want) {
		t.Errorf("browser saw pages %q, want %q", got, want)
	}
	if b.clientID == "" {
		t.Fatal("the authorization URL had no client_id")
	}

	res, err := session.CallTool(ctx, &mcp.CallToolParams{Name: "whoami"})
	if err != nil {
		t.Fatalf("whoami: %v", err)
	}
	if res.IsError {
		t.Fatalf("whoami failed: %+v", res.Content)
	}
	var who whoamiOutput
	raw, _ := json.Marshal(res.StructuredContent)
	if err := json.Unmarshal(raw, &who); err != nil {
		t.Fatalf("whoami structured content %s: %v", raw, err)
	}
	if who.Subject != "user-1" {
		t.Errorf("subject = %q, want user-1", who.Subject)
	}
	if who.ClientID != b.clientID {
		t.Errorf("client_id = %q, want the registered %q", who.ClientID, b.clientID)
	}
	if who.Audience != mcpURL {
		t.Errorf("audience = %q, want %q", who.Audience, mcpURL)
	}
	if !slices.Contains(who.Scopes, "openid") {
		t.Errorf("scopes = %q, want openid among them", who.Scopes)
	}
	if who.Claims["email"] != "user@example.com" || who.Claims["name"] != "Test User" {
		t.Errorf("claims = %v, want the stand-in user's email and name", who.Claims)
	}
	if exp, err := time.Parse(time.RFC3339, who.ExpiresAt); err != nil || !exp.After(time.Now()) {
		t.Errorf("expires_at = %q, want a future RFC 3339 time", who.ExpiresAt)
	}

	// The token the handler holds works at /mcp as a plain bearer token, and the
	// same token with one character changed does not.
	ts, err := handler.TokenSource(ctx)
	if err != nil || ts == nil {
		t.Fatalf("TokenSource: %v, %v", ts, err)
	}
	tok, err := ts.Token()
	if err != nil {
		t.Fatal(err)
	}
	resp := mcpRequest(t, ctx, http.MethodPost, mcpURL, tok.AccessToken)
	if resp.StatusCode == http.StatusUnauthorized {
		t.Errorf("POST /mcp with the issued token: 401 %q", resp.Header.Get("WWW-Authenticate"))
	}
	checkChallenge(t, mcpRequest(t, ctx, http.MethodPost, mcpURL, tamper(tok.AccessToken)), d.base, `error="invalid_token"`)

	// whoami reports the token that carried each call, not the one that opened
	// the MCP session: switch a session from client A's token to client B's.
	tokB, clientB := authorize(t, ctx, mcpURL)
	current := tok.AccessToken
	var mu sync.Mutex
	swapping := loopbackClient(nil)
	base := swapping.Transport
	swapping.Transport = roundTripFunc(func(r *http.Request) (*http.Response, error) {
		mu.Lock()
		bearer := current
		mu.Unlock()
		r = r.Clone(r.Context())
		r.Header.Set("Authorization", "Bearer "+bearer)
		return base.RoundTrip(r)
	})
	swapped, err := client.Connect(ctx, &mcp.StreamableClientTransport{
		Endpoint: mcpURL, HTTPClient: swapping, DisableStandaloneSSE: true, MaxRetries: -1,
	}, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer swapped.Close()
	for _, want := range []struct{ token, clientID string }{{tok.AccessToken, b.clientID}, {tokB, clientB}} {
		mu.Lock()
		current = want.token
		mu.Unlock()
		res, err := swapped.CallTool(ctx, &mcp.CallToolParams{Name: "whoami"})
		if err != nil {
			t.Fatal(err)
		}
		if got, _ := res.StructuredContent.(map[string]any); got["client_id"] != want.clientID {
			t.Errorf("whoami client_id = %v, want %s (the client whose token carried the call)", got["client_id"], want.clientID)
		}
	}

	// Shutting down with the session still open must not wait for its
	// standalone SSE stream.
	start := time.Now()
	if err := d.stop(); err != nil {
		t.Fatalf("run returned %v", err)
	}
	if elapsed := time.Since(start); elapsed >= shutdownTimeout/2 {
		t.Errorf("shutdown took %s: open sessions or connections held it up", elapsed)
	}
}

// authorize registers another client and signs in with it through the go-sdk's
// OAuth handler, returning its access token and client_id.
func authorize(t *testing.T, ctx context.Context, mcpURL string) (token, clientID string) {
	t.Helper()
	b := newBrowser(t)
	h, err := auth.NewAuthorizationCodeHandler(&auth.AuthorizationCodeHandlerConfig{
		DynamicClientRegistrationConfig: &auth.DynamicClientRegistrationConfig{
			Metadata: &oauthex.ClientRegistrationMetadata{
				RedirectURIs: []string{clientRedirectURI}, TokenEndpointAuthMethod: "none", ClientName: "second client",
			},
		},
		AuthorizationCodeFetcher: b.fetch,
		Client:                   loopbackClient(nil),
	})
	if err != nil {
		t.Fatal(err)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, mcpURL, nil)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := loopbackClient(nil).Do(req)
	if err != nil {
		t.Fatal(err)
	}
	if err := h.Authorize(ctx, req, resp); err != nil { // it reads the 401's challenge
		t.Fatal(err)
	}
	ts, err := h.TokenSource(ctx)
	if err != nil || ts == nil {
		t.Fatalf("TokenSource: %v, %v", ts, err)
	}
	tok, err := ts.Token()
	if err != nil {
		t.Fatal(err)
	}
	return tok.AccessToken, b.clientID
}

type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

// tamper changes one character of a JWT's signature, away from its last
// character (whose low bits base64 decoders may ignore).
func tamper(jwt string) string {
	i := strings.LastIndex(jwt, ".") + 5
	c := "A"
	if jwt[i] == 'A' {
		c = "B"
	}
	return jwt[:i] + c + jwt[i+1:]
}

func TestListenFallsBack(t *testing.T) {
	busy, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer busy.Close()
	ln, note, err := listen(busy.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	if ln.Addr().String() == busy.Addr().String() || !strings.Contains(note, ln.Addr().String()) {
		t.Errorf("listen(busy %s) = %s, note %q; want another port, named in the note", busy.Addr(), ln.Addr(), note)
	}

	for _, addr := range []string{"0.0.0.0:0", ":0", "192.0.2.1:8080", "nonsense"} {
		if ln, _, err := listen(addr); err == nil {
			ln.Close()
			t.Errorf("listen(%q) succeeded; want an error (loopback only)", addr)
		}
	}
}

// demo is a running run.
type demo struct {
	base string
	out  *lockedBuffer
	stop func() error
}

func (d *demo) banner() string { return d.out.String() }

// startDemo starts run with opts on a random loopback port and stops it when
// the test ends.
func startDemo(t *testing.T, opts options) *demo {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	ready := make(chan string, 1)
	done := make(chan error, 1)
	out := &lockedBuffer{}
	opts.addr = "127.0.0.1:0"
	go func() { done <- run(ctx, opts, out, ready) }()

	d := &demo{out: out}
	d.stop = sync.OnceValue(func() error {
		cancel()
		select {
		case err := <-done:
			return err
		case <-time.After(2 * shutdownTimeout):
			return errors.New("run did not return after its context was cancelled")
		}
	})
	t.Cleanup(func() {
		if err := d.stop(); err != nil {
			t.Errorf("stopping the demo: %v", err)
		}
	})
	select {
	case d.base = <-ready:
	case err := <-done:
		t.Fatalf("run returned early: %v", err)
	case <-time.After(10 * time.Second):
		t.Fatal("run did not become ready")
	}
	if !strings.HasPrefix(d.base, "http://127.0.0.1:") {
		t.Fatalf("base URL %q is not on 127.0.0.1", d.base)
	}
	return d
}

// mcpRequest sends a bare MCP initialize request (GET has no body) with the
// given bearer token, if any, and returns the response with its body read.
func mcpRequest(t *testing.T, ctx context.Context, method, mcpURL, token string) *http.Response {
	t.Helper()
	var body io.Reader
	if method == http.MethodPost {
		body = strings.NewReader(`{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-06-18","capabilities":{},"clientInfo":{"name":"raw","version":"1"}}}`)
	}
	req, err := http.NewRequestWithContext(ctx, method, mcpURL, body)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Accept", "application/json, text/event-stream")
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := loopbackClient(nil).Do(req)
	if err != nil {
		t.Fatal(err)
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp
}

// checkChallenge asserts a 401 whose Bearer challenge names the protected
// resource metadata (RFC 9728 §5.1), and that the metadata it names is served.
func checkChallenge(t *testing.T, resp *http.Response, base, wantParam string) {
	t.Helper()
	if resp.StatusCode != http.StatusUnauthorized {
		t.Fatalf("%s %s: status %d, want 401", resp.Request.Method, resp.Request.URL, resp.StatusCode)
	}
	challenge := resp.Header.Get("WWW-Authenticate")
	m := regexp.MustCompile(`resource_metadata="([^"]+)"`).FindStringSubmatch(challenge)
	if !strings.HasPrefix(challenge, "Bearer ") || m == nil {
		t.Fatalf("WWW-Authenticate = %q, want a Bearer challenge with resource_metadata", challenge)
	}
	if wantParam != "" && !strings.Contains(challenge, wantParam) {
		t.Errorf("WWW-Authenticate = %q, want %s", challenge, wantParam)
	}
	if !strings.HasPrefix(m[1], base+"/.well-known/oauth-protected-resource") {
		t.Errorf("resource_metadata = %q, want it under %s", m[1], base)
	}
}

// browser plays the user with oauthproxytest.Browser, dialing 127.0.0.1 only:
// it approves the consent page and signs in at the stand-in's page, and
// stops at the client's redirect URI.
type browser struct {
	b        *oauthproxytest.Browser
	pages    []string // which forms it submitted
	clientID string   // the client_id in the authorization URL
}

func newBrowser(t *testing.T) *browser {
	b := oauthproxytest.NewBrowser(t)
	b.Transport = loopbackClient(nil).Transport
	b.RedirectURIs = []string{clientRedirectURI}
	return &browser{b: b}
}

// fetch is the auth.AuthorizationCodeFetcher.
func (b *browser) fetch(ctx context.Context, args *auth.AuthorizationArgs) (*auth.AuthorizationResult, error) {
	res, err := b.b.AuthorizeContext(ctx, args.URL)
	if res != nil {
		b.pages, b.clientID = res.Pages, res.AuthorizationURL.Query().Get("client_id")
	}
	if err != nil {
		return nil, err
	}
	return &auth.AuthorizationResult{Code: res.Code, State: res.State, Iss: res.Iss}, nil
}

// loopbackClient is an HTTP client that can only dial 127.0.0.1.
func loopbackClient(jar http.CookieJar) *http.Client {
	dialer := &net.Dialer{Timeout: 5 * time.Second}
	return &http.Client{
		Jar:     jar,
		Timeout: 15 * time.Second,
		Transport: &http.Transport{
			Proxy: nil, // never an HTTP proxy from the environment
			DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
				if host, _, err := net.SplitHostPort(addr); err != nil || host != "127.0.0.1" {
					return nil, fmt.Errorf("test refuses to dial %s: only 127.0.0.1 is allowed", addr)
				}
				return dialer.DialContext(ctx, network, addr)
			},
		},
	}
}

// lockedBuffer is a bytes.Buffer safe for concurrent use.
type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// TestRateLimit runs the demo with -rate-limit: a whole sign-in through the
// go-sdk's OAuth handler fits the example limits, and a script registering
// clients in a loop gets 429 with Retry-After once it passes them.
func TestRateLimit(t *testing.T) {
	t.Setenv("GITHUB_CLIENT_ID", "")
	t.Setenv("GITHUB_CLIENT_SECRET", "")
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	d := startDemo(t, options{rateLimit: true})
	want := fmt.Sprintf("register %d,", demoRateLimits.Register.Rate)
	if !strings.Contains(d.banner(), want) {
		t.Errorf("banner lacks %q:\n%s", want, d.banner())
	}

	if tok, _ := authorize(t, ctx, d.base+"/mcp"); tok == "" {
		t.Fatal("no access token")
	}

	hc := loopbackClient(nil)
	body := `{"redirect_uris":["` + clientRedirectURI + `"],"token_endpoint_auth_method":"none"}`
	// The sign-in above registered once.
	for i := 1; i <= demoRateLimits.Register.Rate; i++ {
		resp, err := hc.Post(d.base+"/oauth/register", "application/json", strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if i < demoRateLimits.Register.Rate && resp.StatusCode != http.StatusCreated {
			t.Fatalf("registration %d: %d, want 201 within the limit", i+1, resp.StatusCode)
		}
		if i == demoRateLimits.Register.Rate {
			if resp.StatusCode != http.StatusTooManyRequests || resp.Header.Get("Retry-After") == "" {
				t.Fatalf("registration %d: %d, Retry-After %q; want 429 with Retry-After past the limit",
					i+1, resp.StatusCode, resp.Header.Get("Retry-After"))
			}
		}
	}
}
