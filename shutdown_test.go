package oauthproxy_test

// Context and shutdown (issue 8, item 3). Every call the proxy makes to the
// upstream or to storage runs under the request's context: when the client
// goes away (or a deadline passes) while that call hangs, the request returns
// at once with an error instead of holding a goroutine until the dependency
// answers. Destroy in the middle of traffic stops the cleanup loop and
// nothing else: requests keep getting answers, nothing panics, no goroutine
// stays behind.

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/oauthproxy-go/oauthproxy"
	"github.com/oauthproxy-go/oauthproxy/internal/pkce"
	"github.com/oauthproxy-go/oauthproxy/storage"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// shutPrompt is how soon after its context is cancelled a call must return.
// Returning is immediate in practice; the margin is for the race detector on
// a loaded two-core machine.
const shutPrompt = 2 * time.Second

// shutReach bounds how long a call may take to reach the call that hangs.
const shutReach = 20 * time.Second

// errShutReleased is what a hung storage call returns when the test, not the
// context, ends it: seeing it means the proxy did not pass the context on.
var errShutReleased = errors.New("released by the test, not by the request's context")

// cancelWhileHung runs call with a context of its own, waits until entered
// says the call is hung in a dependency, cancels the context and requires
// the call to return within shutPrompt. release unhangs the dependency when
// the call does not return, so no goroutine is left behind.
func cancelWhileHung(t *testing.T, entered <-chan struct{}, release func(), call func(ctx context.Context) error) error {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- call(ctx) }()
	select {
	case <-entered:
	case err := <-done:
		t.Fatalf("the call returned before it reached the dependency that hangs: %v", err)
	case <-time.After(shutReach):
		release()
		<-done
		t.Fatalf("the call never reached the dependency that hangs")
	}
	cancel()
	cancelled := time.Now()
	select {
	case err := <-done:
		t.Logf("returned %s after the cancel: %v", time.Since(cancelled).Round(time.Microsecond), err)
		return err
	case <-time.After(shutPrompt):
		release()
		err := <-done
		t.Fatalf("still running %s after its context was cancelled (it returned only when the dependency was released: %v)", shutPrompt, err)
		return nil
	}
}

// ---------------------------------------------------------------------------
// a storage whose calls hang

// shutStore wraps a TokenStorage. Armed with an operation and a key prefix,
// it hangs the next matching call until the call's context ends (returning
// ctx.Err()) or the test releases it (returning errShutReleased). With
// honourCtx, every call first fails if its context has already ended, as a
// networked backend (Redis) does.
type shutStore struct {
	storage.TokenStorage
	honourCtx bool
	release   chan struct{}
	once      sync.Once

	mu    sync.Mutex
	armed *shutArm
}

type shutArm struct {
	op, prefix string
	entered    chan struct{}
}

func newShutStore(t *testing.T, honourCtx bool) *shutStore {
	s := &shutStore{TokenStorage: storage.NewMemory(), honourCtx: honourCtx, release: make(chan struct{})}
	t.Cleanup(s.unhang)
	return s
}

// arm hangs the next op ("save", "get", "take", "delete") on a key with prefix.
func (s *shutStore) arm(op, prefix string) <-chan struct{} {
	a := &shutArm{op: op, prefix: prefix, entered: make(chan struct{})}
	s.mu.Lock()
	s.armed = a
	s.mu.Unlock()
	return a.entered
}

// unhang releases every hung call for good.
func (s *shutStore) unhang() { s.once.Do(func() { close(s.release) }) }

// hang reports whether this call is the armed one, and if so hangs it.
func (s *shutStore) hang(ctx context.Context, op, key string) (bool, error) {
	if s.honourCtx {
		if err := ctx.Err(); err != nil {
			return true, err
		}
	}
	s.mu.Lock()
	a := s.armed
	if a == nil || a.op != op || !strings.HasPrefix(key, a.prefix) {
		s.mu.Unlock()
		return false, nil
	}
	s.armed = nil
	s.mu.Unlock()
	close(a.entered)
	select {
	case <-ctx.Done():
		return true, ctx.Err()
	case <-s.release:
		return true, errShutReleased
	}
}

func (s *shutStore) Save(ctx context.Context, key string, value []byte, ttl time.Duration) error {
	if hung, err := s.hang(ctx, "save", key); hung {
		return err
	}
	return s.TokenStorage.Save(ctx, key, value, ttl)
}

