package mcpauth_test

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/modelcontextprotocol/go-sdk/auth"
	"github.com/modelcontextprotocol/go-sdk/mcp"
	"github.com/oauthproxy-go/oauthproxy"
	"github.com/oauthproxy-go/oauthproxy/mcpauth"
	"github.com/oauthproxy-go/oauthproxy/oauthproxytest"
	"github.com/oauthproxy-go/oauthproxy/storage"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/oauth2"
)

func TestTokenVerifier(t *testing.T) {
	for _, passThrough := range []bool{false, true} {
		name := "swap"
		if passThrough {
			name = "pass-through"
		}
		t.Run(name, func(t *testing.T) {
			e := newEnv(t, func(c *oauthproxy.Config) { c.DisableTokenSwap = passThrough })
			tok, clientID := e.issueToken(t)

			ti, err := mcpauth.TokenVerifier(e.proxy)(context.Background(), tok, nil)
			require.NoError(t, err)
			assert.Equal(t, "user-1", ti.UserID)
			assert.ElementsMatch(t, []string{"openid", "email"}, ti.Scopes)
			assert.WithinDuration(t, e.clock.Now().Add(time.Hour), ti.Expiration, 2*time.Second)
			assert.Equal(t, "user@example.com", ti.Extra["email"], "identity claims are in Extra")

			c, ok := mcpauth.ClaimsFromTokenInfo(ti)
			require.True(t, ok)
			assert.Equal(t, "user-1", c.Subject)
			assert.Equal(t, clientID, c.ClientID)
			assert.Equal(t, e.url+"/mcp", c.Audience)
			assert.Equal(t, ti.Expiration, c.ExpiresAt)
		})
	}
}

func TestTokenVerifier_Refusals(t *testing.T) {
	tests := []struct {
		name     string
		setup    func(t *testing.T, e *env, tok, clientID string) string // returns the token to present
		sentinel error
		msg      string
	}{
		{"garbage", func(*testing.T, *env, string, string) string { return "not-a-token" },
			oauthproxy.ErrInvalidToken, "invalid token: the access token is invalid"},
		{"expired", func(_ *testing.T, e *env, tok, _ string) string {
			e.clock.Advance(2 * time.Hour)
			return tok
		}, oauthproxy.ErrTokenExpired, "invalid token: the access token expired"},
		{"revoked", func(t *testing.T, e *env, tok, clientID string) string {
			require.NoError(t, e.proxy.RevokeToken(context.Background(), &oauthproxy.RevocationRequest{
				Token: tok, Client: oauthproxy.ClientCredentials{ClientID: clientID, Method: "none"},
			}))
			return tok
		}, oauthproxy.ErrTokenRevoked, "invalid token: the access token was revoked"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t, nil)
			tok, clientID := e.issueToken(t)
			ti, err := mcpauth.TokenVerifier(e.proxy)(context.Background(), tt.setup(t, e, tok, clientID), nil)
			assert.Nil(t, ti)
			assert.ErrorIs(t, err, auth.ErrInvalidToken, "the go-sdk answers 401")
			assert.ErrorIs(t, err, tt.sentinel)
			assert.EqualError(t, err, tt.msg, "no internal detail in the message the go-sdk sends")
		})
	}
}

// A storage failure is not the client's fault: no 401, and the go-sdk's
// response body gets a fixed message, not the storage error.
func TestTokenVerifier_StorageFailure(t *testing.T) {
	store := &flakyStorage{TokenStorage: storage.NewMemory()}
	e := newEnv(t, func(c *oauthproxy.Config) {
		c.TokenStorage = store
		c.JWTSigningKey = []byte(rand.Text() + rand.Text())
		c.EncryptionKey = []byte((rand.Text() + rand.Text())[:32])
		c.ConsentSigningKey = []byte(rand.Text() + rand.Text())
	})
	tok, _ := e.issueToken(t)
	store.fail(errStorageDown)

	_, err := mcpauth.TokenVerifier(e.proxy)(context.Background(), tok, nil)
	require.Error(t, err)
	assert.NotErrorIs(t, err, auth.ErrInvalidToken)
	assert.ErrorIs(t, err, errStorageDown, "the cause stays reachable")
	assert.NotContains(t, err.Error(), errStorageDown.Error())

	rec := httptest.NewRecorder()
	req := httptest.NewRequest(http.MethodPost, "/mcp", nil)
	req.Header.Set("Authorization", "Bearer "+tok)
	auth.RequireBearerToken(mcpauth.TokenVerifier(e.proxy), nil)(okHandler()).ServeHTTP(rec, req)
	assert.Equal(t, http.StatusInternalServerError, rec.Code)
	assert.NotContains(t, rec.Body.String(), errStorageDown.Error())
}

