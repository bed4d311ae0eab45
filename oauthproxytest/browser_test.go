package oauthproxytest_test

import (
	"context"
	"crypto/rand"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/oauth2"

	"github.com/oauthproxy-go/oauthproxy"
	"github.com/oauthproxy-go/oauthproxy/oauthproxytest"
)

// clientRedirectURI is the MCP client's loopback redirect URI; nothing listens
// there, and the browser does not request it.
const clientRedirectURI = "http://127.0.0.1:9/callback"

// proxyEnv is the proxy, served on a loopback port, in front of a fake
// upstream whose sign-in page a person submits.
type proxyEnv struct {
	idp   *oauthproxytest.Server
	proxy *oauthproxy.Proxy
	url   string
}

func startProxy(t *testing.T, configure func(*oauthproxy.Config)) *proxyEnv {
	t.Helper()
	secret := rand.Text()
	idp := oauthproxytest.Start(t, oauthproxytest.Options{
		ClientID: "proxy", ClientSecret: secret, LoginPage: true, IssueIDToken: true, RequirePKCE: true,
	})
	mux := http.NewServeMux()
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	cfg := oauthproxy.Config{
		BaseURL:                       srv.URL,
		UpstreamAuthorizationEndpoint: idp.AuthorizationEndpoint(),
		UpstreamTokenEndpoint:         idp.TokenEndpoint(),
		UpstreamClientID:              "proxy",
		UpstreamClientSecret:          secret,
		Scopes:                        []string{"openid", "email"},
		Logger:                        slog.New(slog.DiscardHandler),
	}
	if configure != nil {
		configure(&cfg)
	}
	p, err := oauthproxy.New(cfg)
	require.NoError(t, err)
	t.Cleanup(p.Destroy)
	mux.Handle("/", p.Handler())
	return &proxyEnv{idp: idp, proxy: p, url: srv.URL}
}

// client registers a public client and returns its OAuth configuration.
func (e *proxyEnv) client(t *testing.T) *oauth2.Config {
	t.Helper()
	info, err := e.proxy.RegisterClient(context.Background(), &oauthproxy.ClientMetadata{
		RedirectURIs: []string{clientRedirectURI}, TokenEndpointAuthMethod: "none", ClientName: "browser test",
	})
	require.NoError(t, err)
	return &oauth2.Config{
		ClientID:    info.ClientID,
		Endpoint:    oauth2.Endpoint{AuthURL: e.url + "/oauth/authorize", TokenURL: e.url + "/oauth/token", AuthStyle: oauth2.AuthStyleInParams},
		RedirectURL: clientRedirectURI,
		Scopes:      []string{"openid", "email"},
	}
}

// confidentialClient registers a confidential client, the kind whose consent
// the proxy may remember (RFC 8252 §8.6), and returns its OAuth configuration.
func (e *proxyEnv) confidentialClient(t *testing.T) *oauth2.Config {
	t.Helper()
	info, err := e.proxy.RegisterClient(context.Background(), &oauthproxy.ClientMetadata{
		RedirectURIs: []string{clientRedirectURI}, TokenEndpointAuthMethod: "client_secret_basic", ClientName: "browser test",
	})
	require.NoError(t, err)
	return &oauth2.Config{
		ClientID:     info.ClientID,
		ClientSecret: info.ClientSecret,
		Endpoint:     oauth2.Endpoint{AuthURL: e.url + "/oauth/authorize", TokenURL: e.url + "/oauth/token", AuthStyle: oauth2.AuthStyleInHeader},
		RedirectURL:  clientRedirectURI,
		Scopes:       []string{"openid", "email"},
	}
}

