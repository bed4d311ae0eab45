package e2e

import (
	"bytes"
	"context"
	"crypto/rand"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	mcpgomcp "github.com/mark3labs/mcp-go/mcp"
	mcpgoserver "github.com/mark3labs/mcp-go/server"
	"github.com/modelcontextprotocol/go-sdk/auth"
	"github.com/modelcontextprotocol/go-sdk/mcp"
	"github.com/oauthproxy-go/oauthproxy"
	"github.com/oauthproxy-go/oauthproxy/mcpauth"
	"github.com/oauthproxy-go/oauthproxy/oauthproxytest"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// mode is how the proxy hands out tokens.
type mode struct {
	name        string
	passThrough bool // DisableTokenSwap
}

var modes = []mode{{"swap", false}, {"pass-through", true}}

// serverKind names the MCP server SDK behind the proxy.
type serverKind string

const (
	goSDKServer serverKind = "go-sdk-server"
	mcpGoServer serverKind = "mcp-go-server"
)

var serverKinds = []serverKind{goSDKServer, mcpGoServer}

// scopes are the proxy's Scopes, which its protected resource metadata
// advertises and the upstream receives.
var scopes = []string{"openid", "email", "profile"}

// env is one deployment: the fake upstream, the proxy and an MCP server at
// /mcp, on one loopback port, all on one settable clock.
type env struct {
	clock  *clock
	idp    *oauthproxytest.Server
	proxy  *oauthproxy.Proxy
	base   string // the proxy's BaseURL, the issuer
	mcpURL string // the protected resource
	http   *http.Client
	log    *requestLog
}

// newEnv starts a deployment; configure, when given, adjusts the proxy's
// Config last.
func newEnv(t *testing.T, m mode, kind serverKind, configure ...func(*oauthproxy.Config)) *env {
	t.Helper()
	e := &env{clock: newClock(), http: loopbackClient(nil), log: &requestLog{}}
	t.Cleanup(e.http.CloseIdleConnections)

	secret := rand.Text()
	e.idp = oauthproxytest.NewServer(oauthproxytest.Options{
		ClientID:     "oauthproxy",
		ClientSecret: secret,
		LoginPage:    true, // the browser signs in at the upstream's page
		IssueIDToken: true,
		RequirePKCE:  true,
		Now:          e.clock.Now,
	})
	t.Cleanup(e.idp.Close)

	mux := http.NewServeMux()
	srv := httptest.NewServer(e.log.wrap(mux))
	t.Cleanup(srv.Close)
	e.base, e.mcpURL = srv.URL, srv.URL+"/mcp"

	upstreamClient := loopbackClient(nil)
	t.Cleanup(upstreamClient.CloseIdleConnections)
	cfg := oauthproxy.Config{
		BaseURL:                       e.base,
		UpstreamAuthorizationEndpoint: e.idp.AuthorizationEndpoint(),
		UpstreamTokenEndpoint:         e.idp.TokenEndpoint(),
		UpstreamClientID:              "oauthproxy",
		UpstreamClientSecret:          secret,
		Scopes:                        scopes,
		DisableTokenSwap:              m.passThrough,
		ProviderName:                  "the fake upstream",
		HTTPClient:                    upstreamClient,
		Now:                           e.clock.Now,
		Logger:                        slog.New(slog.DiscardHandler),
	}
	for _, f := range configure {
		f(&cfg)
	}
	p, err := oauthproxy.New(cfg)
	require.NoError(t, err)
	t.Cleanup(p.Destroy)
	e.proxy = p

	mux.Handle("/", p.Handler())
	switch kind {
	case goSDKServer:
		mux.Handle("/mcp", goSDKHandler(t, p))
	case mcpGoServer:
		mux.Handle("/mcp", mcpGoHandler(t, p))
	default:
		t.Fatalf("unknown server %q", kind)
	}
	return e
}

// whoami is what the servers' whoami tool returns: the claims of the token
// that carried the call.
type whoami struct {
	Subject  string `json:"subject"`
	ClientID string `json:"client_id"`
	Email    string `json:"email"`
}

// goSDKHandler is a go-sdk MCP server wired as mcpauth documents: the proxy's
// RequireBearer outside, the go-sdk's RequireBearerToken with
// mcpauth.TokenVerifier inside, and the tool reading mcpauth.ClaimsFromRequest.
func goSDKHandler(t *testing.T, p *oauthproxy.Proxy) http.Handler {
	s := mcp.NewServer(&mcp.Implementation{Name: "e2e go-sdk server", Version: "1"}, nil)
	mcp.AddTool(s, &mcp.Tool{Name: "whoami"}, func(_ context.Context, req *mcp.CallToolRequest, _ struct{}) (*mcp.CallToolResult, whoami, error) {
		c, ok := mcpauth.ClaimsFromRequest(req)
		if !ok {
			return nil, whoami{}, fmt.Errorf("no claims")
		}
		email, _ := c.Extra["email"].(string)
		return nil, whoami{Subject: c.Subject, ClientID: c.ClientID, Email: email}, nil
	})
	t.Cleanup(func() {
		for ss := range s.Sessions() {
			_ = ss.Close()
		}
	})
	streamable := mcp.NewStreamableHTTPHandler(func(*http.Request) *mcp.Server { return s }, nil)
	return p.RequireBearer(auth.RequireBearerToken(mcpauth.TokenVerifier(p), nil)(streamable))
}

// mcpGoHandler is an mcp-go MCP server behind RequireBearer, its tool reading
// oauthproxy.ClaimsFromContext, as examples/mcpgo does.
func mcpGoHandler(t *testing.T, p *oauthproxy.Proxy) http.Handler {
	s := mcpgoserver.NewMCPServer("e2e mcp-go server", "1", mcpgoserver.WithToolCapabilities(false))
	s.AddTool(mcpgomcp.NewTool("whoami"), func(ctx context.Context, _ mcpgomcp.CallToolRequest) (*mcpgomcp.CallToolResult, error) {
		c, ok := oauthproxy.ClaimsFromContext(ctx)
		if !ok {
			return mcpgomcp.NewToolResultError("no claims"), nil
		}
		email, _ := c.Extra["email"].(string)
		return mcpgomcp.NewToolResultStructured(whoami{Subject: c.Subject, ClientID: c.ClientID, Email: email}, c.Subject), nil
	})
	streamable := mcpgoserver.NewStreamableHTTPServer(s)
	t.Cleanup(func() { _ = streamable.Shutdown(context.Background()) })
	return p.RequireBearer(streamable)
}

// checkFirstContact asserts that the client found the proxy and signed in
// the way the MCP authorization spec lays out, in this order: (when
// challenged is set) a 401 from /mcp, the protected resource metadata (RFC
// 9728), the authorization server metadata (RFC 8414), registration (RFC
// 7591), the authorization request with S256 PKCE, consent and the upstream
// login, and one authorization code exchange.
func (e *env) checkFirstContact(t *testing.T, b *browser, challenged bool) {
	t.Helper()
	steps := []string{
		"GET /.well-known/oauth-protected-resource/mcp 200",
		"GET /.well-known/oauth-authorization-server 200",
		"POST /oauth/register 201",
		"GET /oauth/authorize 302",
		"GET /oauth/consent 200",
		"POST /oauth/consent 303",
		"GET /oauth/callback 302",
		"POST /oauth/token authorization_code 200",
	}
	if challenged {
		steps = append([]string{"POST /mcp 401"}, steps...)
	}
	require.NoError(t, e.log.inOrder(steps...))
	assert.Equal(t, 1, e.log.count("POST /oauth/register 201"), "one registration")
	assert.Equal(t, 1, e.log.count("POST /oauth/token authorization_code 200"), "one code exchange")
	assert.Zero(t, e.log.count("POST /oauth/token refresh_token 200"), "no refresh yet")
	assert.Equal(t, []string{"consent", "login"}, b.pages, "the browser approved consent, then signed in upstream")
	q := b.authQuery
	require.NotNil(t, q, "the browser was sent to the authorization endpoint")
	assert.Equal(t, "S256", q.Get("code_challenge_method"))
	assert.Len(t, q.Get("code_challenge"), 43)
	assert.Equal(t, e.base, b.iss, "RFC 9207 iss in the authorization response")
	assert.Equal(t, 1, e.idp.Stats().CodeExchanges, "the proxy redeemed one upstream code")
}

// checkWhoami asserts the tool saw the signed-in user and the client.
func (e *env) checkWhoami(t *testing.T, who whoami, clientID string) {
	t.Helper()
	assert.Equal(t, oauthproxytest.DefaultUser.Subject, who.Subject)
	assert.Equal(t, oauthproxytest.DefaultUser.Email, who.Email, "identity claims reach the tool")
	assert.Equal(t, clientID, who.ClientID)
}

// expireAccessToken moves the clock past the access token's life (the
// proxy's AccessTokenTTL in swap mode, the upstream's expires_in in
// pass-through mode, both an hour) and checks the proxy now refuses the token
// the last tool call carried.
func (e *env) expireAccessToken(t *testing.T) (old string) {
	t.Helper()
	calls := e.log.toolCallTokens()
	require.NotEmpty(t, calls, "a tool call went through")
	old = calls[len(calls)-1]
	e.clock.Advance(time.Hour + time.Minute)
	req, err := http.NewRequest(http.MethodPost, e.mcpURL, strings.NewReader(`{}`))
	require.NoError(t, err)
	req.Header.Set("Authorization", "Bearer "+old)
	resp, err := e.http.Do(req)
	require.NoError(t, err)
	resp.Body.Close()
	require.Equal(t, http.StatusUnauthorized, resp.StatusCode, "the expired access token is refused")
	assert.Contains(t, resp.Header.Get("WWW-Authenticate"), `error="invalid_token"`)
	return old
}

// checkRefreshed asserts that exactly one refresh_token grant succeeded, no
// second authorization happened, and the last tool call carried a new token.
func (e *env) checkRefreshed(t *testing.T, old string) {
	t.Helper()
	assert.Equal(t, 1, e.log.count("POST /oauth/token refresh_token 200"), "one refresh")
	assert.Equal(t, 1, e.log.count("POST /oauth/token authorization_code 200"), "no second authorization")
	assert.Equal(t, 1, e.log.count("POST /oauth/register 201"), "no second registration")
	calls := e.log.toolCallTokens()
	require.Len(t, calls, 2, "tool calls")
	assert.NotEqual(t, old, calls[1], "the second tool call carried the refreshed access token")
}

// requestLog records, in order, every request the proxy's server answered,
// as "METHOD /path [grant_type] STATUS", and the bearer tokens of tools/call
// requests that got through.
type requestLog struct {
	mu        sync.Mutex
	entries   []string
	toolCalls []string
}

func (l *requestLog) wrap(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		entry := r.Method + " " + r.URL.Path
		var toolCall bool
		if r.Method == http.MethodPost && (r.URL.Path == "/oauth/token" || r.URL.Path == "/mcp") {
			body, err := io.ReadAll(io.LimitReader(r.Body, 1<<20))
			if err != nil {
				http.Error(w, err.Error(), http.StatusBadRequest)
				return
			}
			r.Body = io.NopCloser(bytes.NewReader(body))
			if r.URL.Path == "/oauth/token" {
				form, _ := url.ParseQuery(string(body))
				entry += " " + form.Get("grant_type")
			} else {
				toolCall = bytes.Contains(body, []byte(`"method":"tools/call"`))
			}
		}
		// Log when the status is written, before the client can see the
		// response: a streamed response's handler returns after that.
		rec := &statusRecorder{ResponseWriter: w, onStatus: func(status int) {
			l.mu.Lock()
			defer l.mu.Unlock()
			l.entries = append(l.entries, fmt.Sprintf("%s %d", entry, status))
			if toolCall && status == http.StatusOK {
				l.toolCalls = append(l.toolCalls, strings.TrimPrefix(r.Header.Get("Authorization"), "Bearer "))
			}
		}}
		next.ServeHTTP(rec, r)
		rec.writeStatus(http.StatusOK) // a handler that wrote nothing
	})
}

