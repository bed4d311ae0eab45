package tokenverify_test

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/oauthproxy-go/oauthproxy"
	"github.com/oauthproxy-go/oauthproxy/oauthproxytest"
	"github.com/oauthproxy-go/oauthproxy/tokenverify"
	"github.com/stretchr/testify/require"
	"golang.org/x/oauth2"
)

const (
	rsID           = "tools-server"
	rsSecret       = "tools-server-secret-0123456789"
	clientRedirect = "http://127.0.0.1:9/callback"
)

// clock moves only when the test says so; the proxy, the stand-in IdP and
// the verifier share it.
type clock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *clock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.now }
func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

// world is a proxy with ES256 tokens and introspection credentials, on its
// own loopback server, and a resource URL that belongs to another service.
type world struct {
	t        *testing.T
	clock    *clock
	key      *ecdsa.PrivateKey
	proxy    *oauthproxy.Proxy
	srv      *httptest.Server
	resource string
	// handler serves the proxy's server: tests swap it to simulate a restart.
	handler atomic.Pointer[http.Handler]
	// jwksFetches counts GET /.well-known/jwks.json.
	jwksFetches atomic.Int32
	idp         *oauthproxytest.Server
	// revoke revokes the grant of the last signIn through /oauth/revoke of
	// its refresh token.
	revokeWith func(refreshToken string)
}

func newWorld(t *testing.T) *world {
	t.Helper()
	w := &world{t: t, clock: &clock{now: time.Now().Truncate(time.Second)}, resource: "http://127.0.0.1:9/mcp"}
	w.key = newKey(t)
	w.idp = oauthproxytest.Start(t, oauthproxytest.Options{
		ClientID: "proxy", ClientSecret: "s3cret", LoginPage: true, IssueIDToken: true, Now: w.clock.Now,
	})
	w.srv = httptest.NewServer(http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/.well-known/jwks.json" {
			w.jwksFetches.Add(1)
		}
		(*w.handler.Load()).ServeHTTP(rw, r)
	}))
	t.Cleanup(w.srv.Close)
	w.proxy = w.startProxy(w.idp, w.key)
	return w
}

// startProxy serves a proxy with ring on w.srv.
func (w *world) startProxy(idp *oauthproxytest.Server, ring ...*ecdsa.PrivateKey) *oauthproxy.Proxy {
	w.t.Helper()
	var keys []crypto.Signer
	for _, k := range ring {
		keys = append(keys, k)
	}
	p, err := oauthproxy.New(oauthproxy.Config{
		BaseURL:                       w.srv.URL,
		Resource:                      w.resource,
		UpstreamAuthorizationEndpoint: idp.AuthorizationEndpoint(),
		UpstreamTokenEndpoint:         idp.TokenEndpoint(),
		UpstreamClientID:              "proxy",
		UpstreamClientSecret:          "s3cret",
		Scopes:                        []string{"openid", "email", "tools"},
		AccessTokenSigningKeys:        keys,
		AccessTokenTTL:                time.Minute,
		IntrospectionCredentials:      map[string]string{rsID: rsSecret},
		Logger:                        slog.New(slog.DiscardHandler),
		Now:                           w.clock.Now,
	})
	require.NoError(w.t, err)
	w.t.Cleanup(p.Destroy)
	var h http.Handler = p.Handler()
	w.handler.Store(&h)
	return p
}

// signIn runs a whole login as a public client and returns its tokens.
func (w *world) signIn() *oauth2.Token {
	w.t.Helper()
	ctx := context.Background()
	info, err := w.proxy.RegisterClient(ctx, &oauthproxy.ClientMetadata{
		RedirectURIs: []string{clientRedirect}, TokenEndpointAuthMethod: "none",
		GrantTypes: []string{"authorization_code", "refresh_token"},
	})
	require.NoError(w.t, err)
	client := &oauth2.Config{
		ClientID:    info.ClientID,
		Endpoint:    oauth2.Endpoint{AuthURL: w.srv.URL + "/oauth/authorize", TokenURL: w.srv.URL + "/oauth/token", AuthStyle: oauth2.AuthStyleInParams},
		RedirectURL: clientRedirect,
		Scopes:      []string{"openid", "email", "tools"},
	}
	verifier := oauth2.GenerateVerifier()
	b := oauthproxytest.NewBrowser(w.t)
	b.RedirectURIs = []string{clientRedirect}
	res, err := b.Authorize(client.AuthCodeURL("s", oauth2.S256ChallengeOption(verifier), oauth2.SetAuthURLParam("resource", w.resource)))
	require.NoError(w.t, err)
	tok, err := client.Exchange(ctx, res.Code, oauth2.VerifierOption(verifier), oauth2.SetAuthURLParam("resource", w.resource))
	require.NoError(w.t, err)
	w.revokeWith = func(refreshToken string) {
		w.t.Helper()
		require.NoError(w.t, w.proxy.RevokeToken(ctx, &oauthproxy.RevocationRequest{
			Token: refreshToken, Client: oauthproxy.ClientCredentials{ClientID: info.ClientID, Method: "none"},
		}))
	}
	return tok
}

// verifier is a Verifier of w's tokens; introspect adds the credentials.
func (w *world) verifier(introspect bool, opts ...func(*tokenverify.Config)) *tokenverify.Verifier {
	w.t.Helper()
	cfg := tokenverify.Config{
		Issuer: w.srv.URL, Resource: w.resource, Now: w.clock.Now,
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil)),
	}
	if introspect {
		cfg.IntrospectionClientID, cfg.IntrospectionClientSecret = rsID, rsSecret
	}
	for _, o := range opts {
		o(&cfg)
	}
	v, err := tokenverify.New(cfg)
	require.NoError(w.t, err)
	return v
}

func newKey(t testing.TB) *ecdsa.PrivateKey {
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	require.NoError(t, err)
	return k
}

// claims are claims the verifier accepts for w.
func (w *world) claims() jwt.MapClaims {
	now := w.clock.Now()
	return jwt.MapClaims{
		"iss": w.srv.URL, "aud": w.resource, "sub": "user-1", "client_id": "c", "scope": "openid tools",
		"gid": "g", "jti": "j", "iat": now.Unix(), "exp": now.Add(time.Minute).Unix(),
	}
}

// forge signs claims with method and key; header fields set (nil deletes).
func forge(t *testing.T, method jwt.SigningMethod, key any, claims jwt.MapClaims, header map[string]any) string {
	t.Helper()
	tok := jwt.NewWithClaims(method, claims)
	tok.Header["typ"] = "at+jwt"
	for k, v := range header {
		if v == nil {
			delete(tok.Header, k)
		} else {
			tok.Header[k] = v
		}
	}
	s, err := tok.SignedString(key)
	require.NoError(t, err)
	return s
}

func with(c jwt.MapClaims, k string, v any) jwt.MapClaims {
	out := jwt.MapClaims{}
	for name, val := range c {
		out[name] = val
	}
	if v == nil {
		delete(out, k)
	} else {
		out[k] = v
	}
	return out
}

// tamper changes one character inside a JWT's signature.
func tamper(jwt string) string {
	i := strings.LastIndex(jwt, ".") + 5
	c := "A"
	if jwt[i] == 'A' {
		c = "B"
	}
	return jwt[:i] + c + jwt[i+1:]
}
