package gateway_test

import (
	"encoding/json"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/oauthproxy-go/oauthproxy/gateway"
	"github.com/oauthproxy-go/oauthproxy/oauthproxytest"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// seenRequests is a backend that records the requests it gets and answers
// a JSON-RPC result.
type seenRequests struct {
	mu   sync.Mutex
	reqs []*http.Request
	body []string
}

func (s *seenRequests) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	b := make([]byte, 1<<16)
	n, _ := r.Body.Read(b)
	s.mu.Lock()
	s.reqs = append(s.reqs, r.Clone(r.Context()))
	s.body = append(s.body, string(b[:n]))
	s.mu.Unlock()
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Mcp-Session-Id", "session-from-backend")
	_, _ = w.Write([]byte(`{"jsonrpc":"2.0","id":1,"result":{}}`))
}

func (s *seenRequests) last(t *testing.T) *http.Request {
	t.Helper()
	s.mu.Lock()
	defer s.mu.Unlock()
	require.NotEmpty(t, s.reqs, "the backend got a request")
	return s.reqs[len(s.reqs)-1]
}

func (s *seenRequests) count() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.reqs)
}

// The backend learns who calls from the gateway's headers, and only from
// them: identity headers the client sent, in any spelling, are removed
// first; the client's Authorization header and the proxy's own cookies
// never reach it (in the spirit of S11; SECURITY.md lists no gateway line yet).
func TestSecurity_S11_GatewayForwardsIdentityNotTheClientsToken(t *testing.T) {
	backend := &seenRequests{}
	h := newHarness(t, backend)
	tok := h.signIn(t)

	spoofed := http.Header{
		"X-Forwarded-User":               {"admin"},
		"x-forwarded-email":              {"admin@evil.example"}, // not canonical: a raw map entry
		"X-FORWARDED-CLIENT-ID":          {"trusted-client"},
		"X-Forwarded-Scopes":             {"admin"},
		"X-Forwarded-Preferred-Username": {"root"},
		"X-Forwarded-Access-Token":       {"stolen"},
		"X-Oauthproxy-Assertion":         {"forged"},
		"Cookie":                         {"oauthproxy-csrf=c1; app=kept; __Host-oauthproxy-bind-abc=b1"},
		"Mcp-Session-Id":                 {"session-from-client"},
	}
	resp := h.post(t, tok.AccessToken, `{"jsonrpc":"2.0","id":1,"method":"tools/list"}`, spoofed)
	require.Equal(t, http.StatusOK, resp.StatusCode, readAll(t, resp.Body))
	assert.Equal(t, "session-from-backend", resp.Header.Get("Mcp-Session-Id"), "the backend's session id reaches the client")

	got := backend.last(t)
	assert.Empty(t, got.Header.Get("Authorization"), "the client's bearer token never reaches the backend")
	assert.Equal(t, oauthproxytest.DefaultUser.Subject, got.Header.Get("X-Forwarded-User"))
	assert.Equal(t, []string{oauthproxytest.DefaultUser.Email}, got.Header.Values("X-Forwarded-Email"))
	assert.NotEqual(t, "trusted-client", got.Header.Get("X-Forwarded-Client-Id"))
	assert.NotEmpty(t, got.Header.Get("X-Forwarded-Client-Id"))
	assert.NotContains(t, got.Header.Get("X-Forwarded-Scopes"), "admin")
	assert.NotContains(t, got.Header.Get("X-Forwarded-Preferred-Username"), "root")
	assert.Empty(t, got.Header.Values("X-Forwarded-Access-Token"), "no upstream token unless pass_access_token")
	assert.Empty(t, got.Header.Values("X-Oauthproxy-Assertion"), "no assertion unless sign_assertion")
	assert.Equal(t, "app=kept", got.Header.Get("Cookie"), "the proxy's cookies stay with the proxy")
	assert.Equal(t, "session-from-client", got.Header.Get("Mcp-Session-Id"), "Mcp-Session-Id passes through")
	for name := range got.Header {
		assert.False(t, strings.EqualFold(name, "x-forwarded-email") && name != "X-Forwarded-Email", "no spoofed variant %q", name)
	}
	assert.NotContains(t, h.logs.String(), tok.AccessToken, "tokens are never logged")
}

