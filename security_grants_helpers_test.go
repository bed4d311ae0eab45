package oauthproxy_test

// Helpers for security_replay_test.go, security_revocation_test.go,
// security_resource_test.go and security_storage_test.go: a storage
// wrapper that keeps a copy of everything written, a recorder of the tokens
// the fake upstream issued, a fake RFC 7009 upstream revocation endpoint, and
// small request helpers. Names start with "sg" to stay clear of the other
// test files of the package.

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/oauthproxy-go/oauthproxy"
	"github.com/oauthproxy-go/oauthproxy/storage"
	"github.com/stretchr/testify/require"
)

// sgPersistentStore is a store that says its data outlives the process or is
// shared between processes (storage.Persistence), as Redis or bolt do.
type sgPersistentStore struct{ storage.TokenStorage }

func (sgPersistentStore) Persistent() bool { return true }

// sgUpstreamRecorder is the proxy's HTTP transport to the upstream. It keeps
// every token the upstream token endpoint issued, so a test knows the
// upstream's secrets without trusting the proxy to report them.
type sgUpstreamRecorder struct {
	mu     sync.Mutex
	issued []string
}

func (r *sgUpstreamRecorder) RoundTrip(req *http.Request) (*http.Response, error) {
	resp, err := http.DefaultTransport.RoundTrip(req)
	if err != nil || req.URL.Path != "/token" {
		return resp, err
	}
	body, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil {
		return nil, err
	}
	resp.Body = io.NopCloser(bytes.NewReader(body))
	var tok map[string]any
	if json.Unmarshal(body, &tok) == nil {
		r.mu.Lock()
		for _, k := range []string{"access_token", "refresh_token", "id_token"} {
			if s, _ := tok[k].(string); s != "" {
				r.issued = append(r.issued, s)
			}
		}
		r.mu.Unlock()
	}
	return resp, nil
}

// tokens returns every upstream token issued so far.
func (r *sgUpstreamRecorder) tokens() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]string(nil), r.issued...)
}

// withSGUpstreamRecorder routes the proxy's upstream calls through rec.
func withSGUpstreamRecorder(rec *sgUpstreamRecorder) envOption {
	return withConfig(func(c *oauthproxy.Config) {
		c.HTTPClient = &http.Client{Transport: rec, Timeout: 10 * time.Second}
	})
}

// sgUpstreamRevocation is a fake RFC 7009 revocation endpoint at the upstream.
// It records each request and answers 200, as §2.2 says.
type sgUpstreamRevocation struct {
	srv  *httptest.Server
	mu   sync.Mutex
	reqs []sgRevocationCall
}

// sgRevocationCall is what the upstream revocation endpoint received.
type sgRevocationCall struct {
	Token, Hint       string
	BasicID, BasicPwd string
	HasBasic          bool
}

func newSGUpstreamRevocation(t *testing.T) *sgUpstreamRevocation {
	t.Helper()
	u := &sgUpstreamRevocation{}
	u.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPost || r.ParseForm() != nil {
			http.Error(w, `{"error":"invalid_request"}`, http.StatusBadRequest)
			return
		}
		call := sgRevocationCall{Token: r.PostForm.Get("token"), Hint: r.PostForm.Get("token_type_hint")}
		if id, pwd, ok := r.BasicAuth(); ok {
			// RFC 6749 §2.3.1: both are form-urlencoded before Basic encoding.
			call.HasBasic = true
			call.BasicID, _ = url.QueryUnescape(id)
			call.BasicPwd, _ = url.QueryUnescape(pwd)
		}
		u.mu.Lock()
		u.reqs = append(u.reqs, call)
		u.mu.Unlock()
		w.WriteHeader(http.StatusOK)
	}))
	t.Cleanup(u.srv.Close)
	return u
}

func (u *sgUpstreamRevocation) endpoint() string { return u.srv.URL + "/revoke" }

func (u *sgUpstreamRevocation) calls() []sgRevocationCall {
	u.mu.Lock()
	defer u.mu.Unlock()
	return append([]sgRevocationCall(nil), u.reqs...)
}

// sgResponse is a raw HTTP answer.
type sgResponse struct {
	Status int
	Header http.Header
	Body   string
}

// json decodes the body as a JSON object.
func (r sgResponse) json(t *testing.T) map[string]any {
	t.Helper()
	var m map[string]any
	require.NoError(t, json.Unmarshal([]byte(r.Body), &m), "body: %q", r.Body)
	return m
}

// sgPost posts form to path on the env's server with optional Basic credentials.
func sgPost(t *testing.T, rawURL string, form url.Values, basicID, basicSecret string) sgResponse {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, rawURL, strings.NewReader(form.Encode()))
	require.NoError(t, err)
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if basicID != "" {
		req.SetBasicAuth(url.QueryEscape(basicID), url.QueryEscape(basicSecret))
	}
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return sgResponse{Status: resp.StatusCode, Header: resp.Header, Body: string(body)}
}

// sgRevoke posts an RFC 7009 request for token to /oauth/revoke, authenticating
// as c the way it registered. hint may be empty.
func (e *env) sgRevoke(c registered, token, hint string) sgResponse {
	e.t.Helper()
	form := url.Values{"token": {token}}
	if hint != "" {
		form.Set("token_type_hint", hint)
	}
	form, id, secret := secAuthForm(c, form)
	return sgPost(e.t, e.srv.URL+"/oauth/revoke", form, id, secret)
}

