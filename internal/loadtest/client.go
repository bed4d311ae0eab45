package loadtest

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"time"
)

// Client drives single steps of a flow (registration, browser login, code
// exchange, refresh, protected call) against a proxy, for tools that mix
// them with traffic of their own (internal/abuse). Each step returns an error
// saying what failed instead of recording it in a phase. A Client is safe for
// concurrent use; a Session is not.
type Client struct {
	r         *runner
	transport *http.Transport
}

// ClientConfig describes a Client.
type ClientConfig struct {
	// URL is the proxy's issuer (BaseURL), on loopback.
	URL string
	// Upstream answers the browser's visit to the instant upstream.
	Upstream http.RoundTripper
	// LocalAddr, when set, is the loopback IP the Client's connections come
	// from (127.0.0.2, …), so the proxy sees it as another client address.
	LocalAddr string
	// Timeout bounds each request, its body included [30s].
	Timeout time.Duration
}

// ClientRedirect is the redirect URI a Client's registrations name. Nothing
// listens there: the Client stops at the redirect and reads the code.
const ClientRedirect = clientRedirect

// Session is one signed-in client's tokens, kept current by Refresh.
type Session struct{ s session }

// NewClient reads the proxy's metadata and returns a Client for it.
func NewClient(ctx context.Context, cfg ClientConfig) (*Client, error) {
	target, err := CheckLoopbackURL(cfg.URL)
	if err != nil {
		return nil, err
	}
	dialer := &net.Dialer{Timeout: 5 * time.Second}
	if cfg.LocalAddr != "" {
		ip := net.ParseIP(cfg.LocalAddr)
		if ip == nil || !ip.IsLoopback() {
			return nil, fmt.Errorf("local address %q: want a loopback IP", cfg.LocalAddr)
		}
		dialer.LocalAddr = &net.TCPAddr{IP: ip}
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = 30 * time.Second
	}
	transport := &http.Transport{
		Proxy:               nil, // loopback only, never a proxy from the environment
		DialContext:         dialer.DialContext,
		MaxIdleConnsPerHost: 64,
		IdleConnTimeout:     30 * time.Second,
		DisableCompression:  true,
	}
	r := &runner{target: target, rt: loopbackOnly{upstream: cfg.Upstream, next: transport}}
	r.http = &http.Client{Transport: r.rt, Timeout: cfg.Timeout, CheckRedirect: noRedirects}
	if err := r.discover(ctx); err != nil {
		transport.CloseIdleConnections()
		return nil, err
	}
	return &Client{r: r, transport: transport}, nil
}

// Close closes the Client's idle connections.
func (c *Client) Close() { c.transport.CloseIdleConnections() }

// Register registers a public client (RFC 7591) and returns its client_id.
func (c *Client) Register(ctx context.Context) (string, error) {
	rec, sh := newStep()
	id, err := c.r.register(ctx, sh, rec)
	if err != nil {
		return "", rec.err(err)
	}
	return id, nil
}

// Login signs in through the browser steps and returns an authorization code
// and the PKCE verifier that redeems it.
func (c *Client) Login(ctx context.Context, clientID string) (code, verifier string, err error) {
	rec, sh := newStep()
	code, verifier, ok := c.r.login(ctx, sh, rec, clientID)
	if !ok {
		return "", "", rec.err(errors.New("login failed"))
	}
	return code, verifier, nil
}

// Exchange redeems a code (RFC 6749 §4.1.3) for a Session.
func (c *Client) Exchange(ctx context.Context, clientID, code, verifier string) (*Session, error) {
	rec, sh := newStep()
	s, ok := c.r.exchange(ctx, sh, rec, clientID, code, verifier)
	if !ok {
		return nil, rec.err(errors.New("code exchange failed"))
	}
	return &Session{s: *s}, nil
}

// Refresh rotates s's refresh token (RFC 6749 §6). After a failure s has no
// refresh token left: it was single use.
func (c *Client) Refresh(ctx context.Context, s *Session) error {
	rec, sh := newStep()
	if s.s.refresh == "" {
		return errors.New("the session has no refresh token left")
	}
	if !c.r.refresh(ctx, sh, rec, &s.s) {
		return rec.err(errors.New("refresh failed"))
	}
	return nil
}

// Call calls the protected resource with s's access token.
func (c *Client) Call(ctx context.Context, s *Session) error {
	rec, sh := newStep()
	if !c.r.bearer(ctx, sh, rec, s.s.access) {
		return rec.err(errors.New("protected call failed"))
	}
	return nil
}

// newStep is a recorder with one shard for a single step's requests.
func newStep() (*recorder, *shard) {
	rec := &recorder{}
	return rec, rec.shard()
}

// err is the first recorded failure, with its endpoint, or fallback when
// none was recorded (the context ended before a request was made).
func (r *recorder) err(fallback error) error {
	var out error
	r.samples.Range(func(endpoint, text any) bool {
		out = fmt.Errorf("%s: %s", endpoint, oneLine(text.(string)))
		return false
	})
	if out == nil {
		return fallback
	}
	return out
}