// Behind both middlewares, a handler finds the claims of its own request in
// the go-sdk's TokenInfo, and refusals carry the proxy's RFC 6750 challenge.
func TestStackedMiddleware(t *testing.T) {
	e := newEnv(t, nil)
	verify := auth.RequireBearerToken(mcpauth.TokenVerifier(e.proxy), nil)
	handler := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, ok := mcpauth.ClaimsFromTokenInfo(auth.TokenInfoFromContext(r.Context()))
		if !ok {
			http.Error(w, "no claims", http.StatusInternalServerError)
			return
		}
		_, _ = io.WriteString(w, c.ClientID)
	})
	e.mux.Handle("/mcp", e.proxy.RequireBearer(verify(handler)))
	e.mux.Handle("/admin", e.proxy.RequireBearer(verify(handler), "admin"))

	tokA, clientA := e.issueToken(t)
	tokB, clientB := e.issueToken(t)
	for tok, want := range map[string]string{tokA: clientA, tokB: clientB} {
		status, _, body := e.get(t, "/mcp", tok)
		assert.Equal(t, http.StatusOK, status)
		assert.Equal(t, want, body)
	}

	status, challenge, _ := e.get(t, "/mcp", "not-a-token")
	assert.Equal(t, http.StatusUnauthorized, status)
	assert.Contains(t, challenge, `error="invalid_token"`)
	assert.Contains(t, challenge, `resource_metadata="`+e.proxy.ProtectedResourceMetadataURL()+`"`)

	status, challenge, _ = e.get(t, "/admin", tokA)
	assert.Equal(t, http.StatusForbidden, status)
	assert.Contains(t, challenge, `error="insufficient_scope"`)
	assert.Contains(t, challenge, `scope="admin"`)
}

// In one go-sdk session whose client switches from client A's token to
// client B's, ClaimsFromRequest follows the token of each call, while the
// tool's context keeps the claims of the request that opened the session —
// why the package doc says to use ClaimsFromRequest. If the go-sdk starts
// running tools on each request's context, the second half fails: update
// the docs.
func TestClaimsFromRequest_PerCall(t *testing.T) {
	e := newEnv(t, nil)
	type seen struct{ FromRequest, FromContext string }
	server := mcp.NewServer(&mcp.Implementation{Name: "t", Version: "1"}, nil)
	mcp.AddTool(server, &mcp.Tool{Name: "whoami"}, func(ctx context.Context, req *mcp.CallToolRequest, _ struct{}) (*mcp.CallToolResult, seen, error) {
		var out seen
		if c, ok := mcpauth.ClaimsFromRequest(req); ok {
			out.FromRequest = c.ClientID
		}
		if c, ok := oauthproxy.ClaimsFromContext(ctx); ok {
			out.FromContext = c.ClientID
		}
		return nil, out, nil
	})
	t.Cleanup(func() {
		for ss := range server.Sessions() {
			_ = ss.Close()
		}
	})
	streamable := mcp.NewStreamableHTTPHandler(func(*http.Request) *mcp.Server { return server }, nil)
	e.mux.Handle("/mcp", e.proxy.RequireBearer(auth.RequireBearerToken(mcpauth.TokenVerifier(e.proxy), nil)(streamable)))
	tokA, clientA := e.issueToken(t)
	tokB, clientB := e.issueToken(t)

	var mu sync.Mutex
	bearer := tokA
	hc := &http.Client{Transport: roundTripFunc(func(r *http.Request) (*http.Response, error) {
		mu.Lock()
		r = r.Clone(r.Context())
		r.Header.Set("Authorization", "Bearer "+bearer)
		mu.Unlock()
		return http.DefaultTransport.RoundTrip(r)
	})}
	client := mcp.NewClient(&mcp.Implementation{Name: "t", Version: "1"}, nil)
	session, err := client.Connect(context.Background(), &mcp.StreamableClientTransport{
		Endpoint: e.url + "/mcp", HTTPClient: hc, DisableStandaloneSSE: true, MaxRetries: -1,
	}, nil)
	require.NoError(t, err)
	defer session.Close()

	call := func(token string) seen {
		mu.Lock()
		bearer = token
		mu.Unlock()
		res, err := session.CallTool(context.Background(), &mcp.CallToolParams{Name: "whoami"})
		require.NoError(t, err)
		raw, err := json.Marshal(res.StructuredContent)
		require.NoError(t, err)
		var got seen
		require.NoError(t, json.Unmarshal(raw, &got))
		return got
	}
	assert.Equal(t, seen{FromRequest: clientA, FromContext: clientA}, call(tokA))
	got := call(tokB)
	assert.Equal(t, clientB, got.FromRequest, "ClaimsFromRequest: the token that carried the call")
	assert.Equal(t, clientA, got.FromContext, "the go-sdk's tool context: the request that opened the session")
}