func TestBrowser_ConsentAndLogin(t *testing.T) {
	e := startProxy(t, nil)
	cfg := e.client(t)
	verifier := oauth2.GenerateVerifier()

	res, err := oauthproxytest.NewBrowser(t).Authorize(cfg.AuthCodeURL("st-1", oauth2.S256ChallengeOption(verifier)))
	require.NoError(t, err)
	assert.Equal(t, []string{oauthproxytest.PageConsent, oauthproxytest.PageLogin}, res.Pages)
	assert.Equal(t, "st-1", res.State)
	assert.Equal(t, e.url, res.Iss, "RFC 9207")
	assert.Equal(t, cfg.ClientID, res.AuthorizationURL.Query().Get("client_id"))
	assert.Equal(t, clientRedirectURI, res.RedirectURL.Scheme+"://"+res.RedirectURL.Host+res.RedirectURL.Path)
	assert.Empty(t, res.Error)

	var steps []string
	for _, v := range res.Visited {
		method, raw, _ := strings.Cut(v, " ")
		u, err := url.Parse(raw)
		require.NoError(t, err)
		steps = append(steps, method+" "+u.Path)
	}
	assert.Equal(t, []string{
		"GET /oauth/authorize", "GET /oauth/consent", "POST /oauth/consent",
		"GET /authorize", "POST /login", "GET /oauth/callback",
	}, steps)

	tok, err := cfg.Exchange(context.Background(), res.Code, oauth2.VerifierOption(verifier))
	require.NoError(t, err, "the code redeems")
	assert.NotEmpty(t, tok.AccessToken)
}

func TestBrowser_Deny(t *testing.T) {
	e := startProxy(t, nil)
	cfg := e.client(t)
	b := oauthproxytest.NewBrowser(t)
	b.Deny = true

	res, err := b.Authorize(cfg.AuthCodeURL("st-2", oauth2.S256ChallengeOption(oauth2.GenerateVerifier())))
	var aerr *oauthproxytest.AuthorizationError
	require.ErrorAs(t, err, &aerr)
	assert.Equal(t, "access_denied", aerr.Code)
	require.NotNil(t, res, "an error response still returns the result")
	assert.Equal(t, "access_denied", res.Error)
	assert.Empty(t, res.Code)
	assert.Equal(t, "st-2", res.State)
	assert.Equal(t, e.url, res.Iss)
	assert.Equal(t, []string{oauthproxytest.PageConsent}, res.Pages, "never sent upstream")
	assert.Zero(t, e.idp.Stats().Authorizations)
}

func TestBrowser_CancelLogin(t *testing.T) {
	e := startProxy(t, nil)
	cfg := e.client(t)
	b := oauthproxytest.NewBrowser(t)
	b.CancelLogin = true

	res, err := b.Authorize(cfg.AuthCodeURL("st-3", oauth2.S256ChallengeOption(oauth2.GenerateVerifier())))
	var aerr *oauthproxytest.AuthorizationError
	require.ErrorAs(t, err, &aerr, "%v", err)
	assert.Equal(t, "access_denied", aerr.Code)
	assert.Equal(t, "st-3", res.State)
	assert.Equal(t, []string{oauthproxytest.PageConsent, oauthproxytest.PageLogin}, res.Pages)
}

// The remember box is ticked only when asked, and a remembered consent skips
// the page for the same browser only. The client is confidential: the proxy
// never remembers consent for a public client on loopback.
func TestBrowser_Remember(t *testing.T) {
	e := startProxy(t, func(c *oauthproxy.Config) { c.ConsentRememberTTL = time.Hour })
	cfg := e.confidentialClient(t)
	authURL := func() string {
		return cfg.AuthCodeURL("st", oauth2.S256ChallengeOption(oauth2.GenerateVerifier()))
	}

	b := oauthproxytest.NewBrowser(t)
	res, err := b.Authorize(authURL())
	require.NoError(t, err)
	assert.Equal(t, []string{"consent", "login"}, res.Pages)
	res, err = b.Authorize(authURL())
	require.NoError(t, err)
	assert.Equal(t, []string{"consent", "login"}, res.Pages, "not remembered unless asked")

	b.Remember = true
	_, err = b.Authorize(authURL())
	require.NoError(t, err)
	res, err = b.Authorize(authURL())
	require.NoError(t, err)
	assert.Equal(t, []string{"login"}, res.Pages, "the remembered consent skips the page")

	res, err = oauthproxytest.NewBrowser(t).Authorize(authURL())
	require.NoError(t, err)
	assert.Equal(t, []string{"consent", "login"}, res.Pages, "another browser has no cookie")
}

