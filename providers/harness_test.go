package providers_test

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/oauthproxy-go/oauthproxy"
	"github.com/oauthproxy-go/oauthproxy/internal/pkce"
	"github.com/oauthproxy-go/oauthproxy/oauthproxytest"
	"github.com/stretchr/testify/require"
)

// The proxy's one client at the fake provider.
const (
	upstreamID     = "proxy-at-idp"
	upstreamSecret = "upstream-secret"
)

// clientRedirect is where the MCP client under test gets its answer; nothing
// listens there, the browser stops when redirected to it.
const clientRedirect = "http://127.0.0.1:9/client/callback"

// newIdP starts a fake provider with the proxy's client filled in.
func newIdP(t *testing.T, opts oauthproxytest.Options) *oauthproxytest.Server {
	t.Helper()
	opts.ClientID, opts.ClientSecret = upstreamID, upstreamSecret
	idp := oauthproxytest.NewServer(opts)
	t.Cleanup(idp.Close)
	return idp
}

// baseConfig is what a user writes before calling a preset.
func baseConfig() oauthproxy.Config {
	return oauthproxy.Config{
		UpstreamClientID:     upstreamID,
		UpstreamClientSecret: upstreamSecret,
	}
}

// proxy is a proxy built from a preset's Config, served on a loopback port.
type proxy struct {
	t   *testing.T
	p   *oauthproxy.Proxy
	url string
}

// startProxy serves cfg (a preset's result) with fixed keys and no consent
// page: consent is not what these tests are about.
func startProxy(t *testing.T, cfg oauthproxy.Config) *proxy {
	t.Helper()
	var handler http.Handler = http.NotFoundHandler()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { handler.ServeHTTP(w, r) }))
	t.Cleanup(srv.Close)
	cfg.BaseURL = srv.URL
	cfg.DisableConsent = true
	cfg.JWTSigningKey = []byte(strings.Repeat("j", 32))
	cfg.EncryptionKey = []byte(strings.Repeat("e", 32))
	cfg.ConsentSigningKey = []byte(strings.Repeat("c", 32))
	cfg.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	p, err := oauthproxy.New(cfg)
	require.NoError(t, err)
	t.Cleanup(p.Destroy)
	handler = p.Handler()
	return &proxy{t: t, p: p, url: srv.URL}
}

// client is an MCP client registered with the proxy (RFC 7591).
type client struct{ id, secret string }

func (px *proxy) register() client {
	px.t.Helper()
	body, _ := json.Marshal(map[string]any{
		"redirect_uris":              []string{clientRedirect},
		"token_endpoint_auth_method": "client_secret_post",
		"grant_types":                []string{"authorization_code", "refresh_token"},
		"client_name":                "providers test",
	})
	resp, err := http.Post(px.url+"/oauth/register", "application/json", strings.NewReader(string(body)))
	require.NoError(px.t, err)
	defer resp.Body.Close()
	require.Equal(px.t, http.StatusCreated, resp.StatusCode)
	var info oauthproxy.ClientInformation
	require.NoError(px.t, json.NewDecoder(resp.Body).Decode(&info))
	return client{id: info.ClientID, secret: info.ClientSecret}
}

// authorize walks the browser part of a login (proxy /authorize → provider
// → proxy callback) for c with scope ("" for the proxy's default) and
// returns the query the client's redirect URI receives, and the PKCE verifier.
func (px *proxy) authorize(c client, scope string) (url.Values, string) {
	px.t.Helper()
	jar, err := cookiejar.New(nil)
	require.NoError(px.t, err)
	browser := &http.Client{Jar: jar, Timeout: 10 * time.Second,
		CheckRedirect: func(req *http.Request, _ []*http.Request) error {
			if req.URL.Path == "/client/callback" {
				return http.ErrUseLastResponse
			}
			return nil
		}}
	verifier := pkce.GenerateVerifier()
	params := url.Values{
		"response_type": {"code"}, "client_id": {c.id}, "redirect_uri": {clientRedirect},
		"state": {"client-state"}, "code_challenge": {pkce.Challenge(verifier)}, "code_challenge_method": {"S256"},
	}
	if scope != "" {
		params.Set("scope", scope)
	}
	resp, err := browser.Get(px.url + "/oauth/authorize?" + params.Encode())
	require.NoError(px.t, err)
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	require.Equal(px.t, http.StatusFound, resp.StatusCode, "expected a redirect to the client, got %s", body)
	loc, err := url.Parse(resp.Header.Get("Location"))
	require.NoError(px.t, err)
	require.True(px.t, strings.HasPrefix(loc.String(), clientRedirect), "redirected to %s", loc)
	return loc.Query(), verifier
}

// login runs a whole login for c and returns the proxy's token response.
func (px *proxy) login(c client, scope string) oauthproxy.TokenResponse {
	px.t.Helper()
	q, verifier := px.authorize(c, scope)
	require.Empty(px.t, q.Get("error"), "login failed: %s", q.Get("error_description"))
	require.Equal(px.t, "client-state", q.Get("state"))
	require.Equal(px.t, px.url, q.Get("iss"))
	resp, err := http.PostForm(px.url+"/oauth/token", url.Values{
		"grant_type": {"authorization_code"}, "code": {q.Get("code")}, "redirect_uri": {clientRedirect},
		"code_verifier": {verifier}, "client_id": {c.id}, "client_secret": {c.secret},
	})
	require.NoError(px.t, err)
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	require.Equal(px.t, http.StatusOK, resp.StatusCode, "%s", body)
	var tok oauthproxy.TokenResponse
	require.NoError(px.t, json.Unmarshal(body, &tok))
	return tok
}

// loginFails runs a login that must end in an error redirect to the client
// (RFC 6749 §4.1.2.1) with state and iss (RFC 9207) and no code.
func (px *proxy) loginFails(c client, wantError string) url.Values {
	px.t.Helper()
	q, _ := px.authorize(c, "")
	require.Equal(px.t, wantError, q.Get("error"), "description: %s", q.Get("error_description"))
	require.Empty(px.t, q.Get("code"), "a failed login must not yield a code")
	require.Equal(px.t, "client-state", q.Get("state"))
	require.Equal(px.t, px.url, q.Get("iss"))
	return q
}

// claims verifies an access token as the protected resource would.
func (px *proxy) claims(accessToken string) *oauthproxy.Claims {
	px.t.Helper()
	c, err := px.p.VerifyAccessToken(context.Background(), accessToken)
	require.NoError(px.t, err)
	return c
}

// upstream returns the upstream token set behind an access token.
func (px *proxy) upstream(accessToken string) *oauthproxy.UpstreamTokens {
	px.t.Helper()
	u, err := px.p.LoadUpstreamTokens(context.Background(), accessToken)
	require.NoError(px.t, err)
	return u
}

// payload decodes a JWT's claims without verifying it, to look at exactly
// what was issued.
func payload(t *testing.T, jwt string) map[string]any {
	t.Helper()
	parts := strings.Split(jwt, ".")
	require.Len(t, parts, 3)
	b, err := base64.RawURLEncoding.DecodeString(parts[1])
	require.NoError(t, err)
	var m map[string]any
	require.NoError(t, json.Unmarshal(b, &m))
	return m
}
