package oauthproxy_test

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/oauthproxy-go/oauthproxy"
	"github.com/oauthproxy-go/oauthproxy/internal/pkce"
	"github.com/oauthproxy-go/oauthproxy/oauthproxytest"
	"github.com/stretchr/testify/require"
)

// clientRedirect is the redirect URI test clients register. Nothing listens
// there: the browser stops when it is redirected to it.
const clientRedirect = "http://127.0.0.1:9/client/callback"

// env is one proxy in front of one fake upstream, served over real HTTP, with
// a protected /mcp endpoint that echoes the caller's claims.
type env struct {
	t     *testing.T
	idp   *oauthproxytest.Server
	proxy *oauthproxy.Proxy
	srv   *httptest.Server
	cfg   oauthproxy.Config
	// consentPages counts consent pages the browser was shown.
	consentPages int
}

type envOption func(*oauthproxy.Config, *oauthproxytest.Options)

func withConfig(f func(*oauthproxy.Config)) envOption {
	return func(c *oauthproxy.Config, _ *oauthproxytest.Options) { f(c) }
}

func withIdP(f func(*oauthproxytest.Options)) envOption {
	return func(_ *oauthproxy.Config, o *oauthproxytest.Options) { f(o) }
}

// testSetup is the proxy Config and fake-upstream Options every harness
// starts from (fixed keys, one upstream client, OIDC scopes), with opts
// applied; the harness fills in BaseURL and the upstream endpoints.
func testSetup(opts ...envOption) (oauthproxy.Config, oauthproxytest.Options) {
	idpOpts := oauthproxytest.Options{
		ClientID:     "upstream-client",
		ClientSecret: "upstream-secret",
		IssueIDToken: true,
		RequirePKCE:  true,
	}
	cfg := oauthproxy.Config{
		UpstreamClientID:     "upstream-client",
		UpstreamClientSecret: "upstream-secret",
		Scopes:               []string{"openid", "email", "profile"},
		JWTSigningKey:        []byte(strings.Repeat("j", 32)),
		EncryptionKey:        []byte(strings.Repeat("e", 32)),
		ConsentSigningKey:    []byte(strings.Repeat("c", 32)),
		Logger:               slog.New(slog.NewTextHandler(io.Discard, nil)),
	}
	for _, o := range opts {
		o(&cfg, &idpOpts)
	}
	return cfg, idpOpts
}

func newEnv(t *testing.T, opts ...envOption) *env {
	t.Helper()
	return startEnv(t, false, opts...)
}

// newTLSEnv is newEnv served over https, with httptest's self-signed
// certificate: talk to it through e.srv.Client().
func newTLSEnv(t *testing.T, opts ...envOption) *env {
	t.Helper()
	return startEnv(t, true, opts...)
}

func startEnv(t *testing.T, useTLS bool, opts ...envOption) *env {
	t.Helper()
	cfg, idpOpts := testSetup(opts...)
	e := &env{t: t}
	e.idp = oauthproxytest.NewServer(idpOpts)
	t.Cleanup(e.idp.Close)

	var handler http.Handler = http.NotFoundHandler()
	e.srv = httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		handler.ServeHTTP(w, r)
	}))
	if useTLS {
		e.srv.StartTLS()
	} else {
		e.srv.Start()
	}
	t.Cleanup(e.srv.Close)

	cfg.BaseURL = e.srv.URL
	if cfg.UpstreamAuthorizationEndpoint == "" {
		cfg.UpstreamAuthorizationEndpoint = e.idp.AuthorizationEndpoint()
	}
	if cfg.UpstreamTokenEndpoint == "" {
		cfg.UpstreamTokenEndpoint = e.idp.TokenEndpoint()
	}
	p, err := oauthproxy.New(cfg)
	require.NoError(t, err)
	t.Cleanup(p.Destroy)
	e.proxy, e.cfg = p, cfg

	mux := http.NewServeMux()
	mux.Handle("/", p.Handler())
	mux.Handle("/mcp", p.RequireBearer(http.HandlerFunc(echoClaims)))
	handler = mux
	return e
}

// echoClaims is the protected "tool": it answers with the caller's claims.
func echoClaims(w http.ResponseWriter, r *http.Request) {
	c, ok := oauthproxy.ClaimsFromContext(r.Context())
	if !ok {
		http.Error(w, "no claims", http.StatusInternalServerError)
		return
	}
	_ = json.NewEncoder(w).Encode(c)
}

// browser is a cookie-keeping client that follows redirects until it reaches
// the client's redirect URI.
func (e *env) browser() *http.Client {
	jar, err := cookiejar.New(nil)
	require.NoError(e.t, err)
	return &http.Client{
		Jar: jar,
		CheckRedirect: func(req *http.Request, via []*http.Request) error {
			if req.URL.Path == "/client/callback" {
				return http.ErrUseLastResponse
			}
			return nil
		},
	}
}

// registered is a client registered through the HTTP endpoint.
type registered struct {
	ID, Secret, AuthMethod string
}

func (e *env) register(authMethod string, redirects ...string) registered {
	e.t.Helper()
	if len(redirects) == 0 {
		redirects = []string{clientRedirect}
	}
	return registerClient(e.t, http.DefaultClient, e.srv.URL+"/oauth/register", authMethod, "Test <Client>", redirects)
}