func (l *requestLog) count(entry string) int {
	l.mu.Lock()
	defer l.mu.Unlock()
	n := 0
	for _, e := range l.entries {
		if e == entry {
			n++
		}
	}
	return n
}

// inOrder reports whether the log holds want as a subsequence.
func (l *requestLog) inOrder(want ...string) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	i := 0
	for _, e := range l.entries {
		if i < len(want) && e == want[i] {
			i++
		}
	}
	if i < len(want) {
		return fmt.Errorf("requests lack %q after %q; they were:\n  %s", want[i], want[:i], strings.Join(l.entries, "\n  "))
	}
	return nil
}

func (l *requestLog) toolCallTokens() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return slices.Clone(l.toolCalls)
}

// statusRecorder calls onStatus with the status a handler writes, once. It
// passes Flush on, for the MCP servers' event streams.
type statusRecorder struct {
	http.ResponseWriter
	onStatus func(int)
	once     sync.Once
}

func (r *statusRecorder) writeStatus(status int) { r.once.Do(func() { r.onStatus(status) }) }

func (r *statusRecorder) WriteHeader(status int) {
	r.writeStatus(status)
	r.ResponseWriter.WriteHeader(status)
}

func (r *statusRecorder) Write(p []byte) (int, error) {
	r.writeStatus(http.StatusOK)
	return r.ResponseWriter.Write(p)
}

func (r *statusRecorder) Flush() {
	r.writeStatus(http.StatusOK)
	if f, ok := r.ResponseWriter.(http.Flusher); ok {
		f.Flush()
	}
}

func (r *statusRecorder) Unwrap() http.ResponseWriter { return r.ResponseWriter }

// clock is the settable clock the proxy and the fake upstream share.
type clock struct {
	mu  sync.Mutex
	now time.Time
}

func newClock() *clock { return &clock{now: time.Now()} }

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

// loopbackClient is an HTTP client that can only dial 127.0.0.1, so no test
// reaches the network, with its own transport so its connections can be
// closed when the test ends.
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