func (s *shutStore) Get(ctx context.Context, key string) ([]byte, error) {
	if hung, err := s.hang(ctx, "get", key); hung {
		return nil, err
	}
	return s.TokenStorage.Get(ctx, key)
}

func (s *shutStore) Take(ctx context.Context, key string) ([]byte, error) {
	if hung, err := s.hang(ctx, "take", key); hung {
		return nil, err
	}
	return s.TokenStorage.Take(ctx, key)
}

func (s *shutStore) Delete(ctx context.Context, key string) error {
	if hung, err := s.hang(ctx, "delete", key); hung {
		return err
	}
	return s.TokenStorage.Delete(ctx, key)
}

// ---------------------------------------------------------------------------
// an upstream whose calls hang

// shutSignal is an http.RoundTripper that reports, once, when the proxy sends
// a request whose path ends with suffix: the upstream then holds it
// (oauthproxytest HangNext) and the test knows the proxy is waiting.
type shutSignal struct {
	next    http.RoundTripper
	mu      sync.Mutex
	suffix  string
	entered chan struct{}
}

func (s *shutSignal) expect(suffix string) <-chan struct{} {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.suffix, s.entered = suffix, make(chan struct{})
	return s.entered
}

func (s *shutSignal) RoundTrip(req *http.Request) (*http.Response, error) {
	s.mu.Lock()
	if s.entered != nil && strings.HasSuffix(req.URL.Path, s.suffix) {
		close(s.entered)
		s.entered = nil
	}
	s.mu.Unlock()
	return s.next.RoundTrip(req)
}

// hangingServer is an upstream endpoint (userinfo, revocation, a client
// metadata document) that holds every request until the client gives up or
// the test ends.
type hangingServer struct {
	srv     *httptest.Server
	entered chan struct{}
	once    sync.Once
	release chan struct{}
}

func newHangingServer(t *testing.T, tls bool) *hangingServer {
	h := &hangingServer{entered: make(chan struct{}), release: make(chan struct{})}
	handler := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h.once.Do(func() { close(h.entered) })
		select {
		case <-r.Context().Done():
		case <-h.release:
		}
		http.Error(w, "released", http.StatusServiceUnavailable)
	})
	if tls {
		h.srv = httptest.NewTLSServer(handler)
	} else {
		h.srv = httptest.NewServer(handler)
	}
	var closeOnce sync.Once
	t.Cleanup(func() { closeOnce.Do(func() { close(h.release) }); h.srv.Close() })
	return h
}

// ---------------------------------------------------------------------------
// a flow, step by step

// shutFlow walks one flow through the typed methods, one named step at a
// time, so a test can hang any step's storage or upstream call.
type shutFlow struct {
	t   *testing.T
	rig *soakRig

	client   *oauthproxy.ClientInformation
	verifier string
	txn      string
	page     *oauthproxy.ConsentPage
	consent  *oauthproxy.ConsentResult
	upCode   string
	upState  string
	code     string
	tokens   *oauthproxy.TokenResponse
	// refreshed is the refresh step's answer.
	refreshed *oauthproxy.TokenResponse
}

