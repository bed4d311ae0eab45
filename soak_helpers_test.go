package oauthproxy_test

// The soak's driver (soak_test.go, shutdown_test.go): a proxy in front of the
// fake upstream (oauthproxytest), with the browser part of each flow run
// through the typed methods and the token endpoint and the bearer check
// through the proxy's HTTP handlers, in process (httptest recorders) or, with
// soakRigOptions.Serve, over loopback HTTP. Nothing here calls testing.T from
// the flow goroutines: a flow reports what went wrong as a soakFailure.
//
// internal/loadtest drives flows too, but only over loopback HTTP, only good
// ones, and without a per-code account; the soak needs bad requests mixed in
// and every answer checked, so it has its own driver.

import (
	"bufio"
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/oauthproxy-go/oauthproxy"
	"github.com/oauthproxy-go/oauthproxy/internal/pkce"
	"github.com/oauthproxy-go/oauthproxy/oauthproxytest"
	"github.com/oauthproxy-go/oauthproxy/storage"
)

// soakRigOptions shapes a rig.
type soakRigOptions struct {
	// Concurrency sizes the HTTP connection pools.
	Concurrency int
	// Serve puts the proxy behind a loopback httptest.Server and sends the
	// token endpoint and bearer requests there instead of calling the
	// handlers in process.
	Serve bool
	// Store is the proxy's storage (nil: the default memory store).
	Store storage.TokenStorage
	// NoIDToken makes the upstream issue no id_token, so the proxy asks its
	// userinfo endpoint (Config.UpstreamUserInfoEndpoint) who signed in.
	NoIDToken bool
	// Config, when set, adjusts the proxy's Config before New.
	Config func(*oauthproxy.Config)
}

// soakRig is one proxy in front of one fake upstream.
type soakRig struct {
	p      *oauthproxy.Proxy
	idp    *oauthproxytest.Server
	base   string       // the proxy's BaseURL
	token  http.Handler // p.Handler(), or nil when Serve
	mcp    http.Handler // RequireBearer in front of a 200, or nil when Serve
	srv    *httptest.Server
	client *http.Client // to srv, when Serve
	// browser plays the user at the upstream: it never follows redirects.
	browser *http.Client
	// transports to close when the rig closes.
	transports []*http.Transport
	events     *soakEvents
	closeOnce  sync.Once
}

// soakTransport is a loopback transport with room for concurrency idle
// connections, so thousands of flows reuse connections instead of running
// out of ephemeral ports.
func soakTransport(concurrency int) *http.Transport {
	return &http.Transport{
		Proxy:               nil, // loopback only, never an environment proxy
		MaxIdleConns:        4 * concurrency,
		MaxIdleConnsPerHost: 2 * concurrency,
		IdleConnTimeout:     30 * time.Second,
		DisableCompression:  true,
	}
}

// newSoakRig starts the fake upstream and the proxy. Close it with close;
// it does not register cleanups, so a test can measure memory after close.
func newSoakRig(o soakRigOptions) (*soakRig, error) {
	if o.Concurrency <= 0 {
		o.Concurrency = 4
	}
	r := &soakRig{events: newSoakEvents()}
	upstreamTransport, browserTransport := soakTransport(o.Concurrency), soakTransport(o.Concurrency)
	r.transports = append(r.transports, upstreamTransport, browserTransport)
	r.browser = &http.Client{
		Transport:     browserTransport,
		Timeout:       30 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
	r.idp = oauthproxytest.NewServer(oauthproxytest.Options{
		ClientID:     "upstream-client",
		ClientSecret: "upstream-secret",
		IssueIDToken: !o.NoIDToken,
		RequirePKCE:  true,
	})

	var handler atomic.Pointer[http.Handler]
	r.base = directBaseURL
	if o.Serve {
		r.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
			if h := handler.Load(); h != nil {
				(*h).ServeHTTP(w, req)
				return
			}
			http.NotFound(w, req)
		}))
		r.base = r.srv.URL
		tr := soakTransport(o.Concurrency)
		r.transports = append(r.transports, tr)
		r.client = &http.Client{Transport: tr, Timeout: 30 * time.Second}
	}
	cfg := oauthproxy.Config{
		BaseURL:                       r.base,
		UpstreamAuthorizationEndpoint: r.idp.AuthorizationEndpoint(),
		UpstreamTokenEndpoint:         r.idp.TokenEndpoint(),
		UpstreamClientID:              "upstream-client",
		UpstreamClientSecret:          "upstream-secret",
		Scopes:                        []string{"openid", "email", "profile"},
		JWTSigningKey:                 testJWTKey,
		EncryptionKey:                 testEncKey,
		ConsentSigningKey:             testConsentKey,
		Logger:                        discardLogger(),
		HTTPClient:                    &http.Client{Transport: upstreamTransport, Timeout: 10 * time.Second},
		TokenStorage:                  o.Store,
		OnEvent:                       r.events.record,
	}
	if o.Config != nil {
		o.Config(&cfg)
	}
	p, err := oauthproxy.New(cfg)
	if err != nil {
		r.close()
		return nil, err
	}
	r.p = p
	mux := http.NewServeMux()
	mux.Handle("/", p.Handler())
	mux.Handle("/mcp", p.RequireBearer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.WriteHeader(http.StatusOK)
	})))
	if o.Serve {
		var h http.Handler = mux
		handler.Store(&h)
	} else {
		r.token = mux
		r.mcp = mux
	}
	return r, nil
}

