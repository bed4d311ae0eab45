package oauthproxy_test

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"

	"github.com/oauthproxy-go/oauthproxy"
	"github.com/oauthproxy-go/oauthproxy/oauthproxytest"
	"github.com/oauthproxy-go/oauthproxy/storage"
	"github.com/oauthproxy-go/oauthproxy/storage/redis"
	"github.com/oauthproxy-go/oauthproxy/storage/redis/redistest"
	"github.com/stretchr/testify/require"
)

// replicaHeader lets a test send one request to a chosen replica, overriding
// the deployment's current target. The front end strips it.
const replicaHeader = "X-Test-Replica"

// deployment is what production looks like: ONE public origin (BaseURL, the
// issuer, the cookie host) in front of any number of proxy processes, like a
// load balancer. Which replica serves a request is a switch the test controls
// (use), or a per-request header (replicaHeader). Replicas can be started and
// stopped while the origin stays up, which is also how a restart looks.
//
// It embeds the harness's env, pointed at the front end, so register, code,
// exchange, refresh and callMCP go through the load balancer.
type deployment struct {
	*env

	mu       sync.Mutex
	replicas map[string]*oauthproxy.Proxy
	handlers map[string]http.Handler
	target   string
	hops     []hop
}

// hop is one request the front end routed.
type hop struct{ Replica, Route string }

// newDeployment starts the fake upstream and the front end, with no replica
// yet. The base Config carries fixed keys, as every replica must share them.
func newDeployment(t *testing.T, opts ...envOption) *deployment {
	t.Helper()
	cfg, idpOpts := testSetup(opts...)
	d := &deployment{
		env:      &env{t: t},
		replicas: map[string]*oauthproxy.Proxy{},
		handlers: map[string]http.Handler{},
	}
	d.idp = oauthproxytest.NewServer(idpOpts)
	t.Cleanup(d.idp.Close)
	d.srv = httptest.NewServer(http.HandlerFunc(d.route))
	t.Cleanup(d.srv.Close)

	cfg.BaseURL = d.srv.URL
	cfg.UpstreamAuthorizationEndpoint = d.idp.AuthorizationEndpoint()
	cfg.UpstreamTokenEndpoint = d.idp.TokenEndpoint()
	d.cfg = cfg
	return d
}

// route is the load balancer.
func (d *deployment) route(w http.ResponseWriter, r *http.Request) {
	name := r.Header.Get(replicaHeader)
	r.Header.Del(replicaHeader)
	d.mu.Lock()
	if name == "" {
		name = d.target
	}
	h := d.handlers[name]
	d.hops = append(d.hops, hop{name, r.Method + " " + r.URL.Path})
	d.mu.Unlock()
	if h == nil {
		http.Error(w, "no replica "+name, http.StatusBadGateway)
		return
	}
	h.ServeHTTP(w, r)
}

// start runs a replica named name on store, with the deployment's Config
// (BaseURL, keys, upstream) changed by mods, and makes it the target.
func (d *deployment) start(name string, store storage.TokenStorage, mods ...func(*oauthproxy.Config)) *oauthproxy.Proxy {
	d.t.Helper()
	cfg := d.cfg
	cfg.TokenStorage = store
	for _, m := range mods {
		m(&cfg)
	}
	p, err := oauthproxy.New(cfg)
	require.NoError(d.t, err)
	d.t.Cleanup(p.Destroy)
	mux := http.NewServeMux()
	mux.Handle("/", p.Handler())
	mux.Handle("/mcp", p.RequireBearer(http.HandlerFunc(echoClaims)))

	d.mu.Lock()
	defer d.mu.Unlock()
	require.Nil(d.t, d.replicas[name], "replica %s is already running", name)
	d.replicas[name], d.handlers[name] = p, mux
	d.target = name
	return p
}

// stop takes a replica out of the load balancer and destroys it, as a
// process shutting down would.
func (d *deployment) stop(name string) {
	d.t.Helper()
	d.mu.Lock()
	p := d.replicas[name]
	delete(d.replicas, name)
	delete(d.handlers, name)
	d.mu.Unlock()
	require.NotNil(d.t, p, "replica %s is not running", name)
	p.Destroy()
}

