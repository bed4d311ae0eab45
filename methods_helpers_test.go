package oauthproxy_test

// Helpers for methods_*_test.go, config_*_test.go, oauth2client_test.go and
// lifecycle_test.go: a storage wrapper that records what changes, a clock the
// test moves, a proxy driven through its methods without HTTP ("direct"), and
// a proxy mounted under an arbitrary BaseURL path ("site").

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/oauthproxy-go/oauthproxy"
	"github.com/oauthproxy-go/oauthproxy/internal/pkce"
	"github.com/oauthproxy-go/oauthproxy/oauthproxytest"
	"github.com/oauthproxy-go/oauthproxy/storage"
	"github.com/stretchr/testify/require"
)

// ---------------------------------------------------------------------------
// stepClock

// stepClock is a clock that moves only when the test says so. It is shared by
// the proxy (Config.Now), its storage and the fake upstream (Options.Now).
type stepClock struct {
	mu  sync.Mutex
	now time.Time
}

func newStepClock() *stepClock {
	// Whole seconds: JWT times have second precision.
	return &stepClock{now: time.Now().Truncate(time.Second)}
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

// ---------------------------------------------------------------------------
// log capture

// logBuffer is a concurrency-safe buffer for a slog handler.
type logBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *logBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *logBuffer) lines() []string {
	b.mu.Lock()
	defer b.mu.Unlock()
	var out []string
	for _, l := range strings.Split(b.buf.String(), "\n") {
		if l != "" {
			out = append(out, l)
		}
	}
	return out
}

// linesAt returns the logged lines of one level ("WARN", "ERROR" …).
func (b *logBuffer) linesAt(level string) []string {
	var out []string
	for _, l := range b.lines() {
		if strings.Contains(l, "level="+level) {
			out = append(out, l)
		}
	}
	return out
}

func newCapturingLogger() (*slog.Logger, *logBuffer) {
	buf := &logBuffer{}
	return slog.New(slog.NewTextHandler(buf, &slog.HandlerOptions{Level: slog.LevelDebug})), buf
}

func discardLogger() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

// ---------------------------------------------------------------------------
// shared test data

var (
	testJWTKey     = []byte(strings.Repeat("j", 32))
	testEncKey     = []byte(strings.Repeat("e", 32))
	testConsentKey = []byte(strings.Repeat("c", 32))
)

// ownHTTPClient returns an HTTP client with its own transport whose idle
// connections are closed when the test ends, so no keep-alive goroutine
// outlives it.
func ownHTTPClient(t testing.TB) *http.Client {
	tr := http.DefaultTransport.(*http.Transport).Clone()
	t.Cleanup(tr.CloseIdleConnections)
	return &http.Client{Transport: tr, Timeout: 10 * time.Second}
}

// noFollow is an HTTP client that stops at the first redirect.
func noFollow(t testing.TB) *http.Client {
	c := ownHTTPClient(t)
	c.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	return c
}

// oauthErr extracts the *oauthproxy.Error from err.
func oauthErr(t *testing.T, err error) *oauthproxy.Error {
	t.Helper()
	require.Error(t, err)
	var oe *oauthproxy.Error
	require.True(t, errors.As(err, &oe), "want *oauthproxy.Error, got %T: %v", err, err)
	return oe
}

// ---------------------------------------------------------------------------
// direct: the proxy used through its methods

// idpUserInfo in Config.UpstreamUserInfoEndpoint is replaced by the fake
// upstream's userinfo endpoint once it runs (newDirect, newSite).
const idpUserInfo = "idp:userinfo"

// directBaseURL is the BaseURL of direct proxies. Nothing listens there: New
// does not listen, and the methods never call it.
const directBaseURL = "http://127.0.0.1:8080"

// direct is a proxy driven through its typed methods, in front of a fake
// upstream served over real HTTP. The proxy, its storage and the upstream
// share one stepClock.
type direct struct {
	t     *testing.T
	p     *oauthproxy.Proxy
	idp   *oauthproxytest.Server
	store *recordingStore
	clock *stepClock
	cfg   oauthproxy.Config
	ctx   context.Context
}