// registerClient registers a client that may refresh at endpoint (RFC 7591)
// and requires a 201.
func registerClient(t *testing.T, hc *http.Client, endpoint, authMethod, name string, redirects []string) registered {
	t.Helper()
	body, _ := json.Marshal(map[string]any{
		"redirect_uris":              redirects,
		"token_endpoint_auth_method": authMethod,
		"grant_types":                []string{"authorization_code", "refresh_token"},
		"client_name":                name,
	})
	resp, err := hc.Post(endpoint, "application/json", strings.NewReader(string(body)))
	require.NoError(t, err)
	defer resp.Body.Close()
	require.Equal(t, http.StatusCreated, resp.StatusCode)
	var info oauthproxy.ClientInformation
	require.NoError(t, json.NewDecoder(resp.Body).Decode(&info))
	return registered{ID: info.ClientID, Secret: info.ClientSecret, AuthMethod: authMethod}
}

// authorizeParams builds a valid /authorize query for c.
func authorizeParams(c registered, challenge string) url.Values {
	return url.Values{
		"response_type":         {"code"},
		"client_id":             {c.ID},
		"redirect_uri":          {clientRedirect},
		"scope":                 {"openid email"},
		"state":                 {"client-state-123"},
		"code_challenge":        {challenge},
		"code_challenge_method": {"S256"},
	}
}

var hiddenInput = regexp.MustCompile(`name="(txn|csrf_token)" value="([^"]*)"`)

// login walks the browser part: /authorize, the consent page (approved when
// consent is on), the upstream, the callback. It returns the final redirect to
// the client.
func (e *env) login(b *http.Client, params url.Values) *url.URL {
	e.t.Helper()
	resp, err := b.Get(e.srv.URL + "/oauth/authorize?" + params.Encode())
	require.NoError(e.t, err)
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode == http.StatusOK && strings.Contains(string(body), "csrf_token") {
		e.consentPages++
		form := url.Values{"action": {"approve"}}
		for _, m := range hiddenInput.FindAllStringSubmatch(string(body), -1) {
			form.Set(m[1], htmlUnescape(m[2]))
		}
		resp, err = b.PostForm(e.srv.URL+"/oauth/consent", form)
		require.NoError(e.t, err)
		body, _ = io.ReadAll(resp.Body)
		resp.Body.Close()
	}
	require.Equal(e.t, http.StatusFound, resp.StatusCode, "expected a redirect to the client, got: %s", body)
	loc, err := url.Parse(resp.Header.Get("Location"))
	require.NoError(e.t, err)
	return loc
}

func htmlUnescape(s string) string {
	return strings.NewReplacer("&#43;", "+", "&amp;", "&", "&#34;", `"`, "&#39;", "'", "&lt;", "<", "&gt;", ">").Replace(s)
}

// code runs a whole browser login and returns the proxy's code and verifier.
func (e *env) code(c registered) (code, verifier string) {
	e.t.Helper()
	verifier = pkce.GenerateVerifier()
	seen := e.consentPages
	loc := e.login(e.browser(), authorizeParams(c, pkce.Challenge(verifier)))
	require.Equal(e.t, !e.cfg.DisableConsent, e.consentPages > seen, "consent page shown iff consent is on")
	require.Empty(e.t, loc.Query().Get("error"), "authorization failed: %s", loc.Query().Get("error_description"))
	require.Equal(e.t, "client-state-123", loc.Query().Get("state"))
	require.Equal(e.t, e.srv.URL, loc.Query().Get("iss"))
	return loc.Query().Get("code"), verifier
}

// tokenResult is a raw token endpoint answer.
type tokenResult struct {
	Status int
	Header http.Header
	Body   map[string]any
}

func (r tokenResult) str(k string) string { s, _ := r.Body[k].(string); return s }

// token posts form to /oauth/token, authenticating as c the way it registered.
func (e *env) token(c registered, form url.Values) tokenResult {
	e.t.Helper()
	return postToken(e.t, http.DefaultClient, e.srv.URL+"/oauth/token", c, form)
}

// postToken posts form to a token endpoint over hc, authenticating as c the
// way it registered (RFC 6749 §2.3.1), and decodes the JSON answer.
func postToken(t *testing.T, hc *http.Client, endpoint string, c registered, form url.Values) tokenResult {
	t.Helper()
	form = cloneValues(form)
	req, err := http.NewRequest(http.MethodPost, endpoint, nil)
	require.NoError(t, err)
	switch c.AuthMethod {
	case "client_secret_basic":
		req.SetBasicAuth(url.QueryEscape(c.ID), url.QueryEscape(c.Secret))
	case "client_secret_post":
		form.Set("client_id", c.ID)
		form.Set("client_secret", c.Secret)
	default:
		form.Set("client_id", c.ID)
	}
	req.Body = io.NopCloser(strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	resp, err := hc.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	out := tokenResult{Status: resp.StatusCode, Header: resp.Header}
	require.NoError(t, json.NewDecoder(resp.Body).Decode(&out.Body))
	return out
}

func (e *env) exchange(c registered, code, verifier string) tokenResult {
	return e.token(c, url.Values{
		"grant_type":    {"authorization_code"},
		"code":          {code},
		"redirect_uri":  {clientRedirect},
		"code_verifier": {verifier},
	})
}

func (e *env) refresh(c registered, refreshToken string) tokenResult {
	return e.token(c, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {refreshToken}})
}

// callMCP calls the protected endpoint with token.
func (e *env) callMCP(token string) (*http.Response, map[string]any) {
	e.t.Helper()
	req, _ := http.NewRequestWithContext(context.Background(), http.MethodPost, e.srv.URL+"/mcp", nil)
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	require.NoError(e.t, err)
	defer resp.Body.Close()
	var body map[string]any
	_ = json.NewDecoder(resp.Body).Decode(&body)
	return resp, body
}

func cloneValues(v url.Values) url.Values {
	out := url.Values{}
	for k, vs := range v {
		out[k] = append([]string(nil), vs...)
	}
	return out
}