// shutSteps are the flow's steps in order; each runs under the given context.
var shutSteps = []struct {
	name string
	run  func(f *shutFlow, ctx context.Context) error
}{
	{"register", func(f *shutFlow, ctx context.Context) error {
		c, err := f.rig.p.RegisterClient(ctx, &oauthproxy.ClientMetadata{
			RedirectURIs: []string{clientRedirect}, TokenEndpointAuthMethod: "client_secret_basic",
			GrantTypes: []string{"authorization_code", "refresh_token"},
		})
		f.client = c
		return err
	}},
	{"authorize", func(f *shutFlow, ctx context.Context) error {
		f.verifier = "shutdown-test-verifier-0123456789-0123456789-0123456789"
		res, err := f.rig.p.Authorize(ctx, authRequest(f.client, pkce.Challenge(f.verifier)))
		if err == nil {
			f.txn = res.TransactionID
		}
		return err
	}},
	{"consent page", func(f *shutFlow, ctx context.Context) error {
		page, err := f.rig.p.ConsentPage(ctx, f.txn, "")
		f.page = page
		return err
	}},
	{"consent", func(f *shutFlow, ctx context.Context) error {
		res, err := f.rig.p.HandleConsent(ctx, &oauthproxy.ConsentDecision{
			TransactionID: f.txn, Approve: true, CSRFToken: f.page.CSRFToken, CSRFCookie: f.page.CSRFCookie,
		})
		f.consent = res
		return err
	}},
	{"upstream", func(f *shutFlow, ctx context.Context) error {
		var err error
		f.upCode, f.upState, err = f.rig.upstreamLogin(ctx, f.consent.RedirectURL)
		return err
	}},
	{"callback", func(f *shutFlow, ctx context.Context) error {
		res, err := f.rig.p.HandleCallback(ctx, &oauthproxy.CallbackRequest{
			Code: f.upCode, State: f.upState, BrowserBinding: f.consent.BrowserBinding,
		})
		if err != nil {
			return err
		}
		loc, err := url.Parse(res.RedirectURL)
		if err != nil {
			return err
		}
		if e := loc.Query().Get("error"); e != "" {
			// The callback answers the browser with a redirect carrying the error.
			return &oauthproxy.Error{Code: e, Description: loc.Query().Get("error_description")}
		}
		f.code = loc.Query().Get("code")
		return nil
	}},
	{"token", func(f *shutFlow, ctx context.Context) error {
		tok, err := f.rig.p.ExchangeAuthorizationCode(ctx, codeRequest(f.client, f.code, f.verifier))
		f.tokens = tok
		return err
	}},
	{"bearer", func(f *shutFlow, ctx context.Context) error {
		_, err := f.rig.p.VerifyAccessToken(ctx, f.tokens.AccessToken)
		return err
	}},
	{"upstream tokens", func(f *shutFlow, ctx context.Context) error {
		_, err := f.rig.p.LoadUpstreamTokens(ctx, f.tokens.AccessToken)
		return err
	}},
	{"refresh", func(f *shutFlow, ctx context.Context) error {
		tok, err := f.rig.p.ExchangeRefreshToken(ctx, &oauthproxy.TokenRequest{
			GrantType: "refresh_token", RefreshToken: f.tokens.RefreshToken, Client: creds(f.client),
		})
		f.refreshed = tok
		return err
	}},
	{"revoke", func(f *shutFlow, ctx context.Context) error {
		return f.rig.p.RevokeToken(ctx, &oauthproxy.RevocationRequest{
			Token: f.refreshed.RefreshToken, TokenTypeHint: "refresh_token", Client: creds(f.client),
		})
	}},
}

// until runs the steps before step, each with a live context, and returns
// the step itself.
func (f *shutFlow) until(step string) func(f *shutFlow, ctx context.Context) error {
	f.t.Helper()
	for _, s := range shutSteps {
		if s.name == step {
			return s.run
		}
		require.NoError(f.t, s.run(f, context.Background()), "step %s", s.name)
	}
	f.t.Fatalf("no step %q", step)
	return nil
}

// newShutRig is a rig for one test, closed when it ends.
func newShutRig(t *testing.T, o soakRigOptions) *soakRig {
	t.Helper()
	rig, err := newSoakRig(o)
	require.NoError(t, err)
	t.Cleanup(rig.close)
	return rig
}

// ---------------------------------------------------------------------------
// storage

// TestContext_StorageCallsHonourTheRequestContext hangs each storage call
// of each step of a flow in turn and cancels the step's context: the step
// must return at once, with an error (for the bookkeeping writes made after
// the client already has its answer, success is fine too).
func TestContext_StorageCallsHonourTheRequestContext(t *testing.T) {
	for _, tc := range []struct {
		step, op, prefix string
		mayPass          bool // the hung call is best-effort bookkeeping
	}{
		{"register", "save", "client:", false},
		{"authorize", "get", "client:", false},
		{"authorize", "save", "txn:", false},
		{"consent page", "get", "txn:", false},
		{"consent", "get", "txn:", false},
		{"callback", "take", "txn:", false},
		{"callback", "save", "grant:", false},
		{"callback", "save", "code:", false},
		{"token", "get", "client:", false},
		{"token", "get", "code:", false},
		{"token", "take", "code:", false},
		{"token", "get", "grant:", false},
		{"token", "save", "grant:", false},
		{"token", "save", "refresh:", false},
		{"token", "save", "usedcode:", true},
		{"bearer", "get", "revoked:", false},
		{"upstream tokens", "get", "grant:", false},
		{"refresh", "get", "client:", false},
		{"refresh", "get", "refresh:", false},
		{"refresh", "take", "refresh:", false},
		{"refresh", "get", "grant:", false},
		{"refresh", "save", "grant:", false},
		{"refresh", "save", "refresh:", false},
		{"refresh", "save", "rotated:", true},
		{"revoke", "get", "refresh:", false},
		{"revoke", "save", "revoked:", false},
		{"revoke", "delete", "grant:", false},
	} {
		t.Run(tc.step+"/"+tc.op+" "+tc.prefix, func(t *testing.T) {
			store := newShutStore(t, false)
			f := &shutFlow{t: t, rig: newShutRig(t, soakRigOptions{Store: store})}
			step := f.until(tc.step)
			entered := store.arm(tc.op, tc.prefix)
			err := cancelWhileHung(t, entered, store.unhang, func(ctx context.Context) error { return step(f, ctx) })
			assert.NotErrorIs(t, err, errShutReleased)
			if !tc.mayPass {
				require.Error(t, err, "a request whose storage call was cancelled cannot have succeeded")
				var oe *oauthproxy.Error
				if errors.As(err, &oe) {
					assert.Contains(t, []string{oauthproxy.ErrCodeTemporarilyUnavailable, oauthproxy.ErrCodeServerError}, oe.Code,
						"a storage failure is not the client's fault: %v", err)
				}
			}
		})
	}
}