func newDirect(t *testing.T, opts ...envOption) *direct {
	t.Helper()
	clock := newStepClock()
	store := newRecordingStore(storage.NewMemoryWithClock(clock.Now))
	idpOpts := oauthproxytest.Options{
		ClientID:     "upstream-client",
		ClientSecret: "upstream-secret",
		IssueIDToken: true,
		RequirePKCE:  true,
		Now:          clock.Now,
	}
	cfg := oauthproxy.Config{
		BaseURL:              directBaseURL,
		UpstreamClientID:     "upstream-client",
		UpstreamClientSecret: "upstream-secret",
		Scopes:               []string{"openid", "email", "profile"},
		JWTSigningKey:        testJWTKey,
		EncryptionKey:        testEncKey,
		ConsentSigningKey:    testConsentKey,
		Logger:               discardLogger(),
		TokenStorage:         store,
		Now:                  clock.Now,
		HTTPClient:           ownHTTPClient(t),
	}
	for _, o := range opts {
		o(&cfg, &idpOpts)
	}
	idp := oauthproxytest.NewServer(idpOpts)
	t.Cleanup(idp.Close)
	if cfg.UpstreamAuthorizationEndpoint == "" {
		cfg.UpstreamAuthorizationEndpoint = idp.AuthorizationEndpoint()
	}
	if cfg.UpstreamTokenEndpoint == "" {
		cfg.UpstreamTokenEndpoint = idp.TokenEndpoint()
	}
	if cfg.UpstreamUserInfoEndpoint == idpUserInfo {
		cfg.UpstreamUserInfoEndpoint = idp.UserInfoEndpoint()
	}
	p, err := oauthproxy.New(cfg)
	require.NoError(t, err)
	t.Cleanup(p.Destroy)
	return &direct{t: t, p: p, idp: idp, store: store, clock: clock, cfg: cfg, ctx: context.Background()}
}

// redirectPath is the proxy's callback path after defaults.
func (d *direct) redirectPath() string {
	if d.cfg.RedirectPath == "" {
		return oauthproxy.DefaultRedirectPath
	}
	return d.cfg.RedirectPath
}

// register registers a client through RegisterClient, allowed to refresh.
func (d *direct) register(authMethod string, grantTypes ...string) *oauthproxy.ClientInformation {
	d.t.Helper()
	if len(grantTypes) == 0 {
		grantTypes = []string{"authorization_code", "refresh_token"}
	}
	info, err := d.p.RegisterClient(d.ctx, &oauthproxy.ClientMetadata{
		RedirectURIs:            []string{clientRedirect},
		TokenEndpointAuthMethod: authMethod,
		GrantTypes:              grantTypes,
		ClientName:              "Test <Client>",
	})
	require.NoError(d.t, err)
	return info
}

// creds are the credentials c presents at the token endpoint.
func creds(c *oauthproxy.ClientInformation) oauthproxy.ClientCredentials {
	return oauthproxy.ClientCredentials{
		ClientID:     c.ClientID,
		ClientSecret: c.ClientSecret,
		Method:       c.TokenEndpointAuthMethod,
	}
}

// authRequest is a valid authorization request for c.
func authRequest(c *oauthproxy.ClientInformation, challenge string) *oauthproxy.AuthorizationRequest {
	return &oauthproxy.AuthorizationRequest{
		ResponseType:        "code",
		ClientID:            c.ClientID,
		RedirectURI:         clientRedirect,
		Scope:               "openid email",
		State:               "client-state-123",
		CodeChallenge:       challenge,
		CodeChallengeMethod: "S256",
	}
}

// toUpstream runs Authorize and, when consent is on, ConsentPage and an
// approving HandleConsent. It returns the transaction, the upstream
// authorization URL and the browser binding.
func (d *direct) toUpstream(req *oauthproxy.AuthorizationRequest) (txn, upstreamURL, binding string) {
	d.t.Helper()
	res, err := d.p.Authorize(d.ctx, req)
	require.NoError(d.t, err)
	if d.cfg.DisableConsent {
		return res.TransactionID, res.RedirectURL, res.BrowserBinding
	}
	page, err := d.p.ConsentPage(d.ctx, res.TransactionID, "")
	require.NoError(d.t, err)
	dec, err := d.p.HandleConsent(d.ctx, &oauthproxy.ConsentDecision{
		TransactionID: res.TransactionID,
		Approve:       true,
		CSRFToken:     page.CSRFToken,
		CSRFCookie:    page.CSRFCookie,
	})
	require.NoError(d.t, err)
	return res.TransactionID, dec.RedirectURL, dec.BrowserBinding
}