type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

// The go-sdk middleware alone, with RequireBearerTokenOptions, still points
// clients at the proxy's metadata and enforces scopes.
func TestRequireBearerTokenOptions(t *testing.T) {
	e := newEnv(t, nil)
	opts := mcpauth.RequireBearerTokenOptions(e.proxy, "openid")
	assert.Equal(t, e.url+"/.well-known/oauth-protected-resource/mcp", opts.ResourceMetadataURL)
	e.mux.Handle("/mcp", auth.RequireBearerToken(mcpauth.TokenVerifier(e.proxy), opts)(okHandler()))
	e.mux.Handle("/admin", auth.RequireBearerToken(mcpauth.TokenVerifier(e.proxy), mcpauth.RequireBearerTokenOptions(e.proxy, "admin"))(okHandler()))
	tok, _ := e.issueToken(t)

	status, _, _ := e.get(t, "/mcp", tok)
	assert.Equal(t, http.StatusOK, status)
	status, challenge, _ := e.get(t, "/mcp", "")
	assert.Equal(t, http.StatusUnauthorized, status)
	assert.Contains(t, challenge, `resource_metadata="`+opts.ResourceMetadataURL+`"`)
	status, _, _ = e.get(t, "/admin", tok)
	assert.Equal(t, http.StatusForbidden, status)
}

// The go-sdk document says exactly what the proxy serves.
func TestProtectedResourceMetadata(t *testing.T) {
	e := newEnv(t, func(c *oauthproxy.Config) { c.Scopes = []string{"openid", "email", "profile"} })
	e.mux.Handle("/prm", auth.ProtectedResourceMetadataHandler(mcpauth.ProtectedResourceMetadata(e.proxy)))

	fromProxy := e.getJSON(t, strings.TrimPrefix(e.proxy.ProtectedResourceMetadataURL(), e.url))
	fromSDK := e.getJSON(t, "/prm")
	assert.Equal(t, fromProxy, fromSDK)
	assert.Equal(t, e.url+"/mcp", fromSDK["resource"])
	assert.Equal(t, []any{e.url}, fromSDK["authorization_servers"])
}

func TestClaimsFromRequest(t *testing.T) {
	c := &oauthproxy.Claims{Subject: "user-1", ClientID: "client-1", Extra: map[string]any{"email": "user@example.com"}}
	with := func(ti *auth.TokenInfo) *mcp.CallToolRequest {
		return &mcp.CallToolRequest{Extra: &mcp.RequestExtra{TokenInfo: ti}}
	}
	tests := []struct {
		name string
		req  mcp.Request
		want *oauthproxy.Claims
	}{
		{"nil request", nil, nil},
		{"no extra", &mcp.CallToolRequest{}, nil},
		{"no token info", with(nil), nil},
		{"token info from another verifier", with(&auth.TokenInfo{UserID: "x", Extra: map[string]any{mcpauth.ClaimsKey: "forged"}}), nil},
		{"from TokenVerifier", with(mcpauth.TokenInfo(c)), c},
		{"another request type", &mcp.ReadResourceRequest{Extra: &mcp.RequestExtra{TokenInfo: mcpauth.TokenInfo(c)}}, c},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, ok := mcpauth.ClaimsFromRequest(tt.req)
			assert.Equal(t, tt.want != nil, ok)
			assert.Same(t, tt.want, got)
		})
	}
}

// An upstream claim cannot take the key the claims live under, and TokenInfo
// does not share the claims' maps and slices.
func TestTokenInfo_ClaimsKeyWins(t *testing.T) {
	c := &oauthproxy.Claims{Subject: "u", Scopes: []string{"a"}, Extra: map[string]any{mcpauth.ClaimsKey: "spoofed", "name": "N"}}
	ti := mcpauth.TokenInfo(c)
	got, ok := mcpauth.ClaimsFromTokenInfo(ti)
	require.True(t, ok)
	assert.Same(t, c, got)
	assert.Equal(t, "N", ti.Extra["name"])
	ti.Scopes[0] = "changed"
	ti.Extra["name"] = "changed"
	assert.Equal(t, []string{"a"}, c.Scopes)
	assert.Equal(t, "N", c.Extra["name"])
}

// env is a proxy in front of the fake upstream, served on a loopback port,
// with a fake clock shared by both.
type env struct {
	proxy *oauthproxy.Proxy
	idp   *oauthproxytest.Server
	clock *clock
	url   string
	mux   *http.ServeMux
}