// close destroys the proxy, stops the servers and closes idle connections.
func (r *soakRig) close() {
	r.closeOnce.Do(func() {
		if r.p != nil {
			r.p.Destroy()
		}
		if r.srv != nil {
			r.srv.Close()
		}
		r.idp.Close()
		for _, tr := range r.transports {
			tr.CloseIdleConnections()
		}
	})
}

// ---------------------------------------------------------------------------
// requests

// soakAnswer is an HTTP answer of the proxy, decoded.
type soakAnswer struct {
	Status  int
	Error   string // the OAuth error code, if any
	Desc    string
	WWWAuth string
	Access  string
	Refresh string
	Body    string // the body, shortened, for failure reports
	raw     []byte
}

func (a soakAnswer) String() string {
	if a.Error != "" {
		return fmt.Sprintf("HTTP %d %s (%s)", a.Status, a.Error, a.Desc)
	}
	return fmt.Sprintf("HTTP %d %.120s", a.Status, a.Body)
}

// soakAuth is how a request authenticates the client.
type soakAuth struct {
	Method     string // none, client_secret_basic, client_secret_post
	ID, Secret string
	RawHeader  string // an Authorization header sent as is (junk)
}

// do sends an HTTP request to the proxy and decodes the answer.
func (r *soakRig) do(ctx context.Context, method, path, contentType string, body io.Reader, header http.Header) (soakAnswer, error) {
	var raw []byte
	var status int
	var hdr http.Header
	if r.srv != nil {
		req, err := http.NewRequestWithContext(ctx, method, r.base+path, body)
		if err != nil {
			return soakAnswer{}, err
		}
		for k, v := range header {
			req.Header[k] = v
		}
		if contentType != "" {
			req.Header.Set("Content-Type", contentType)
		}
		resp, err := r.client.Do(req)
		if err != nil {
			return soakAnswer{}, err
		}
		raw, err = io.ReadAll(io.LimitReader(resp.Body, 1<<20))
		resp.Body.Close()
		if err != nil {
			return soakAnswer{}, err
		}
		status, hdr = resp.StatusCode, resp.Header
	} else {
		req := httptest.NewRequestWithContext(ctx, method, r.base+path, body)
		req.RemoteAddr = "127.0.0.1:40000"
		for k, v := range header {
			req.Header[k] = v
		}
		if contentType != "" {
			req.Header.Set("Content-Type", contentType)
		}
		rec := httptest.NewRecorder()
		h := r.token
		if path == "/mcp" {
			h = r.mcp
		}
		h.ServeHTTP(rec, req)
		raw, status, hdr = rec.Body.Bytes(), rec.Code, rec.Header()
	}
	a := soakAnswer{Status: status, WWWAuth: hdr.Get("WWW-Authenticate"), raw: raw}
	a.Body = string(raw)
	if len(a.Body) > 300 {
		a.Body = a.Body[:300]
	}
	var fields struct {
		Error        string `json:"error"`
		Desc         string `json:"error_description"`
		AccessToken  string `json:"access_token"`
		RefreshToken string `json:"refresh_token"`
	}
	if len(raw) > 0 && bytes.HasPrefix(bytes.TrimSpace(raw), []byte("{")) {
		if err := json.Unmarshal(raw, &fields); err != nil {
			return a, fmt.Errorf("undecodable answer %s: %w", a, err)
		}
	}
	a.Error, a.Desc, a.Access, a.Refresh = fields.Error, fields.Desc, fields.AccessToken, fields.RefreshToken
	return a, nil
}

// tokenRequest posts form to the token endpoint, authenticating with auth.
func (r *soakRig) tokenRequest(ctx context.Context, auth soakAuth, form url.Values) (soakAnswer, error) {
	form = cloneValues(form)
	header := http.Header{}
	switch {
	case auth.RawHeader != "":
		header.Set("Authorization", auth.RawHeader)
	case auth.Method == "client_secret_basic":
		header.Set("Authorization", "Basic "+base64.StdEncoding.EncodeToString(
			[]byte(url.QueryEscape(auth.ID)+":"+url.QueryEscape(auth.Secret))))
	case auth.Method == "client_secret_post":
		form.Set("client_id", auth.ID)
		form.Set("client_secret", auth.Secret)
	case auth.ID != "":
		form.Set("client_id", auth.ID)
	}
	return r.do(ctx, http.MethodPost, "/oauth/token", "application/x-www-form-urlencoded", strings.NewReader(form.Encode()), header)
}