// TestContext_TokenEndpointHonoursTheRequestContext: the same through
// Handler, whose requests carry the HTTP request's context — an in-process
// request (httptest) and a real one over loopback whose client gives up.
func TestContext_TokenEndpointHonoursTheRequestContext(t *testing.T) {
	t.Run("in process", func(t *testing.T) {
		store := newShutStore(t, false)
		f := &shutFlow{t: t, rig: newShutRig(t, soakRigOptions{Store: store})}
		f.until("token")
		entered := store.arm("get", "code:")
		var a soakAnswer
		err := cancelWhileHung(t, entered, store.unhang, func(ctx context.Context) error {
			var err error
			a, err = f.rig.exchange(ctx, soakAuth{Method: "client_secret_basic", ID: f.client.ClientID, Secret: f.client.ClientSecret}, f.code, f.verifier)
			return err
		})
		require.NoError(t, err)
		assert.Equal(t, http.StatusServiceUnavailable, a.Status, "%s", a)
		assert.Equal(t, oauthproxy.ErrCodeTemporarilyUnavailable, a.Error)
	})
	t.Run("over loopback", func(t *testing.T) {
		store := newShutStore(t, false)
		f := &shutFlow{t: t, rig: newShutRig(t, soakRigOptions{Store: store, Serve: true})}
		f.until("token")
		entered := store.arm("get", "code:")
		err := cancelWhileHung(t, entered, store.unhang, func(ctx context.Context) error {
			_, err := f.rig.exchange(ctx, soakAuth{Method: "client_secret_basic", ID: f.client.ClientID, Secret: f.client.ClientSecret}, f.code, f.verifier)
			return err
		})
		require.ErrorIs(t, err, context.Canceled, "the client gave up")
		// The server side saw the connection go and its storage call ended
		// with the context; the code is still good for a retry.
		a, err := f.rig.exchange(context.Background(), soakAuth{Method: "client_secret_basic", ID: f.client.ClientID, Secret: f.client.ClientSecret}, f.code, f.verifier)
		require.NoError(t, err)
		assert.Equal(t, http.StatusOK, a.Status, "%s", a)
	})
	t.Run("bearer check", func(t *testing.T) {
		store := newShutStore(t, false)
		f := &shutFlow{t: t, rig: newShutRig(t, soakRigOptions{Store: store})}
		f.until("bearer")
		entered := store.arm("get", "revoked:")
		var status int
		err := cancelWhileHung(t, entered, store.unhang, func(ctx context.Context) error {
			var err error
			status, err = f.rig.bearer(ctx, f.tokens.AccessToken)
			return err
		})
		require.NoError(t, err)
		assert.Equal(t, http.StatusServiceUnavailable, status)
	})
}