// upstreamLogin plays the browser at the upstream: it follows upstreamURL
// without following the redirect back, and returns the upstream's code and
// state addressed to the proxy's callback.
func (d *direct) upstreamLogin(upstreamURL string) (code, state string) {
	d.t.Helper()
	resp, err := noFollow(d.t).Get(upstreamURL)
	require.NoError(d.t, err)
	resp.Body.Close()
	require.Equal(d.t, http.StatusFound, resp.StatusCode)
	loc, err := resp.Location()
	require.NoError(d.t, err)
	require.Equal(d.t, d.cfg.BaseURL+d.redirectPath(), loc.Scheme+"://"+loc.Host+loc.Path,
		"the upstream must send the browser to the proxy's callback")
	require.Empty(d.t, loc.Query().Get("error"), "upstream refused: %s", loc.Query().Get("error_description"))
	return loc.Query().Get("code"), loc.Query().Get("state")
}

// login runs the whole authorization through the methods and returns the
// proxy's authorization code and the client's PKCE verifier.
func (d *direct) login(c *oauthproxy.ClientInformation) (code, verifier string) {
	d.t.Helper()
	verifier = pkce.GenerateVerifier()
	txn, upstreamURL, binding := d.toUpstream(authRequest(c, pkce.Challenge(verifier)))
	upCode, state := d.upstreamLogin(upstreamURL)
	require.Equal(d.t, txn, state)
	res, err := d.p.HandleCallback(d.ctx, &oauthproxy.CallbackRequest{Code: upCode, State: state, BrowserBinding: binding})
	require.NoError(d.t, err)
	loc, err := url.Parse(res.RedirectURL)
	require.NoError(d.t, err)
	require.Empty(d.t, loc.Query().Get("error"), "callback failed: %s", loc.Query().Get("error_description"))
	return loc.Query().Get("code"), verifier
}

// codeRequest is the token request that redeems code for c.
func codeRequest(c *oauthproxy.ClientInformation, code, verifier string) *oauthproxy.TokenRequest {
	return &oauthproxy.TokenRequest{
		GrantType:    "authorization_code",
		Code:         code,
		RedirectURI:  clientRedirect,
		CodeVerifier: verifier,
		Client:       creds(c),
	}
}

// tokens logs in and redeems the code.
func (d *direct) tokens(c *oauthproxy.ClientInformation) *oauthproxy.TokenResponse {
	d.t.Helper()
	code, verifier := d.login(c)
	resp, err := d.p.ExchangeAuthorizationCode(d.ctx, codeRequest(c, code, verifier))
	require.NoError(d.t, err)
	return resp
}

// refresh uses a refresh token for c.
func (d *direct) refresh(c *oauthproxy.ClientInformation, rt string) (*oauthproxy.TokenResponse, error) {
	return d.p.ExchangeRefreshToken(d.ctx, &oauthproxy.TokenRequest{
		GrantType:    "refresh_token",
		RefreshToken: rt,
		Client:       creds(c),
	})
}

// ---------------------------------------------------------------------------
// site: the proxy mounted over HTTP at any BaseURL path

// site is a proxy whose BaseURL may have a path, mounted with p.Handler() at
// "/" of an httptest server and RequireBearer at the resource's path. It finds
// every endpoint through the metadata, as a real client does.
type site struct {
	t     *testing.T
	idp   *oauthproxytest.Server
	proxy *oauthproxy.Proxy
	srv   *httptest.Server
	cfg   oauthproxy.Config
	http  *http.Client
	meta  oauthproxy.AuthorizationServerMetadata
}

func newSite(t *testing.T, basePath string, opts ...envOption) *site {
	t.Helper()
	cfg, idpOpts := testSetup(append([]envOption{withConfig(func(c *oauthproxy.Config) {
		c.HTTPClient = ownHTTPClient(t)
	})}, opts...)...)
	s := &site{t: t, http: ownHTTPClient(t)}
	s.idp = oauthproxytest.NewServer(idpOpts)
	t.Cleanup(s.idp.Close)

	var handler http.Handler = http.NotFoundHandler()
	s.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		handler.ServeHTTP(w, r)
	}))
	t.Cleanup(s.srv.Close)

	cfg.BaseURL = s.srv.URL + basePath
	if cfg.UpstreamAuthorizationEndpoint == "" {
		cfg.UpstreamAuthorizationEndpoint = s.idp.AuthorizationEndpoint()
	}
	if cfg.UpstreamTokenEndpoint == "" {
		cfg.UpstreamTokenEndpoint = s.idp.TokenEndpoint()
	}
	if cfg.UpstreamUserInfoEndpoint == idpUserInfo {
		cfg.UpstreamUserInfoEndpoint = s.idp.UserInfoEndpoint()
	}
	p, err := oauthproxy.New(cfg)
	require.NoError(t, err)
	t.Cleanup(p.Destroy)
	s.proxy, s.cfg = p, cfg

	resource, err := url.Parse(p.GetProtectedResourceMetadata().Resource)
	require.NoError(t, err)
	mux := http.NewServeMux()
	mux.Handle("/", p.Handler())
	if resource.Host == s.srv.Listener.Addr().String() {
		mux.Handle(resource.Path, p.RequireBearer(http.HandlerFunc(echoClaims)))
	}
	handler = mux

	s.meta = s.getJSON(s.srv.URL+"/.well-known/oauth-authorization-server"+basePath, http.StatusOK)
	return s
}

