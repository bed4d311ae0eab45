package oauthproxy_test

// Benchmarks of the proxy's own work. Every hot path runs beside its floor in
// the same run (a bare HMAC-SHA256 over the same token bytes, a bare
// AES-256-GCM seal of the same bytes), so docs/performance.md can quote ratios that do
// not depend on the machine. The upstream answers in process
// (loadtest.Upstream as the HTTP client's transport): no sockets, so the
// numbers are the proxy's CPU. `make bench` runs them; see
// docs/performance.md.

import (
	"context"
	"crypto"
	"crypto/aes"
	"crypto/cipher"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/oauthproxy-go/oauthproxy"
	opcrypto "github.com/oauthproxy-go/oauthproxy/crypto"
	"github.com/oauthproxy-go/oauthproxy/internal/loadtest"
	"github.com/oauthproxy-go/oauthproxy/internal/pkce"
	"github.com/oauthproxy-go/oauthproxy/storage"
)

const (
	benchBaseURL  = "http://127.0.0.1:8080"
	benchRedirect = "http://127.0.0.1:9/callback"
	benchScope    = "openid email profile"
	// benchMaxClients lifts the live-client quota (DefaultMaxClients) out of
	// the way of benchmarks that register a client per iteration.
	benchMaxClients = 100_000_000
)

var (
	benchJWTKey     = []byte("bench-jwt-signing-key-0123456789")
	benchEncKey     = []byte("bench-encryption-key-0123456789!")
	benchConsentKey = []byte("bench-consent-signing-key-012345")
)

// benchFixture is one proxy with the instant upstream and the typed steps of
// a flow.
type benchFixture struct {
	p     *oauthproxy.Proxy
	inner *storage.Memory // the backend under the proxy's encryption
	up    *loadtest.Upstream
	ctx   context.Context
}

func newBenchFixture(tb testing.TB, opts ...func(*oauthproxy.Config)) *benchFixture {
	tb.Helper()
	up := loadtest.NewUpstream()
	inner := storage.NewMemory()
	cfg := oauthproxy.Config{
		BaseURL:                       benchBaseURL,
		UpstreamAuthorizationEndpoint: loadtest.UpstreamAuthorizationEndpoint,
		UpstreamTokenEndpoint:         loadtest.UpstreamTokenEndpoint,
		UpstreamClientID:              loadtest.UpstreamClientID,
		UpstreamClientSecret:          loadtest.UpstreamClientSecret,
		Scopes:                        strings.Fields(benchScope),
		JWTSigningKey:                 benchJWTKey,
		EncryptionKey:                 benchEncKey,
		ConsentSigningKey:             benchConsentKey,
		TokenStorage:                  inner,
		HTTPClient:                    up.HTTPClient(),
		Logger:                        slog.New(slog.DiscardHandler),
		MaxClients:                    benchMaxClients, // a client per flow, for as many flows as b.N
		MaxPendingAuthorizations:      benchMaxClients, // and batches of prepared sign-ins
	}
	for _, o := range opts {
		o(&cfg)
	}
	p, err := oauthproxy.New(cfg)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(p.Destroy)
	return &benchFixture{p: p, inner: inner, up: up, ctx: context.Background()}
}

func (f *benchFixture) register(tb testing.TB) *oauthproxy.ClientInformation {
	info, err := f.p.RegisterClient(f.ctx, &oauthproxy.ClientMetadata{
		RedirectURIs:            []string{benchRedirect},
		TokenEndpointAuthMethod: oauthproxy.AuthMethodNone,
		GrantTypes:              []string{"authorization_code", "refresh_token"},
		ClientName:              "Bench Client",
	})
	if err != nil {
		tb.Fatal(err)
	}
	return info
}

// pending is a flow between its steps.
type pending struct {
	client   *oauthproxy.ClientInformation
	verifier string
	txn      string
	binding  string
	code     string
}