func newEnv(t *testing.T, configure func(*oauthproxy.Config)) *env {
	t.Helper()
	e := &env{clock: &clock{now: time.Now()}, mux: http.NewServeMux()}
	secret := rand.Text()
	e.idp = oauthproxytest.Start(t, oauthproxytest.Options{
		ClientID: "proxy", ClientSecret: secret, IssueIDToken: true, RequirePKCE: true, Now: e.clock.Now,
	})
	srv := httptest.NewServer(e.mux)
	t.Cleanup(srv.Close)
	e.url = srv.URL
	cfg := oauthproxy.Config{
		BaseURL:                       srv.URL,
		UpstreamAuthorizationEndpoint: e.idp.AuthorizationEndpoint(),
		UpstreamTokenEndpoint:         e.idp.TokenEndpoint(),
		UpstreamClientID:              "proxy",
		UpstreamClientSecret:          secret,
		DisableConsent:                true, // the browser part is all redirects
		Now:                           e.clock.Now,
		Logger:                        quietLogger(),
	}
	if configure != nil {
		configure(&cfg)
	}
	p, err := oauthproxy.New(cfg)
	require.NoError(t, err)
	t.Cleanup(p.Destroy)
	e.proxy = p
	e.mux.Handle("/", p.Handler())
	return e
}

const clientRedirect = "http://127.0.0.1:9/callback"

// issueToken registers a public client and runs the authorization code flow
// for it (consent is off, the fake upstream approves at once), returning the
// access token and the client_id.
func (e *env) issueToken(t *testing.T) (token, clientID string) {
	t.Helper()
	ctx := context.Background()
	info, err := e.proxy.RegisterClient(ctx, &oauthproxy.ClientMetadata{
		RedirectURIs: []string{clientRedirect}, TokenEndpointAuthMethod: "none",
		GrantTypes: []string{"authorization_code", "refresh_token"},
	})
	require.NoError(t, err)
	verifier := oauth2.GenerateVerifier()
	cfg := &oauth2.Config{
		ClientID:    info.ClientID,
		Endpoint:    oauth2.Endpoint{AuthURL: e.url + "/oauth/authorize"},
		RedirectURL: clientRedirect,
		Scopes:      []string{"openid", "email"},
	}
	res, err := oauthproxytest.NewBrowser(t).Authorize(cfg.AuthCodeURL("st", oauth2.S256ChallengeOption(verifier), oauth2.SetAuthURLParam("resource", e.url+"/mcp")))
	require.NoError(t, err)
	require.Empty(t, res.Pages, "no consent page, no sign-in page: redirects only")
	tr, err := e.proxy.ExchangeAuthorizationCode(ctx, &oauthproxy.TokenRequest{
		GrantType: "authorization_code", Code: res.Code, RedirectURI: clientRedirect,
		CodeVerifier: verifier, Resource: e.url + "/mcp",
		Client: oauthproxy.ClientCredentials{ClientID: info.ClientID, Method: "none"},
	})
	require.NoError(t, err)
	return tr.AccessToken, info.ClientID
}

// get sends GET path with the bearer token (if any) and returns the status,
// the WWW-Authenticate header and the body.
func (e *env) get(t *testing.T, path, token string) (int, string, string) {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, e.url+path, nil)
	require.NoError(t, err)
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return resp.StatusCode, resp.Header.Get("WWW-Authenticate"), string(body)
}

func (e *env) getJSON(t *testing.T, path string) map[string]any {
	t.Helper()
	status, _, body := e.get(t, path, "")
	require.Equal(t, http.StatusOK, status, body)
	var m map[string]any
	require.NoError(t, json.Unmarshal([]byte(body), &m))
	return m
}

func okHandler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { _, _ = io.WriteString(w, "ok") })
}

// clock is a settable clock.
type clock struct {
	mu  sync.Mutex
	now time.Time
}

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

var errStorageDown = errors.New("storage: connection refused to 10.1.2.3:6379")

// flakyStorage fails every Get once fail has been called.
type flakyStorage struct {
	storage.TokenStorage
	mu  sync.Mutex
	err error
}

func (s *flakyStorage) fail(err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.err = err
}

func (s *flakyStorage) Get(ctx context.Context, key string) ([]byte, error) {
	s.mu.Lock()
	err := s.err
	s.mu.Unlock()
	if err != nil {
		return nil, err
	}
	return s.TokenStorage.Get(ctx, key)
}

func quietLogger() *slog.Logger { return slog.New(slog.DiscardHandler) }