// Renamed identity headers are set under their new names, and a client
// sending the default names gets them removed all the same.
func TestGateway_RenamedIdentityHeaders(t *testing.T) {
	backend := &seenRequests{}
	h := newHarness(t, backend, func(c *gateway.Config) {
		c.Backend.Headers = gateway.IdentityHeaders{User: "X-Auth-Subject", Email: "X-Auth-Email"}
	})
	tok := h.signIn(t)
	resp := h.post(t, tok.AccessToken, `{}`, http.Header{"X-Forwarded-User": {"admin"}, "X-Auth-Subject": {"admin"}})
	require.Equal(t, http.StatusOK, resp.StatusCode)
	got := backend.last(t)
	assert.Equal(t, oauthproxytest.DefaultUser.Subject, got.Header.Get("X-Auth-Subject"))
	assert.Equal(t, oauthproxytest.DefaultUser.Email, got.Header.Get("X-Auth-Email"))
	assert.Empty(t, got.Header.Values("X-Forwarded-User"), "the default name is stripped too")
}

// With sign_assertion the backend gets a JWT it can verify with the shared
// key; a forged or expired one fails verification.
func TestGateway_SignedAssertion(t *testing.T) {
	key := []byte(strings.Repeat("k", 32))
	backend := &seenRequests{}
	h := newHarness(t, backend, func(c *gateway.Config) {
		c.Backend.SignAssertion = true
		c.Secrets.AssertionKey = key
	})
	tok := h.signIn(t)
	resp := h.post(t, tok.AccessToken, `{}`, nil)
	require.Equal(t, http.StatusOK, resp.StatusCode)
	assertion := backend.last(t).Header.Get("X-Oauthproxy-Assertion")
	require.NotEmpty(t, assertion)

	claims, err := gateway.VerifyAssertion(assertion, key, h.url, h.cfg.Backend.URL)
	require.NoError(t, err)
	assert.Equal(t, oauthproxytest.DefaultUser.Subject, claims.Subject)
	assert.Equal(t, oauthproxytest.DefaultUser.Email, claims.Email)
	assert.NotEmpty(t, claims.ClientID)
	assert.Equal(t, gateway.AssertionTTL, claims.ExpiresAt.Sub(claims.IssuedAt.Time))

	_, err = gateway.VerifyAssertion(assertion, []byte(strings.Repeat("x", 32)), h.url, h.cfg.Backend.URL)
	assert.Error(t, err, "another key")
	_, err = gateway.VerifyAssertion(assertion, key, h.url, "http://other-backend")
	assert.Error(t, err, "another audience")
}

// pass_access_token hands the backend the user's upstream access token.
func TestGateway_PassAccessToken(t *testing.T) {
	backend := &seenRequests{}
	h := newHarness(t, backend, func(c *gateway.Config) { c.Backend.PassAccessToken = true })
	tok := h.signIn(t)
	resp := h.post(t, tok.AccessToken, `{}`, nil)
	require.Equal(t, http.StatusOK, resp.StatusCode)
	up, err := h.gw.Proxy().LoadUpstreamTokens(t.Context(), tok.AccessToken)
	require.NoError(t, err)
	assert.Equal(t, up.AccessToken, backend.last(t).Header.Get("X-Forwarded-Access-Token"))
	assert.NotEqual(t, tok.AccessToken, up.AccessToken, "the upstream's token, not the gateway's")
}