func (f *benchFixture) authorize(tb testing.TB, c *oauthproxy.ClientInformation) *pending {
	fl := &pending{client: c, verifier: pkce.GenerateVerifier()}
	res, err := f.p.Authorize(f.ctx, &oauthproxy.AuthorizationRequest{
		ResponseType:        "code",
		ClientID:            c.ClientID,
		RedirectURI:         benchRedirect,
		Scope:               benchScope,
		State:               "client-state",
		CodeChallenge:       pkce.Challenge(fl.verifier),
		CodeChallengeMethod: pkce.MethodS256,
	})
	if err != nil {
		tb.Fatal(err)
	}
	fl.txn = res.TransactionID
	return fl
}

// consent shows the consent page and approves it, as the browser does.
func (f *benchFixture) consent(tb testing.TB, fl *pending) {
	page, err := f.p.ConsentPage(f.ctx, fl.txn, "")
	if err != nil {
		tb.Fatal(err)
	}
	res, err := f.p.HandleConsent(f.ctx, &oauthproxy.ConsentDecision{
		TransactionID: fl.txn, Approve: true, CSRFToken: page.CSRFToken, CSRFCookie: page.CSRFCookie,
	})
	if err != nil {
		tb.Fatal(err)
	}
	fl.binding = res.BrowserBinding
}

func (f *benchFixture) callback(tb testing.TB, fl *pending) {
	res, err := f.p.HandleCallback(f.ctx, &oauthproxy.CallbackRequest{
		Code: "upstream-code", State: fl.txn, BrowserBinding: fl.binding,
	})
	if err != nil {
		tb.Fatal(err)
	}
	fl.code = queryParam(tb, res.RedirectURL, "code")
}

func (f *benchFixture) exchange(tb testing.TB, fl *pending) *oauthproxy.TokenResponse {
	resp, err := f.p.ExchangeAuthorizationCode(f.ctx, &oauthproxy.TokenRequest{
		GrantType:    "authorization_code",
		Code:         fl.code,
		RedirectURI:  benchRedirect,
		CodeVerifier: fl.verifier,
		Client:       publicClient(fl.client),
	})
	if err != nil {
		tb.Fatal(err)
	}
	return resp
}

func (f *benchFixture) refresh(tb testing.TB, c *oauthproxy.ClientInformation, rt string) *oauthproxy.TokenResponse {
	resp, err := f.p.ExchangeRefreshToken(f.ctx, &oauthproxy.TokenRequest{
		GrantType: "refresh_token", RefreshToken: rt, Client: publicClient(c),
	})
	if err != nil {
		tb.Fatal(err)
	}
	return resp
}

// login runs the browser part of a flow up to the proxy's code.
func (f *benchFixture) login(tb testing.TB, c *oauthproxy.ClientInformation) *pending {
	fl := f.authorize(tb, c)
	f.consent(tb, fl)
	f.callback(tb, fl)
	return fl
}

// tokens runs a whole flow and returns its token response.
func (f *benchFixture) tokens(tb testing.TB) (*oauthproxy.ClientInformation, *oauthproxy.TokenResponse) {
	c := f.register(tb)
	return c, f.exchange(tb, f.login(tb, c))
}

func publicClient(c *oauthproxy.ClientInformation) oauthproxy.ClientCredentials {
	return oauthproxy.ClientCredentials{ClientID: c.ClientID, Method: oauthproxy.AuthMethodNone}
}

func queryParam(tb testing.TB, raw, name string) string {
	u, err := url.Parse(raw)
	if err != nil {
		tb.Fatal(err)
	}
	v := u.Query().Get(name)
	if v == "" {
		tb.Fatalf("no %s in %s", name, raw)
	}
	return v
}

// signingInput is the part of a JWT its signature covers (RFC 7515 §5.1).
func signingInput(token string) []byte {
	return []byte(token[:strings.LastIndexByte(token, '.')])
}