func TestBrowser_RememberWithoutBox(t *testing.T) {
	e := startProxy(t, nil)
	cfg := e.client(t)
	b := oauthproxytest.NewBrowser(t)
	b.Remember = true
	_, err := b.Authorize(cfg.AuthCodeURL("st", oauth2.S256ChallengeOption(oauth2.GenerateVerifier())))
	var perr *oauthproxytest.PageError
	require.ErrorAs(t, err, &perr)
	assert.Contains(t, perr.Reason, "no remember box")
	assert.Contains(t, perr.URL, "/oauth/consent")
}

// The proxy's error page stops the browser with what it says.
func TestBrowser_ErrorPage(t *testing.T) {
	e := startProxy(t, nil)
	cfg := e.client(t)
	cfg.ClientID = "no-such-client"
	_, err := oauthproxytest.NewBrowser(t).Authorize(cfg.AuthCodeURL("st", oauth2.S256ChallengeOption(oauth2.GenerateVerifier())))
	var perr *oauthproxytest.PageError
	require.ErrorAs(t, err, &perr)
	assert.Equal(t, http.MethodGet, perr.Method)
	assert.Equal(t, http.StatusBadRequest, perr.Status)
	assert.Contains(t, perr.Text, "invalid_client")
	assert.NotContains(t, perr.Text, "{", "no CSS in the page text")
}

// With consent off and the upstream approving at once, the browser part is
// redirects only.
func TestBrowser_RedirectsOnly(t *testing.T) {
	secret := rand.Text()
	idp := oauthproxytest.Start(t, oauthproxytest.Options{ClientID: "proxy", ClientSecret: secret, IssueIDToken: true})
	mux := http.NewServeMux()
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	p, err := oauthproxy.New(oauthproxy.Config{
		BaseURL: srv.URL, UpstreamAuthorizationEndpoint: idp.AuthorizationEndpoint(), UpstreamTokenEndpoint: idp.TokenEndpoint(),
		UpstreamClientID: "proxy", UpstreamClientSecret: secret, Scopes: []string{"openid", "email"}, DisableConsent: true, Logger: slog.New(slog.DiscardHandler),
	})
	require.NoError(t, err)
	t.Cleanup(p.Destroy)
	mux.Handle("/", p.Handler())
	e := &proxyEnv{idp: idp, proxy: p, url: srv.URL}
	cfg := e.client(t)

	res, err := oauthproxytest.NewBrowser(t).Authorize(cfg.AuthCodeURL("st", oauth2.S256ChallengeOption(oauth2.GenerateVerifier())))
	require.NoError(t, err)
	assert.Empty(t, res.Pages)
	assert.NotEmpty(t, res.Code)
	assert.Len(t, res.Visited, 3, "authorize, upstream authorize, callback")
}

// page is a handler that serves one HTML page.
func page(body string) http.HandlerFunc {
	return func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		_, _ = fmt.Fprint(w, body)
	}
}

// formSite is a site whose /start page has a form; what the form sends is
// recorded, and /done redirects to to with a code.
type formSite struct {
	srv *httptest.Server
	mu  sync.Mutex
	got *http.Request
}

func newFormSite(t *testing.T, form, to string) *formSite {
	t.Helper()
	s := &formSite{}
	mux := http.NewServeMux()
	mux.Handle("GET /start", page("<!doctype html><title>t</title><style>p{}</style>"+form))
	done := func(w http.ResponseWriter, r *http.Request) {
		_ = r.ParseForm()
		s.mu.Lock()
		s.got = r
		s.mu.Unlock()
		http.Redirect(w, r, to+"?code=c0de&state=s", http.StatusSeeOther)
	}
	mux.HandleFunc("POST /done", done)
	mux.HandleFunc("GET /done", done)
	mux.HandleFunc("POST /moved", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, "/done", http.StatusTemporaryRedirect)
	})
	mux.HandleFunc("POST /other", func(w http.ResponseWriter, _ *http.Request) { http.Error(w, "wrong form", http.StatusTeapot) })
	s.srv = httptest.NewServer(mux)
	t.Cleanup(s.srv.Close)
	return s
}