// A request without a valid token is answered by the bearer check and
// never reaches the backend.
func TestGateway_NoTokenNeverReachesTheBackend(t *testing.T) {
	backend := &seenRequests{}
	h := newHarness(t, backend)
	for _, token := range []string{"", "not-a-token"} {
		resp := h.post(t, token, `{}`, nil)
		assert.Equal(t, http.StatusUnauthorized, resp.StatusCode)
		assert.Contains(t, resp.Header.Get("WWW-Authenticate"), "resource_metadata=")
	}
	assert.Zero(t, backend.count())
}

// jsonRPCError decodes the gateway's own JSON-RPC error answer.
func jsonRPCError(t *testing.T, resp *http.Response) (code int, message string) {
	t.Helper()
	assert.Equal(t, "application/json", resp.Header.Get("Content-Type"))
	var body struct {
		JSONRPC string `json:"jsonrpc"`
		ID      any    `json:"id"`
		Error   struct {
			Code    int    `json:"code"`
			Message string `json:"message"`
		} `json:"error"`
	}
	require.NoError(t, json.NewDecoder(resp.Body).Decode(&body))
	assert.Equal(t, "2.0", body.JSONRPC)
	assert.Nil(t, body.ID)
	return body.Error.Code, body.Error.Message
}

func TestGateway_BackendDownIs502(t *testing.T) {
	h := newHarness(t, &seenRequests{})
	tok := h.signIn(t)
	h.backend.Close()
	resp := h.post(t, tok.AccessToken, `{"jsonrpc":"2.0","id":1,"method":"tools/list"}`, nil)
	require.Equal(t, http.StatusBadGateway, resp.StatusCode)
	code, msg := jsonRPCError(t, resp)
	assert.Equal(t, gateway.CodeBackendUnavailable, code)
	assert.Contains(t, msg, "unavailable")
}

func TestGateway_SlowBackendIs504(t *testing.T) {
	release := make(chan struct{})
	slow := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-release:
		case <-r.Context().Done():
		}
	})
	h := newHarness(t, slow, func(c *gateway.Config) { c.Backend.ResponseHeaderTimeout = 50 * time.Millisecond })
	defer close(release)
	tok := h.signIn(t)
	resp := h.post(t, tok.AccessToken, `{"jsonrpc":"2.0","id":1,"method":"tools/list"}`, nil)
	require.Equal(t, http.StatusGatewayTimeout, resp.StatusCode)
	code, _ := jsonRPCError(t, resp)
	assert.Equal(t, gateway.CodeBackendTimeout, code)
}

// Request bodies are bounded, whether the client declares the length or
// streams it chunked.
func TestGateway_RequestBodyIsBounded(t *testing.T) {
	backend := &seenRequests{}
	h := newHarness(t, backend, func(c *gateway.Config) { c.Backend.MaxRequestBytes = 1024 })
	tok := h.signIn(t)
	big := `{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"x":"` + strings.Repeat("a", 2048) + `"}}`
	resp := h.post(t, tok.AccessToken, big, nil)
	require.Equal(t, http.StatusRequestEntityTooLarge, resp.StatusCode)
	code, _ := jsonRPCError(t, resp)
	assert.Equal(t, gateway.CodeRequestTooLarge, code)
	assert.Zero(t, backend.count(), "a body declared too large is refused before the backend")

	req, err := http.NewRequest(http.MethodPost, h.mcpURL, &chunked{r: strings.NewReader(big)})
	require.NoError(t, err)
	req.Header.Set("Authorization", "Bearer "+tok.AccessToken)
	req.ContentLength = -1
	resp2, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp2.Body.Close()
	require.Equal(t, http.StatusRequestEntityTooLarge, resp2.StatusCode)

	ok := h.post(t, tok.AccessToken, `{"jsonrpc":"2.0","id":1,"method":"tools/list"}`, nil)
	assert.Equal(t, http.StatusOK, ok.StatusCode, "a body within the bound goes through")
}

// chunked hides the length of its reader, so the request is sent chunked.
type chunked struct{ r *strings.Reader }

func (c *chunked) Read(p []byte) (int, error) { return c.r.Read(p) }