// hmacFloor is the least work any HS256 verifier does: one HMAC-SHA256 of the
// signing input with the key (key schedule included, as a verifier holding
// only the key must do).
func hmacFloor(b *testing.B, msg []byte) {
	measure(b, nil, func() {
		m := hmac.New(sha256.New, benchJWTKey)
		m.Write(msg)
		sink = m.Sum(sink[:0])
	})
}

// hmacFloorKeyed is the HMAC alone, its keyed state computed once.
func hmacFloorKeyed(b *testing.B, msg []byte) {
	m := hmac.New(sha256.New, benchJWTKey)
	measure(b, nil, func() {
		m.Reset()
		m.Write(msg)
		sink = m.Sum(sink[:0])
	})
}

var sink []byte

// BenchmarkBearer is the check every MCP request pays: RequireBearer with a
// real request and a no-op protected handler, in swap mode (JWT checks plus
// the revocation-marker lookup, a miss).
func BenchmarkBearer(b *testing.B) {
	f := newBenchFixture(b)
	_, tok := f.tokens(b)
	served := 0
	h := f.p.RequireBearer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) { served++ }))
	req := httptest.NewRequest(http.MethodPost, "/mcp", nil)
	req.Header.Set("Authorization", "Bearer "+tok.AccessToken)
	b.Logf("access token: %d bytes", len(tok.AccessToken))

	b.Run("proxy", func(b *testing.B) {
		rec := httptest.NewRecorder() // the no-op handler writes nothing, so one serves every request
		served = 0
		n := 0
		measure(b, nil, func() {
			h.ServeHTTP(rec, req)
			n++
		})
		if served != n || rec.Code != http.StatusOK {
			b.Fatalf("served %d of %d requests, status %d", served, n, rec.Code)
		}
	})
	b.Run("verify", func(b *testing.B) {
		measure(b, nil, func() {
			if _, err := f.p.VerifyAccessToken(f.ctx, tok.AccessToken); err != nil {
				b.Fatal(err)
			}
		})
	})
	b.Run("hmac-floor", func(b *testing.B) { hmacFloor(b, signingInput(tok.AccessToken)) })
	b.Run("hmac-floor-keyed", func(b *testing.B) { hmacFloorKeyed(b, signingInput(tok.AccessToken)) })

	// The same with AccessTokenSigningKeys (ES256). A session's token is
	// verified once and then recognised by its bytes; BenchmarkBearerES256Cold
	// times the first sight, the ECDSA verification itself.
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		b.Fatal(err)
	}
	es := newBenchFixture(b, func(c *oauthproxy.Config) {
		c.JWTSigningKey, c.AccessTokenSigningKeys = nil, []crypto.Signer{key}
	})
	_, esTok := es.tokens(b)
	esH := es.p.RequireBearer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) { served++ }))
	esReq := httptest.NewRequest(http.MethodPost, "/mcp", nil)
	esReq.Header.Set("Authorization", "Bearer "+esTok.AccessToken)
	b.Run("proxy-es256", func(b *testing.B) {
		rec := httptest.NewRecorder()
		served = 0
		n := 0
		measure(b, nil, func() {
			esH.ServeHTTP(rec, esReq)
			n++
		})
		if served != n || rec.Code != http.StatusOK {
			b.Fatalf("served %d of %d requests, status %d", served, n, rec.Code)
		}
	})
	b.Run("verify-es256", func(b *testing.B) {
		measure(b, nil, func() {
			if _, err := es.p.VerifyAccessToken(es.ctx, esTok.AccessToken); err != nil {
				b.Fatal(err)
			}
		})
	})
}