// TestContext_CancelledRedemptionKeepsTheCode: a client whose token request
// is cancelled while the proxy saves the grant gets nothing, so the proxy
// gives the code back (ExchangeAuthorizationCode restores it on a storage
// failure) and the client can retry. On a backend that honours contexts, as
// Redis does, that give-back must not run under the cancelled context, or it
// fails and the code is lost. Likewise for a refresh token.
func TestContext_CancelledRedemptionKeepsTheCode(t *testing.T) {
	t.Run("code", func(t *testing.T) {
		store := newShutStore(t, true)
		f := &shutFlow{t: t, rig: newShutRig(t, soakRigOptions{Store: store})}
		step := f.until("token")
		entered := store.arm("save", "grant:")
		err := cancelWhileHung(t, entered, store.unhang, func(ctx context.Context) error { return step(f, ctx) })
		require.Error(t, err)
		_, err = f.rig.p.ExchangeAuthorizationCode(context.Background(), codeRequest(f.client, f.code, f.verifier))
		require.NoError(t, err, "the retry with the same code succeeds: the cancelled attempt issued nothing")
	})
	t.Run("refresh token", func(t *testing.T) {
		store := newShutStore(t, true)
		f := &shutFlow{t: t, rig: newShutRig(t, soakRigOptions{Store: store})}
		step := f.until("refresh")
		entered := store.arm("save", "grant:")
		err := cancelWhileHung(t, entered, store.unhang, func(ctx context.Context) error { return step(f, ctx) })
		require.Error(t, err)
		require.NoError(t, step(f, context.Background()), "the retry with the same refresh token succeeds: the cancelled attempt issued nothing")
	})
}

// ---------------------------------------------------------------------------
// upstream