// getJSON fetches an authorization server metadata document.
func (s *site) getJSON(u string, wantStatus int) oauthproxy.AuthorizationServerMetadata {
	s.t.Helper()
	resp, err := s.http.Get(u)
	require.NoError(s.t, err)
	defer resp.Body.Close()
	require.Equal(s.t, wantStatus, resp.StatusCode, "GET %s", u)
	var md oauthproxy.AuthorizationServerMetadata
	if wantStatus == http.StatusOK {
		require.NoError(s.t, json.NewDecoder(resp.Body).Decode(&md))
	}
	return md
}

// register registers a client at the registration endpoint from the metadata.
func (s *site) register(authMethod string) registered {
	s.t.Helper()
	return registerClient(s.t, s.http, s.meta.RegistrationEndpoint, authMethod, "Site Client", []string{clientRedirect})
}

// token posts form to the token endpoint from the metadata, authenticating
// as c the way it registered.
func (s *site) token(c registered, form url.Values) tokenResult {
	s.t.Helper()
	return postToken(s.t, s.http, s.meta.TokenEndpoint, c, form)
}

// callResource calls the protected resource (Config.Resource) with token.
func (s *site) callResource(token string) (int, map[string]any) {
	s.t.Helper()
	req, err := http.NewRequest(http.MethodPost, s.proxy.GetProtectedResourceMetadata().Resource, nil)
	require.NoError(s.t, err)
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := s.http.Do(req)
	require.NoError(s.t, err)
	defer resp.Body.Close()
	var body map[string]any
	_ = json.NewDecoder(resp.Body).Decode(&body)
	return resp.StatusCode, body
}

// ---------------------------------------------------------------------------
// a browser that reads the consent form

// cookieBrowser is a cookie-keeping client that follows redirects until it is
// sent to the client's redirect URI (clientRedirect's path).
func cookieBrowser(t testing.TB) *http.Client {
	jar, err := cookiejar.New(nil)
	require.NoError(t, err)
	c := ownHTTPClient(t)
	c.Jar = jar
	c.CheckRedirect = func(req *http.Request, via []*http.Request) error {
		if req.URL.Path == "/client/callback" {
			return http.ErrUseLastResponse
		}
		return nil
	}
	return c
}

var formAction = regexp.MustCompile(`<form method="post" action="([^"]*)"`)

// walkBrowser opens startURL (an authorization request) in b, answers the
// consent page with action (approve or deny) by posting its form to where the
// form says, and returns the final redirect to the client. It reports whether
// a consent page was shown.
func walkBrowser(t *testing.T, b *http.Client, startURL, action string) (*url.URL, bool) {
	t.Helper()
	resp, err := b.Get(startURL)
	require.NoError(t, err)
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	consent := false
	if resp.StatusCode == http.StatusOK && strings.Contains(string(body), "csrf_token") {
		consent = true
		m := formAction.FindStringSubmatch(string(body))
		require.NotNil(t, m, "the consent page has a form with an action")
		page := resp.Request.URL
		target, err := page.Parse(htmlUnescape(m[1]))
		require.NoError(t, err)
		form := url.Values{"action": {action}}
		for _, in := range hiddenInput.FindAllStringSubmatch(string(body), -1) {
			form.Set(in[1], htmlUnescape(in[2]))
		}
		require.NotEmpty(t, form.Get("txn"))
		require.NotEmpty(t, form.Get("csrf_token"))
		resp, err = b.PostForm(target.String(), form)
		require.NoError(t, err)
		body, _ = io.ReadAll(resp.Body)
		resp.Body.Close()
	}
	// 302 from the callback; 303 straight from a denied consent.
	require.Contains(t, []int{http.StatusFound, http.StatusSeeOther}, resp.StatusCode,
		"expected a redirect to the client, got %d: %s", resp.StatusCode, body)
	loc, err := url.Parse(resp.Header.Get("Location"))
	require.NoError(t, err)
	return loc, consent
}