// sgRequireRevoked checks that a grant's tokens are dead: the access token gets
// 401 invalid_token at /mcp and ErrTokenRevoked from LoadUpstreamTokens, and
// the refresh token gets invalid_grant.
func (e *env) sgRequireRevoked(c registered, access, refresh string) {
	e.t.Helper()
	e.sgRequireDead(c, access, refresh, oauthproxy.ErrTokenRevoked)
}

// sgRequireDead is sgRequireRevoked with the LoadUpstreamTokens error given:
// a token revoked by RFC 7009 in pass-through mode may be forgotten outright
// (ErrInvalidToken) rather than remembered as revoked.
func (e *env) sgRequireDead(c registered, access, refresh string, loadErrs ...error) {
	e.t.Helper()
	resp, _ := e.callMCP(access)
	require.Equal(e.t, http.StatusUnauthorized, resp.StatusCode, "the access token must be refused")
	require.Contains(e.t, resp.Header.Get("WWW-Authenticate"), `error="invalid_token"`)
	_, err := e.proxy.LoadUpstreamTokens(context.Background(), access)
	require.Error(e.t, err)
	require.True(e.t, slices.ContainsFunc(loadErrs, func(want error) bool { return errors.Is(err, want) }),
		"LoadUpstreamTokens: got %v, want one of %v", err, loadErrs)
	if refresh != "" {
		res := e.refresh(c, refresh)
		require.Equal(e.t, http.StatusBadRequest, res.Status, "the refresh token must be refused: %v", res.Body)
		require.Equal(e.t, "invalid_grant", res.str("error"))
		require.Empty(e.t, res.str("access_token"))
	}
}

// sgRequireLive checks that a grant's tokens still work, and returns the
// refresh token that replaced refresh.
func (e *env) sgRequireLive(c registered, access, refresh string) string {
	e.t.Helper()
	resp, _ := e.callMCP(access)
	require.Equal(e.t, http.StatusOK, resp.StatusCode, "the access token must still work")
	res := e.refresh(c, refresh)
	require.Equal(e.t, http.StatusOK, res.Status, "the refresh token must still work: %v", res.Body)
	return res.str("refresh_token")
}

// sgLogBuffer collects a slog JSON handler's output, safe for concurrent use.
type sgLogBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *sgLogBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

// records returns the decoded log records.
func (b *sgLogBuffer) records(t *testing.T) []map[string]any {
	t.Helper()
	b.mu.Lock()
	defer b.mu.Unlock()
	var out []map[string]any
	for _, line := range strings.Split(strings.TrimSpace(b.buf.String()), "\n") {
		if line == "" {
			continue
		}
		var rec map[string]any
		require.NoError(t, json.Unmarshal([]byte(line), &rec), line)
		out = append(out, rec)
	}
	return out
}

func newSGLogger() (*slog.Logger, *sgLogBuffer) {
	b := &sgLogBuffer{}
	return slog.New(slog.NewJSONHandler(b, &slog.HandlerOptions{Level: slog.LevelDebug})), b
}

// sgKey is a 32-byte key made of one repeated letter.
func sgKey(letter string) []byte { return []byte(strings.Repeat(letter, 32)) }

// sgConfig is a valid Config that New accepts without any server running:
// New never calls the upstream.
func sgConfig() oauthproxy.Config {
	return oauthproxy.Config{
		BaseURL:                       "http://127.0.0.1:9",
		UpstreamAuthorizationEndpoint: "http://127.0.0.1:9/authorize",
		UpstreamTokenEndpoint:         "http://127.0.0.1:9/token",
		UpstreamClientID:              "upstream-client",
		UpstreamClientSecret:          "upstream-secret",
		JWTSigningKey:                 sgKey("j"),
		EncryptionKey:                 sgKey("e"),
		ConsentSigningKey:             sgKey("c"),
		Logger:                        slog.New(slog.NewTextHandler(io.Discard, nil)),
	}
}

// sgNew builds a proxy from cfg and destroys it when the test ends.
func sgNew(t *testing.T, cfg oauthproxy.Config) *oauthproxy.Proxy {
	t.Helper()
	p, err := oauthproxy.New(cfg)
	require.NoError(t, err)
	t.Cleanup(p.Destroy)
	return p
}

// sgJWTHeader reads a JWT's header without checking it.
func sgJWTHeader(t *testing.T, token string) map[string]any {
	t.Helper()
	tok, _, err := jwt.NewParser().ParseUnverified(token, jwt.MapClaims{})
	require.NoError(t, err)
	return tok.Header
}

// sgServe runs req through h and returns the recorded answer.
func sgServe(h http.Handler, req *http.Request) *httptest.ResponseRecorder {
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return rec
}

// sgBearerRequest is a request to the protected endpoint carrying token.
func sgBearerRequest(token string) *http.Request {
	req := httptest.NewRequest(http.MethodPost, "/mcp", nil)
	req.Header.Set("Authorization", "Bearer "+token)
	return req
}

// sgOK is a protected handler that answers 200 "ok".
var sgOK = http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { _, _ = io.WriteString(w, "ok") })

// withPassThrough turns on pass-through mode (DisableTokenSwap).
func withPassThrough() envOption {
	return withConfig(func(c *oauthproxy.Config) { c.DisableTokenSwap = true })
}

// withClockedStore makes the proxy read time from clk, storage expiry included.
func withClockedStore(clk *secClock) envOption {
	return withConfig(func(c *oauthproxy.Config) {
		c.Now = clk.Now
		c.TokenStorage = storage.NewMemoryWithClock(clk.Now)
	})
}