// BenchmarkLoadUpstreamTokens is what a tool handler pays to call the upstream
// API: verify the access token, load and open the grant. Its floor is the
// HMAC of the token plus a bare AES-256-GCM open of the sealed grant.
func BenchmarkLoadUpstreamTokens(b *testing.B) {
	f := newBenchFixture(b)
	_, tok := f.tokens(b)
	b.Run("proxy", func(b *testing.B) {
		measure(b, nil, func() {
			if _, err := f.p.LoadUpstreamTokens(f.ctx, tok.AccessToken); err != nil {
				b.Fatal(err)
			}
		})
	})
	grant := f.grantJSON(b, tok.AccessToken)
	aead := newGCM(b)
	nonce := make([]byte, aead.NonceSize())
	sealed := aead.Seal(nil, nonce, grant, nil)
	msg := signingInput(tok.AccessToken)
	b.Run("floor", func(b *testing.B) {
		var buf []byte
		measure(b, nil, func() {
			m := hmac.New(sha256.New, benchJWTKey)
			m.Write(msg)
			sink = m.Sum(sink[:0])
			var err error
			if buf, err = aead.Open(buf[:0], nonce, sealed, nil); err != nil {
				b.Fatal(err)
			}
		})
	})
}

// grantJSON returns the plaintext of the grant behind an access token: the
// typical upstream token set the store seals.
func (f *benchFixture) grantJSON(tb testing.TB, accessToken string) []byte {
	claims, err := f.p.VerifyAccessToken(f.ctx, accessToken)
	if err != nil {
		tb.Fatal(err)
	}
	v, err := storage.NewEncrypted(f.inner, newSealer(tb)).Get(f.ctx, "grant:"+claims.GrantID)
	if err != nil {
		tb.Fatal(err)
	}
	return v
}

func newSealer(tb testing.TB) *opcrypto.Sealer {
	s, err := opcrypto.NewSealer(benchEncKey)
	if err != nil {
		tb.Fatal(err)
	}
	return s
}

func newGCM(tb testing.TB) cipher.AEAD {
	block, err := aes.NewCipher(benchEncKey)
	if err != nil {
		tb.Fatal(err)
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		tb.Fatal(err)
	}
	return aead
}

// BenchmarkSeal seals and opens a typical grant (the upstream token set with
// a Google-sized id_token) through the encrypted store over memory and through
// the Sealer directly, beside a bare AES-256-GCM of the same bytes.
func BenchmarkSeal(b *testing.B) {
	f := newBenchFixture(b)
	_, tok := f.tokens(b)
	grant := f.grantJSON(b, tok.AccessToken)
	b.Logf("grant: %d bytes", len(grant))
	const key = "grant:6f1c2a9e-8d4b-4f7a-9c3e-2b5d7e9f1a3c"
	enc := storage.NewEncrypted(storage.NewMemory(), newSealer(b))
	sealer := newSealer(b)
	sealed, err := sealer.Seal(grant, []byte(key))
	if err != nil {
		b.Fatal(err)
	}
	aead := newGCM(b)
	nonce := make([]byte, aead.NonceSize())
	bare := aead.Seal(nil, nonce, grant, nil)

	b.Run("encrypted-save", func(b *testing.B) {
		b.SetBytes(int64(len(grant)))
		measure(b, nil, func() {
			if err := enc.Save(f.ctx, key, grant, 0); err != nil {
				b.Fatal(err)
			}
		})
	})
	b.Run("encrypted-get", func(b *testing.B) {
		b.SetBytes(int64(len(grant)))
		measure(b, nil, func() {
			if _, err := enc.Get(f.ctx, key); err != nil {
				b.Fatal(err)
			}
		})
	})
	b.Run("sealer-seal", func(b *testing.B) {
		b.SetBytes(int64(len(grant)))
		measure(b, nil, func() {
			if _, err := sealer.Seal(grant, []byte(key)); err != nil {
				b.Fatal(err)
			}
		})
	})
	b.Run("sealer-open", func(b *testing.B) {
		b.SetBytes(int64(len(grant)))
		measure(b, nil, func() {
			if _, err := sealer.Open(sealed, []byte(key)); err != nil {
				b.Fatal(err)
			}
		})
	})
	b.Run("gcm-floor-seal", func(b *testing.B) {
		b.SetBytes(int64(len(grant)))
		buf := make([]byte, 0, len(grant)+aead.Overhead())
		measure(b, nil, func() {
			buf = aead.Seal(buf[:0], nonce, grant, nil)
		})
	})
	b.Run("gcm-floor-open", func(b *testing.B) {
		b.SetBytes(int64(len(grant)))
		buf := make([]byte, 0, len(grant))
		measure(b, nil, func() {
			if buf, err = aead.Open(buf[:0], nonce, bare, nil); err != nil {
				b.Fatal(err)
			}
		})
	})
}