func (s *formSite) request() *http.Request {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.got
}

// A form is submitted as a browser submits it.
func TestBrowser_Forms(t *testing.T) {
	tests := []struct {
		name   string
		form   string
		want   url.Values
		method string
	}{
		{"hidden, text, checked boxes, select, textarea; disabled and unchecked left out", `
<form method="POST" action="/done">
<input type="hidden" name="h" value="a&amp;b">
<input name="text" value="typed">
<input type="checkbox" name="on" checked>
<input type="checkbox" name="off" value="x">
<input type="radio" name="r" value="1"><input type="radio" name="r" value="2" checked>
<input type="hidden" name="gone" value="x" disabled>
<select name="sel"><option>first</option><option value="v2">second</option></select>
<select name="pick"><option value="a">A</option><option value="b" selected>B</option></select>
<textarea name="ta">some text</textarea>
<input type="file" name="file">
<button type="button" name="action" value="approve">not a submit button</button>
<button type="submit" name="action" value="deny">Deny</button>
<button name="action" value="Approve">Approve</button>
</form>`,
			url.Values{"h": {"a&b"}, "text": {"typed"}, "on": {"on"}, "r": {"2"}, "sel": {"first"}, "pick": {"b"}, "ta": {"some text"}, "action": {"Approve"}},
			http.MethodPost},
		{"the first form with an approve button; controls owned by the form attribute", `
<form method="post" action="/other"><input type="hidden" name="x" value="1"><button name="action" value="cancel">No</button></form>
<form id="f" method="post" action="/elsewhere"><input type="hidden" name="inside" value="1">
<input type="hidden" name="owned-by-other" value="x" form="nowhere">
<input type="submit" name="action" value="approve" formaction="/done"></form>
<input type="hidden" name="outside" value="2" form="f">`,
			url.Values{"inside": {"1"}, "outside": {"2"}, "action": {"approve"}},
			http.MethodPost},
		{"a GET form", `<form action="/done"><input type="hidden" name="q" value="1"><button value="approve">Go</button></form>`,
			url.Values{"q": {"1"}}, http.MethodGet},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := newFormSite(t, tt.form, clientRedirectURI)
			res, err := oauthproxytest.NewBrowser(t).Authorize(s.srv.URL + "/start?" + url.Values{"redirect_uri": {clientRedirectURI}}.Encode())
			require.NoError(t, err)
			assert.Equal(t, "c0de", res.Code)
			assert.Equal(t, []string{"/done"}, res.Pages, "an unknown form is named by its path")
			got := s.request()
			require.NotNil(t, got)
			assert.Equal(t, tt.method, got.Method)
			assert.Equal(t, tt.want, got.Form)
			assert.Equal(t, "same-origin", got.Header.Get("Sec-Fetch-Site"))
			if tt.method == http.MethodPost {
				assert.Equal(t, s.srv.URL, got.Header.Get("Origin"))
			} else {
				assert.Empty(t, got.Header.Get("Origin"), "no Origin on a GET navigation")
			}
		})
	}
}

// A 307 repeats the POST with its body (Fetch §4.4).
func TestBrowser_TemporaryRedirectRepeatsThePost(t *testing.T) {
	s := newFormSite(t, `<form method="post" action="/moved"><input type="hidden" name="k" value="v"><button name="action" value="approve">OK</button></form>`, clientRedirectURI)
	res, err := oauthproxytest.NewBrowser(t).Authorize(s.srv.URL + "/start?" + url.Values{"redirect_uri": {clientRedirectURI}}.Encode())
	require.NoError(t, err)
	assert.Equal(t, "c0de", res.Code)
	got := s.request()
	require.NotNil(t, got)
	assert.Equal(t, http.MethodPost, got.Method)
	assert.Equal(t, url.Values{"k": {"v"}, "action": {"approve"}}, got.Form)
	assert.Len(t, res.Visited, 3, "the page, the POST, the repeated POST")
}