// bearer calls the protected endpoint with access and returns the status.
func (r *soakRig) bearer(ctx context.Context, access string) (int, error) {
	a, err := r.do(ctx, http.MethodPost, "/mcp", "", nil, http.Header{"Authorization": {"Bearer " + access}})
	return a.Status, err
}

// soakClient is a registered client.
type soakClient struct {
	ID, Secret, Method string
}

func (c soakClient) auth() soakAuth { return soakAuth{Method: c.Method, ID: c.ID, Secret: c.Secret} }

// register registers a client at the registration endpoint.
func (r *soakRig) register(ctx context.Context, method string) (soakClient, error) {
	body, _ := json.Marshal(map[string]any{
		"redirect_uris":              []string{clientRedirect},
		"token_endpoint_auth_method": method,
		"grant_types":                []string{"authorization_code", "refresh_token"},
		"client_name":                "Soak Client",
	})
	a, err := r.do(ctx, http.MethodPost, "/oauth/register", "application/json", bytes.NewReader(body), nil)
	if err != nil {
		return soakClient{}, err
	}
	if a.Status != http.StatusCreated {
		return soakClient{}, fmt.Errorf("registration: %s", a)
	}
	var info oauthproxy.ClientInformation
	if err := json.Unmarshal(a.raw, &info); err != nil || info.ClientID == "" {
		return soakClient{}, fmt.Errorf("registration answered %s", a)
	}
	if (method != "none") != (info.ClientSecret != "") {
		return soakClient{}, fmt.Errorf("registration as %s answered secret=%t", method, info.ClientSecret != "")
	}
	return soakClient{ID: info.ClientID, Secret: info.ClientSecret, Method: method}, nil
}

// login runs the browser part through the typed methods (authorize, consent
// page, approval), the fake upstream over HTTP, and the callback. It returns
// the proxy's code and the verifier that redeems it.
func (r *soakRig) login(ctx context.Context, c soakClient) (code, verifier string, err error) {
	verifier = pkce.GenerateVerifier()
	state := "st-" + strconv.FormatUint(rand.Uint64(), 36)
	res, err := r.p.Authorize(ctx, &oauthproxy.AuthorizationRequest{
		ResponseType:        "code",
		ClientID:            c.ID,
		RedirectURI:         clientRedirect,
		Scope:               "openid email",
		State:               state,
		CodeChallenge:       pkce.Challenge(verifier),
		CodeChallengeMethod: "S256",
	})
	if err != nil {
		return "", "", fmt.Errorf("Authorize: %w", err)
	}
	page, err := r.p.ConsentPage(ctx, res.TransactionID, "")
	if err != nil {
		return "", "", fmt.Errorf("ConsentPage: %w", err)
	}
	dec, err := r.p.HandleConsent(ctx, &oauthproxy.ConsentDecision{
		TransactionID: res.TransactionID, Approve: true, CSRFToken: page.CSRFToken, CSRFCookie: page.CSRFCookie,
	})
	if err != nil {
		return "", "", fmt.Errorf("HandleConsent: %w", err)
	}
	upCode, upState, err := r.upstreamLogin(ctx, dec.RedirectURL)
	if err != nil {
		return "", "", err
	}
	cb, err := r.p.HandleCallback(ctx, &oauthproxy.CallbackRequest{Code: upCode, State: upState, BrowserBinding: dec.BrowserBinding})
	if err != nil {
		return "", "", fmt.Errorf("HandleCallback: %w", err)
	}
	loc, err := url.Parse(cb.RedirectURL)
	if err != nil {
		return "", "", fmt.Errorf("HandleCallback redirect: %w", err)
	}
	q := loc.Query()
	switch {
	case q.Get("error") != "":
		return "", "", fmt.Errorf("HandleCallback: %s: %s", q.Get("error"), q.Get("error_description"))
	case q.Get("state") != state || q.Get("code") == "":
		return "", "", fmt.Errorf("HandleCallback: bad authorization response %s", loc.RawQuery)
	}
	return q.Get("code"), verifier, nil
}

// upstreamLogin plays the browser at the upstream's authorization endpoint and
// returns the code and state it sends back to the proxy's callback.
func (r *soakRig) upstreamLogin(ctx context.Context, upstreamURL string) (code, state string, err error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, upstreamURL, nil)
	if err != nil {
		return "", "", err
	}
	resp, err := r.browser.Do(req)
	if err != nil {
		return "", "", fmt.Errorf("upstream authorize: %w", err)
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	loc, err := resp.Location()
	if resp.StatusCode != http.StatusFound || err != nil {
		return "", "", fmt.Errorf("upstream authorize: HTTP %d, location %v", resp.StatusCode, err)
	}
	if e := loc.Query().Get("error"); e != "" {
		return "", "", fmt.Errorf("upstream authorize: %s", e)
	}
	return loc.Query().Get("code"), loc.Query().Get("state"), nil
}