func BenchmarkRegisterClient(b *testing.B) {
	f := newBenchFixture(b)
	measure(b, nil, func() { f.register(b) })
}

func BenchmarkAuthorize(b *testing.B) {
	f := newBenchFixture(b)
	c := f.register(b)
	measure(b, nil, func() { f.authorize(b, c) })
}

// BenchmarkConsent is the consent page (GET) and the approval (POST).
func BenchmarkConsent(b *testing.B) {
	f := newBenchFixture(b)
	c := f.register(b)
	batch := prepared(b, func() *pending { return f.authorize(b, c) })
	measure(b, batch, func() { f.consent(b, batch.next()) })
}

// BenchmarkHandleCallback includes the upstream code exchange through the
// proxy's HTTP client with the instant in-process upstream.
func BenchmarkHandleCallback(b *testing.B) {
	f := newBenchFixture(b)
	c := f.register(b)
	batch := prepared(b, func() *pending {
		fl := f.authorize(b, c)
		f.consent(b, fl)
		return fl
	})
	measure(b, batch, func() { f.callback(b, batch.next()) })
}

func BenchmarkExchangeAuthorizationCode(b *testing.B) {
	f := newBenchFixture(b)
	c := f.register(b)
	batch := prepared(b, func() *pending { return f.login(b, c) })
	measure(b, batch, func() { f.exchange(b, batch.next()) })
}

// BenchmarkExchangeRefreshToken rotates one grant's refresh token over and over
// (each use returns the next one), its upstream token still fresh.
func BenchmarkExchangeRefreshToken(b *testing.B) {
	f := newBenchFixture(b)
	c, tok := f.tokens(b)
	rt := tok.RefreshToken
	measure(b, nil, func() { rt = f.refresh(b, c, rt).RefreshToken })
}

// BenchmarkFlow is one whole flow through the typed methods: register →
// authorize → consent page → approve → callback (instant upstream) → token →
// refresh. Run with -cpu 1 it is the proxy's CPU for one flow.
func BenchmarkFlow(b *testing.B) {
	f := newBenchFixture(b)
	measure(b, nil, func() {
		c, tok := f.tokens(b)
		f.refresh(b, c, tok.RefreshToken)
	})
}

// measure is loadtest.Measure, leaving out what q spent refilling.
func measure(b *testing.B, q *batch, op func()) {
	var paused *time.Duration
	if q != nil {
		paused = &q.paused
	}
	loadtest.Measure(b, paused, op)
}

// batch hands out steps prepared ahead of the timed loop, refilling with the
// timer stopped, so a benchmark times one step of a flow.
type batch struct {
	b      *testing.B
	make   func() *pending
	items  []*pending
	paused time.Duration // CPU spent refilling
}

const batchSize = 512

func prepared(b *testing.B, make func() *pending) *batch {
	return &batch{b: b, make: make}
}

func (q *batch) next() *pending {
	if len(q.items) == 0 {
		q.b.StopTimer()
		start := loadtest.CPUTime()
		for range batchSize {
			q.items = append(q.items, q.make())
		}
		q.paused += loadtest.CPUTime() - start
		q.b.StartTimer()
	}
	fl := q.items[len(q.items)-1]
	q.items = q.items[:len(q.items)-1]
	return fl
}