// use sends every following request without replicaHeader to name.
func (d *deployment) use(name string) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.target = name
}

// replica returns the running replica name, for the typed methods.
func (d *deployment) replica(name string) *oauthproxy.Proxy {
	d.t.Helper()
	d.mu.Lock()
	defer d.mu.Unlock()
	p := d.replicas[name]
	require.NotNil(d.t, p, "replica %s is not running", name)
	return p
}

// routed returns the hops since the last call, and forgets them.
func (d *deployment) routed() []hop {
	d.mu.Lock()
	defer d.mu.Unlock()
	h := d.hops
	d.hops = nil
	return h
}

// tokenVia is env.token sent to one replica, for requests raced on several.
// It may run on any goroutine: it reports failures as errors, not t.Fatal.
func (d *deployment) tokenVia(replica string, c registered, form url.Values) (tokenResult, error) {
	form = cloneValues(form)
	switch c.AuthMethod {
	case "client_secret_post":
		form.Set("client_id", c.ID)
		form.Set("client_secret", c.Secret)
	case "client_secret_basic":
	default:
		form.Set("client_id", c.ID)
	}
	req, err := http.NewRequest(http.MethodPost, d.srv.URL+"/oauth/token", strings.NewReader(form.Encode()))
	if err != nil {
		return tokenResult{}, err
	}
	if c.AuthMethod == "client_secret_basic" {
		req.SetBasicAuth(url.QueryEscape(c.ID), url.QueryEscape(c.Secret))
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set(replicaHeader, replica)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return tokenResult{}, err
	}
	defer resp.Body.Close()
	out := tokenResult{Status: resp.StatusCode, Header: resp.Header}
	if err := json.NewDecoder(resp.Body).Decode(&out.Body); err != nil {
		return tokenResult{}, err
	}
	return out, nil
}

// redisStore is what one replica process builds: its own go-redis client (with
// ContextTimeoutEnabled, as the README says) on the shared server at addr.
func redisStore(t *testing.T, addr string) *redis.Store {
	t.Helper()
	return redis.New(redistest.NewClient(t, addr))
}

// openConsent is the first half of env.login: the browser asks for
// /authorize and gets the consent page, whose form it returns.
func (d *deployment) openConsent(b *http.Client, params url.Values) url.Values {
	d.t.Helper()
	resp, err := b.Get(d.srv.URL + "/oauth/authorize?" + params.Encode())
	require.NoError(d.t, err)
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	require.Equal(d.t, http.StatusOK, resp.StatusCode, "expected the consent page, got: %s", body)
	form := url.Values{"action": {"approve"}}
	for _, m := range hiddenInput.FindAllStringSubmatch(string(body), -1) {
		form.Set(m[1], htmlUnescape(m[2]))
	}
	require.NotEmpty(d.t, form.Get("txn"), "consent page without a transaction: %s", body)
	require.NotEmpty(d.t, form.Get("csrf_token"), "consent page without a CSRF token: %s", body)
	return form
}

// approve is the second half: the browser approves, goes to the upstream and
// back through the callback, and stops at the client's redirect URI, which
// must carry a code for state, with iss the one public origin.
func (d *deployment) approve(b *http.Client, form url.Values) string {
	d.t.Helper()
	resp, err := b.PostForm(d.srv.URL+"/oauth/consent", form)
	require.NoError(d.t, err)
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	require.Equal(d.t, http.StatusFound, resp.StatusCode, "expected a redirect to the client, got: %s", body)
	loc, err := url.Parse(resp.Header.Get("Location"))
	require.NoError(d.t, err)
	q := loc.Query()
	require.Empty(d.t, q.Get("error"), "authorization failed: %s", q.Get("error_description"))
	require.Equal(d.t, "client-state-123", q.Get("state"))
	require.Equal(d.t, d.srv.URL, q.Get("iss"), "RFC 9207 iss is the one public origin")
	require.NotEmpty(d.t, q.Get("code"))
	return q.Get("code")
}