// exchange redeems code at the token endpoint.
func (r *soakRig) exchange(ctx context.Context, auth soakAuth, code, verifier string) (soakAnswer, error) {
	return r.tokenRequest(ctx, auth, url.Values{
		"grant_type":    {"authorization_code"},
		"code":          {code},
		"redirect_uri":  {clientRedirect},
		"code_verifier": {verifier},
	})
}

// refresh uses a refresh token at the token endpoint.
func (r *soakRig) refresh(ctx context.Context, auth soakAuth, rt string) (soakAnswer, error) {
	return r.tokenRequest(ctx, auth, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {rt}})
}

// ---------------------------------------------------------------------------
// the audit events, counted

type soakEvents struct {
	mu     sync.Mutex
	counts map[oauthproxy.EventType]int
}

func newSoakEvents() *soakEvents {
	return &soakEvents{counts: map[oauthproxy.EventType]int{}}
}

func (e *soakEvents) record(ev oauthproxy.Event) {
	e.mu.Lock()
	e.counts[ev.Type]++
	e.mu.Unlock()
}

func (e *soakEvents) count(t oauthproxy.EventType) int {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.counts[t]
}

func (e *soakEvents) String() string {
	e.mu.Lock()
	defer e.mu.Unlock()
	return formatCounts(e.counts)
}

// formatCounts renders a map of counts as "a 1, b 2" in key order.
func formatCounts[K ~string](m map[K]int) string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, string(k))
	}
	sort.Strings(keys)
	parts := make([]string, 0, len(keys))
	for _, k := range keys {
		parts = append(parts, fmt.Sprintf("%s %d", k, m[K(k)]))
	}
	if len(parts) == 0 {
		return "none"
	}
	return strings.Join(parts, ", ")
}

// ---------------------------------------------------------------------------
// process figures

// vmHWM is the process's peak resident set (VmHWM in /proc/self/status), or
// 0 where there is no such file.
func vmHWM() int64 {
	f, err := os.Open("/proc/self/status")
	if err != nil {
		return 0
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if rest, ok := strings.CutPrefix(sc.Text(), "VmHWM:"); ok {
			kb, err := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(rest), "kB")), 10, 64)
			if err != nil {
				return 0
			}
			return kb << 10
		}
	}
	return 0
}

// resetVmHWM resets the peak resident set to the current one (Linux 4.0+),
// so VmHWM afterwards is the peak of what follows. It reports whether it did.
func resetVmHWM() bool {
	return os.WriteFile("/proc/self/clear_refs", []byte("5"), 0) == nil
}

// heapAfterGC is HeapInuse (bytes in in-use spans, free slots included) and
// HeapAlloc (bytes of live objects) after two full collections.
func heapAfterGC() (inuse, live uint64) {
	runtime.GC()
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return ms.HeapInuse, ms.HeapAlloc
}

// goroutinePeak samples runtime.NumGoroutine until stopped.
type goroutinePeak struct {
	peak atomic.Int64
	quit chan struct{}
	done chan struct{}
}

func startGoroutinePeak(every time.Duration) *goroutinePeak {
	g := &goroutinePeak{quit: make(chan struct{}), done: make(chan struct{})}
	g.peak.Store(int64(runtime.NumGoroutine()))
	go func() {
		defer close(g.done)
		t := time.NewTicker(every)
		defer t.Stop()
		for {
			select {
			case <-g.quit:
				return
			case <-t.C:
				if n := int64(runtime.NumGoroutine()); n > g.peak.Load() {
					g.peak.Store(n)
				}
			}
		}
	}()
	return g
}

// stop ends the sampling and returns the peak.
func (g *goroutinePeak) stop() int {
	close(g.quit)
	<-g.done
	return int(g.peak.Load())
}

// waitGoroutines waits up to d for the goroutine count to fall to at most n,
// and returns the last count.
func waitGoroutines(n int, d time.Duration) int {
	deadline := time.Now().Add(d)
	for {
		got := runtime.NumGoroutine()
		if got <= n || time.Now().After(deadline) {
			return got
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func mib(b uint64) float64 { return float64(b) / (1 << 20) }

// errorsJoinShort joins up to n errors for a failure message.
func errorsJoinShort(errs []error, n int) error {
	if len(errs) > n {
		errs = append(errs[:n:n], fmt.Errorf("… and %d more", len(errs)-n))
	}
	return errors.Join(errs...)
}