// TestContext_UpstreamCallsHonourTheRequestContext hangs each call the proxy
// makes to the upstream and cancels the request's context.
func TestContext_UpstreamCallsHonourTheRequestContext(t *testing.T) {
	// upstreamRig is a rig whose upstream HTTP client reports its requests.
	upstreamRig := func(t *testing.T, o soakRigOptions) (*soakRig, *shutSignal) {
		sig := &shutSignal{}
		adjust := o.Config
		o.Config = func(c *oauthproxy.Config) {
			sig.next = c.HTTPClient.Transport
			c.HTTPClient = &http.Client{Transport: sig, Timeout: time.Minute}
			if adjust != nil {
				adjust(c)
			}
		}
		return newShutRig(t, o), sig
	}
	// expired moves the proxy's clock past the upstream access token's life
	// (one hour), so the next use of the grant refreshes it upstream.
	clocked := func(clock *stepClock) func(*oauthproxy.Config) {
		return func(c *oauthproxy.Config) {
			c.Now = clock.Now
			c.AccessTokenTTL = 24 * time.Hour
		}
	}

	t.Run("callback: code exchange", func(t *testing.T) {
		rig, sig := upstreamRig(t, soakRigOptions{})
		f := &shutFlow{t: t, rig: rig}
		step := f.until("callback")
		entered := sig.expect("/token")
		rig.idp.HangNext(nil)
		err := cancelWhileHung(t, entered, rig.idp.Close, func(ctx context.Context) error { return step(f, ctx) })
		requireOAuthCode(t, err, oauthproxy.ErrCodeTemporarilyUnavailable)
	})
	t.Run("callback: userinfo", func(t *testing.T) {
		userinfo := newHangingServer(t, false)
		rig, _ := upstreamRig(t, soakRigOptions{NoIDToken: true, Config: func(c *oauthproxy.Config) {
			c.UpstreamUserInfoEndpoint = userinfo.srv.URL + "/userinfo"
		}})
		f := &shutFlow{t: t, rig: rig}
		step := f.until("callback")
		err := cancelWhileHung(t, userinfo.entered, func() { userinfo.srv.CloseClientConnections() }, func(ctx context.Context) error { return step(f, ctx) })
		require.Error(t, err)
	})
	t.Run("token: code exchange with ForwardPKCE", func(t *testing.T) {
		rig, sig := upstreamRig(t, soakRigOptions{Config: func(c *oauthproxy.Config) { c.ForwardPKCE = true }})
		f := &shutFlow{t: t, rig: rig}
		step := f.until("token")
		entered := sig.expect("/token")
		rig.idp.HangNext(nil)
		err := cancelWhileHung(t, entered, rig.idp.Close, func(ctx context.Context) error { return step(f, ctx) })
		requireOAuthCode(t, err, oauthproxy.ErrCodeTemporarilyUnavailable)
	})
	t.Run("refresh: upstream refresh", func(t *testing.T) {
		clock := newStepClock()
		rig, sig := upstreamRig(t, soakRigOptions{Config: clocked(clock)})
		f := &shutFlow{t: t, rig: rig}
		step := f.until("refresh")
		clock.Advance(2 * time.Hour)
		entered := sig.expect("/token")
		rig.idp.HangNext(nil)
		err := cancelWhileHung(t, entered, rig.idp.Close, func(ctx context.Context) error { return step(f, ctx) })
		requireOAuthCode(t, err, oauthproxy.ErrCodeTemporarilyUnavailable)
	})
	t.Run("LoadUpstreamTokens: upstream refresh", func(t *testing.T) {
		clock := newStepClock()
		rig, sig := upstreamRig(t, soakRigOptions{Config: clocked(clock)})
		f := &shutFlow{t: t, rig: rig}
		step := f.until("upstream tokens")
		clock.Advance(2 * time.Hour)
		entered := sig.expect("/token")
		rig.idp.HangNext(nil)
		err := cancelWhileHung(t, entered, rig.idp.Close, func(ctx context.Context) error { return step(f, ctx) })
		require.Error(t, err)
	})
	t.Run("LoadUpstreamTokens: waiting for another request's upstream refresh", func(t *testing.T) {
		// Two requests for one grant share one upstream refresh. The second
		// one's client gives up while the first one's refresh hangs: the
		// second must return at once, not when the first one's refresh ends.
		clock := newStepClock()
		rig, sig := upstreamRig(t, soakRigOptions{Config: clocked(clock)})
		f := &shutFlow{t: t, rig: rig}
		f.until("upstream tokens")
		clock.Advance(2 * time.Hour)
		entered := sig.expect("/token")
		release := make(chan struct{})
		var releaseOnce sync.Once
		unhang := func() { releaseOnce.Do(func() { close(release) }) }
		t.Cleanup(unhang)
		rig.idp.HangNext(release)
		first := make(chan error, 1)
		go func() {
			_, err := rig.p.LoadUpstreamTokens(context.Background(), f.tokens.AccessToken)
			first <- err
		}()
		select {
		case <-entered:
		case <-time.After(shutReach):
			t.Fatal("the first request never reached the upstream")
		}
		// The second request joins the refresh in flight (the upstream has
		// the first one's request, so the second is waiting for its answer).
		// It is given 100 ms to get there before its context is cancelled.
		joined := make(chan struct{})
		time.AfterFunc(100*time.Millisecond, func() { close(joined) })
		err := cancelWhileHung(t, joined, unhang, func(ctx context.Context) error {
			_, err := rig.p.LoadUpstreamTokens(ctx, f.tokens.AccessToken)
			return err
		})
		require.Error(t, err)
		unhang()
		require.NoError(t, <-first, "the first request's refresh completes once the upstream answers")
	})
	t.Run("revoke: upstream revocation", func(t *testing.T) {
		revocation := newHangingServer(t, false)
		rig, _ := upstreamRig(t, soakRigOptions{Config: func(c *oauthproxy.Config) {
			c.UpstreamRevocationEndpoint = revocation.srv.URL + "/revoke"
		}})
		f := &shutFlow{t: t, rig: rig}
		step := f.until("revoke")
		// Revoking upstream is best effort: the proxy's own revocation stands
		// whatever the upstream does, so success is the right answer.
		err := cancelWhileHung(t, revocation.entered, func() { revocation.srv.CloseClientConnections() }, func(ctx context.Context) error { return step(f, ctx) })
		require.NoError(t, err)
		_, err = rig.p.VerifyAccessToken(context.Background(), f.refreshed.AccessToken)
		require.ErrorIs(t, err, oauthproxy.ErrTokenRevoked)
	})
	t.Run("authorize: client metadata document fetch", func(t *testing.T) {
		doc := newHangingServer(t, true)
		pool := doc.srv.Client().Transport.(*http.Transport).TLSClientConfig.RootCAs
		rig, _ := upstreamRig(t, soakRigOptions{Config: func(c *oauthproxy.Config) {
			c.EnableCIMD = true
			c.CIMDRootCAs = pool
			c.InsecureAllowPrivateCIMDAddresses = true
		}})
		err := cancelWhileHung(t, doc.entered, func() { doc.srv.CloseClientConnections() }, func(ctx context.Context) error {
			_, err := rig.p.Authorize(ctx, &oauthproxy.AuthorizationRequest{
				ResponseType: "code", ClientID: doc.srv.URL + "/client.json", RedirectURI: clientRedirect,
				CodeChallenge: pkce.Challenge("shutdown-test-verifier-0123456789-0123456789-0123456789"), CodeChallengeMethod: "S256",
			})
			return err
		})
		require.Error(t, err)
	})
}

// requireOAuthCode requires err to be an *oauthproxy.Error with code.
func requireOAuthCode(t *testing.T, err error, code string) {
	t.Helper()
	require.Error(t, err)
	var oe *oauthproxy.Error
	require.True(t, errors.As(err, &oe), "want *oauthproxy.Error, got %T: %v", err, err)
	require.Equal(t, code, oe.Code, "%v", err)
}

// ---------------------------------------------------------------------------
// Destroy