// Where the browser stops: the authorization URL's redirect_uri, a
// RedirectURIs prefix, an origin outside Origins, a non-http scheme.
func TestBrowser_StopsAtTheClient(t *testing.T) {
	form := `<form method="post" action="/done"><button name="action" value="approve">OK</button></form>`
	tests := []struct {
		name, to  string
		configure func(b *oauthproxytest.Browser, site string)
		query     url.Values
	}{
		{"redirect_uri", "http://127.0.0.1:9/cb", nil, url.Values{"redirect_uri": {"http://127.0.0.1:9/cb"}}},
		{"RedirectURIs", "http://127.0.0.1:9/cb/x", func(b *oauthproxytest.Browser, _ string) {
			b.RedirectURIs = []string{"http://127.0.0.1:9/cb"}
		}, nil},
		{"Origins", "http://127.0.0.1:9/anything", func(b *oauthproxytest.Browser, site string) {
			b.Origins = []string{site}
		}, nil},
		{"custom scheme", "cursor://anysphere.cursor-mcp/oauth/callback", nil, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := newFormSite(t, form, tt.to)
			b := oauthproxytest.NewBrowser(t)
			if tt.configure != nil {
				tt.configure(b, s.srv.URL)
			}
			res, err := b.Authorize(s.srv.URL + "/start?" + tt.query.Encode())
			require.NoError(t, err)
			assert.Equal(t, "c0de", res.Code)
			assert.Equal(t, tt.to+"?code=c0de&state=s", res.RedirectURL.String())
		})
	}

	t.Run("nothing says where the client is", func(t *testing.T) {
		s := newFormSite(t, form, "http://127.0.0.1:9/cb")
		_, err := oauthproxytest.NewBrowser(t).Authorize(s.srv.URL + "/start")
		require.Error(t, err, "the browser requests the redirect URI, where nothing listens")
	})
}

func TestBrowser_PageWithoutButton(t *testing.T) {
	s := newFormSite(t, `<p>Hello</p><form action="/done"><button value="later">Later</button></form>`, clientRedirectURI)
	_, err := oauthproxytest.NewBrowser(t).Authorize(s.srv.URL + "/start")
	var perr *oauthproxytest.PageError
	require.ErrorAs(t, err, &perr)
	assert.Equal(t, `no form on the page has a "approve" button`, perr.Reason)
	assert.Equal(t, "Hello Later", perr.Text, "the body's text: no title, no style")
}

func TestBrowser_RedirectLoop(t *testing.T) {
	var srv *httptest.Server
	srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, srv.URL+"/again", http.StatusFound)
	}))
	t.Cleanup(srv.Close)
	_, err := oauthproxytest.NewBrowser(t).Authorize(srv.URL + "/start")
	require.ErrorContains(t, err, "no redirect to the client's redirect URI after 20 requests")
}

// Start closes the server when the test that started it ends.
func TestStart_ClosesAtCleanup(t *testing.T) {
	var base string
	t.Run("inner", func(t *testing.T) {
		s := oauthproxytest.Start(t, oauthproxytest.Options{ClientID: "c", ClientSecret: "s"})
		base = s.URL()
		resp, err := http.Get(s.URL() + "/.well-known/openid-configuration")
		require.NoError(t, err)
		resp.Body.Close()
		assert.Equal(t, http.StatusOK, resp.StatusCode)
	})
	_, err := (&http.Client{Timeout: 5 * time.Second}).Get(base + "/.well-known/openid-configuration")
	assert.Error(t, err, "closed after the inner test")
}

// fatalTB records Fatal instead of failing the real test.
type fatalTB struct {
	testing.TB
	msg string
}

func (f *fatalTB) Helper() {}

func (f *fatalTB) Fatal(args ...any) {
	f.msg = fmt.Sprint(args...)
	runtime.Goexit()
}

func TestStart_BadOptionsFailTheTest(t *testing.T) {
	tb := &fatalTB{TB: t}
	done := make(chan struct{})
	go func() {
		defer close(done)
		oauthproxytest.Start(tb, oauthproxytest.Options{ClientID: "c"})
	}()
	<-done
	assert.Equal(t, "oauthproxytest: Options.ClientID and Options.ClientSecret are required", tb.msg)
}
