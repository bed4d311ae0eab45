package oauthproxy_test

// The soak (issue 8, item 2): many complete flows at once under the race
// detector, mixed with bad requests — a wrong PKCE verifier, a replayed code,
// a reused refresh token, two redemptions of one code or one refresh token
// racing, junk bodies, a wrong client secret, an unknown client. Every good
// step must succeed, every bad request must be refused with its RFC 6749
// error code, no code or refresh token may be redeemed twice, and after
// Destroy the goroutines and the heap must be back where they started.
//
// The CI variant (make test) runs 300 flows at concurrency 16; the full one
// (make soak) 10,000 at 64:
//
//	OAUTHPROXY_SOAK=full go test -race -run TestSoak -timeout 30m -v .
//
// OAUTHPROXY_SOAK=FLOWSxCONCURRENCY (e.g. 2000x32) picks any other size.

import (
	"context"
	"fmt"
	"math/rand/v2"
	"net/http"
	"net/url"
	"os"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/oauthproxy-go/oauthproxy"
	"github.com/oauthproxy-go/oauthproxy/internal/pkce"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"
)

// soakSize is how big a soak is and how long it may take.
type soakSize struct {
	Flows, Concurrency int
	Limit              time.Duration
}

func soakSizeFromEnv(t *testing.T) soakSize {
	switch v := os.Getenv("OAUTHPROXY_SOAK"); v {
	case "":
		return soakSize{Flows: 300, Concurrency: 16, Limit: 3 * time.Minute}
	case "full":
		return soakSize{Flows: 10_000, Concurrency: 64, Limit: 25 * time.Minute}
	default:
		f, c, ok := strings.Cut(v, "x")
		flows, err1 := strconv.Atoi(f)
		conc, err2 := strconv.Atoi(c)
		if !ok || err1 != nil || err2 != nil || flows <= 0 || conc <= 0 {
			t.Fatalf("OAUTHPROXY_SOAK=%q: want full or FLOWSxCONCURRENCY", v)
		}
		return soakSize{Flows: flows, Concurrency: conc, Limit: 25 * time.Minute}
	}
}

// The kinds of flow, in turn: each is a complete flow (register, sign in,
// redeem the code) with its bad requests mixed in.
type soakKind int

const (
	soakGood          soakKind = iota // redeem, refresh, call
	soakWrongVerifier                 // a wrong verifier and a wrong redirect_uri first: refused, code intact
	soakReplayedCode                  // the code again after redemption: refused, and the grant revoked
	soakReusedRefresh                 // a rotated refresh token again: refused, and the grant revoked
	soakRacingCode                    // two redemptions of one code at once: exactly one wins
	soakRacingRefresh                 // two uses of one refresh token at once: exactly one wins
	soakJunk                          // junk bodies, headers and parameters first: refused, code intact
	soakWrongSecret                   // a wrong secret and a wrong method first: refused
	soakUnknownClient                 // an unknown client_id first: refused
	soakKinds
)

var soakKindNames = [soakKinds]string{
	"good", "wrong_verifier", "replayed_code", "reused_refresh", "racing_code",
	"racing_refresh", "junk", "wrong_secret", "unknown_client",
}

func (k soakKind) String() string { return soakKindNames[k] }

// soakLedger is the account of a soak: which code and refresh token got
// tokens how often, which refusals came back, and what went wrong.
type soakLedger struct {
	mu       sync.Mutex
	codeWins map[string]int // every code a login produced → successful redemptions
	rtWins   map[string]int // every refresh token presented → successful uses
	refused  map[string]int // expected refusals, by error code
	failures map[string]int // unexpected outcomes, by "kind: step"
	errs     []error        // the first few of them, in full
	flows    [soakKinds]int // completed flows by kind
}

func newSoakLedger() *soakLedger {
	return &soakLedger{codeWins: map[string]int{}, rtWins: map[string]int{}, refused: map[string]int{}, failures: map[string]int{}}
}

const soakMaxErrs = 20

// soakSummary is what remains of a ledger once it has been checked: a few
// numbers, so the ledger's maps can be collected before the heap is measured.
type soakSummary struct {
	Flows        int
	ByKind       map[string]int
	Refused      map[string]int
	Failures     map[string]int
	Errs         []error
	Codes        int // codes issued by logins
	CodeWins     int // successful redemptions
	CodesNotOnce int // codes redeemed zero or several times
	MaxCodeWins  int
	RefreshUsed  int // distinct refresh tokens presented
	RefreshWins  int
	MaxRTWins    int
}

func (l *soakLedger) summary() soakSummary {
	l.mu.Lock()
	defer l.mu.Unlock()
	s := soakSummary{ByKind: map[string]int{}, Refused: l.refused, Failures: l.failures, Errs: l.errs}
	for k, n := range l.flows {
		s.Flows += n
		if n > 0 {
			s.ByKind[soakKind(k).String()] = n
		}
	}
	s.Codes = len(l.codeWins)
	for _, n := range l.codeWins {
		s.CodeWins += n
		s.MaxCodeWins = max(s.MaxCodeWins, n)
		if n != 1 {
			s.CodesNotOnce++
		}
	}
	s.RefreshUsed = len(l.rtWins)
	for _, n := range l.rtWins {
		s.RefreshWins += n
		s.MaxRTWins = max(s.MaxRTWins, n)
	}
	return s
}

// soakFlow is one flow: its index decides its kind and client type.
type soakFlow struct {
	ctx  context.Context
	rig  *soakRig
	l    *soakLedger
	kind soakKind
	i    int
	rnd  *rand.Rand
}

func (f *soakFlow) fail(step, format string, args ...any) {
	f.l.mu.Lock()
	defer f.l.mu.Unlock()
	f.l.failures[f.kind.String()+": "+step]++
	if len(f.l.errs) < soakMaxErrs {
		f.l.errs = append(f.l.errs, fmt.Errorf("flow %d (%s) %s: %s", f.i, f.kind, step, fmt.Sprintf(format, args...)))
	}
}

// ok checks a successful token response.
func (f *soakFlow) ok(step string, a soakAnswer, err error) bool {
	switch {
	case err != nil:
		f.fail(step, "%v", err)
	case a.Status != http.StatusOK || a.Access == "" || a.Refresh == "":
		f.fail(step, "want tokens, got %s", a)
	default:
		return true
	}
	return false
}

// refused checks a refusal: its status and error code, and for
// invalid_client after HTTP Basic, the WWW-Authenticate challenge.
func (f *soakFlow) refused(step string, a soakAnswer, err error, status int, code string) bool {
	switch {
	case err != nil:
		f.fail(step, "%v", err)
	case a.Status != status || a.Error != code:
		f.fail(step, "want HTTP %d %s, got %s", status, code, a)
	case a.Access != "" || a.Refresh != "":
		f.fail(step, "a refusal carries tokens: %s", a)
	default:
		f.l.mu.Lock()
		f.l.refused[code]++
		f.l.mu.Unlock()
		return true
	}
	return false
}

// exchange redeems a code, counting the success against the code.
func (f *soakFlow) exchange(auth soakAuth, code, verifier string) (soakAnswer, error) {
	a, err := f.rig.exchange(f.ctx, auth, code, verifier)
	if err == nil && a.Status == http.StatusOK {
		f.l.mu.Lock()
		f.l.codeWins[code]++
		f.l.mu.Unlock()
	}
	return a, err
}

// refresh uses a refresh token, counting the success against the token.
func (f *soakFlow) refresh(auth soakAuth, rt string) (soakAnswer, error) {
	a, err := f.rig.refresh(f.ctx, auth, rt)
	f.l.mu.Lock()
	if err == nil && a.Status == http.StatusOK {
		f.l.rtWins[rt]++
	} else if _, seen := f.l.rtWins[rt]; !seen {
		f.l.rtWins[rt] = 0
	}
	f.l.mu.Unlock()
	return a, err
}

// call checks the protected endpoint's answer to access.
func (f *soakFlow) call(step, access string, want int) {
	got, err := f.rig.bearer(f.ctx, access)
	switch {
	case err != nil:
		f.fail(step, "%v", err)
	case got != want:
		f.fail(step, "protected endpoint: want HTTP %d, got %d", want, got)
	}
}

// soakRace runs two requests at once.
func soakRace(a, b func() (soakAnswer, error)) (ra, rb soakAnswer, ea, eb error) {
	var wg sync.WaitGroup
	start := make(chan struct{})
	wg.Go(func() { <-start; ra, ea = a() })
	wg.Go(func() { <-start; rb, eb = b() })
	close(start)
	wg.Wait()
	return
}

// oneWinner checks that of two racing answers exactly one got tokens and the
// other invalid_grant, and returns the winner.
func (f *soakFlow) oneWinner(step string, a, b soakAnswer, ea, eb error) (soakAnswer, bool) {
	if ea != nil || eb != nil {
		f.fail(step, "%v / %v", ea, eb)
		return soakAnswer{}, false
	}
	if a.Status != http.StatusOK {
		a, b = b, a
	}
	if !f.ok(step+" (winner)", a, nil) {
		return soakAnswer{}, false
	}
	if !f.refused(step+" (loser)", b, nil, http.StatusBadRequest, oauthproxy.ErrCodeInvalidGrant) {
		return soakAnswer{}, false
	}
	return a, true
}

// afterRace refreshes the winner's refresh token: the loser may have been
// taken for a replay, which revokes the grant, so both outcomes are right,
// but the protected endpoint must agree with the one that came.
func (f *soakFlow) afterRace(c soakClient, w soakAnswer) {
	r, err := f.refresh(c.auth(), w.Refresh)
	if err == nil && r.Status == http.StatusOK {
		f.call("call after the race", r.Access, http.StatusOK)
		return
	}
	if f.refused("refresh after the race", r, err, http.StatusBadRequest, oauthproxy.ErrCodeInvalidGrant) {
		f.call("call after the race (revoked)", w.Access, http.StatusUnauthorized)
	}
}

// redeemRefreshCall is the good end of a flow: redeem, refresh, call.
func (f *soakFlow) redeemRefreshCall(c soakClient, code, verifier string) {
	a, err := f.exchange(c.auth(), code, verifier)
	if !f.ok("redeem", a, err) {
		return
	}
	r, err := f.refresh(c.auth(), a.Refresh)
	if !f.ok("refresh", r, err) {
		return
	}
	f.call("call", r.Access, http.StatusOK)
}

var soakMethods = []string{"none", "client_secret_basic", "client_secret_post"}

func (f *soakFlow) run() {
	method := soakMethods[(f.i/int(soakKinds))%len(soakMethods)]
	if f.kind == soakWrongSecret && method == "none" {
		method = soakMethods[1+(f.i/int(soakKinds)/len(soakMethods))%2] // a client with a secret
	}
	c, err := f.rig.register(f.ctx, method)
	if err != nil {
		f.fail("register", "%v", err)
		return
	}
	code, verifier, err := f.rig.login(f.ctx, c)
	if err != nil {
		f.fail("login", "%v", err)
		return
	}
	f.l.mu.Lock()
	f.l.codeWins[code] += 0
	f.l.mu.Unlock()
	const bad, unauthorized = http.StatusBadRequest, http.StatusUnauthorized
	invalidGrant, invalidClient := oauthproxy.ErrCodeInvalidGrant, oauthproxy.ErrCodeInvalidClient

	switch f.kind {
	case soakGood:
		f.redeemRefreshCall(c, code, verifier)

	case soakWrongVerifier:
		a, err := f.exchange(c.auth(), code, pkce.GenerateVerifier())
		if !f.refused("wrong verifier", a, err, bad, invalidGrant) {
			return
		}
		a, err = f.rig.tokenRequest(f.ctx, c.auth(), url.Values{
			"grant_type": {"authorization_code"}, "code": {code}, "code_verifier": {verifier},
			"redirect_uri": {"http://127.0.0.1:9/other/callback"},
		})
		if !f.refused("wrong redirect_uri", a, err, bad, invalidGrant) {
			return
		}
		f.redeemRefreshCall(c, code, verifier)

	case soakReplayedCode:
		a, err := f.exchange(c.auth(), code, verifier)
		if !f.ok("redeem", a, err) {
			return
		}
		b, err := f.exchange(c.auth(), code, verifier)
		if !f.refused("replayed code", b, err, bad, invalidGrant) {
			return
		}
		r, err := f.refresh(c.auth(), a.Refresh)
		if !f.refused("refresh after the replay (grant revoked)", r, err, bad, invalidGrant) {
			return
		}
		f.call("call after the replay (grant revoked)", a.Access, unauthorized)

	case soakReusedRefresh:
		a, err := f.exchange(c.auth(), code, verifier)
		if !f.ok("redeem", a, err) {
			return
		}
		r, err := f.refresh(c.auth(), a.Refresh)
		if !f.ok("refresh", r, err) {
			return
		}
		again, err := f.refresh(c.auth(), a.Refresh)
		if !f.refused("reused refresh token", again, err, bad, invalidGrant) {
			return
		}
		next, err := f.refresh(c.auth(), r.Refresh)
		if !f.refused("refresh after the reuse (grant revoked)", next, err, bad, invalidGrant) {
			return
		}
		f.call("call after the reuse (grant revoked)", r.Access, unauthorized)

	case soakRacingCode:
		redeem := func() (soakAnswer, error) { return f.exchange(c.auth(), code, verifier) }
		a, b, ea, eb := soakRace(redeem, redeem)
		w, ok := f.oneWinner("racing redemptions", a, b, ea, eb)
		if ok {
			f.afterRace(c, w)
		}

	case soakRacingRefresh:
		a, err := f.exchange(c.auth(), code, verifier)
		if !f.ok("redeem", a, err) {
			return
		}
		use := func() (soakAnswer, error) { return f.refresh(c.auth(), a.Refresh) }
		x, y, ex, ey := soakRace(use, use)
		w, ok := f.oneWinner("racing refreshes", x, y, ex, ey)
		if ok {
			f.afterRace(c, w)
		}

	case soakJunk:
		if !f.junk(c, code) {
			return
		}
		f.redeemRefreshCall(c, code, verifier)

	case soakWrongSecret:
		wrong := c.auth()
		wrong.Secret = c.Secret[:len(c.Secret)-1] + "x"
		if wrong.Secret == c.Secret {
			wrong.Secret = c.Secret[:len(c.Secret)-1] + "y"
		}
		a, err := f.exchange(wrong, code, verifier)
		if !f.refused("wrong secret", a, err, unauthorized, invalidClient) {
			return
		}
		if c.Method == "client_secret_basic" && !strings.HasPrefix(a.WWWAuth, "Basic ") {
			f.fail("wrong secret", "invalid_client after HTTP Basic without a Basic challenge: %q", a.WWWAuth)
			return
		}
		a, err = f.exchange(c.auth(), code, verifier)
		if !f.ok("redeem", a, err) {
			return
		}
		r, err := f.refresh(wrong, a.Refresh)
		if !f.refused("refresh with a wrong secret", r, err, unauthorized, invalidClient) {
			return
		}
		r, err = f.refresh(soakAuth{Method: "none", ID: c.ID}, a.Refresh)
		if !f.refused("refresh without the secret", r, err, unauthorized, invalidClient) {
			return
		}
		r, err = f.refresh(c.auth(), a.Refresh)
		if !f.ok("refresh", r, err) {
			return
		}
		f.call("call", r.Access, http.StatusOK)

	case soakUnknownClient:
		unknown := soakAuth{Method: "none", ID: "no-such-client-" + strconv.Itoa(f.i)}
		a, err := f.exchange(unknown, code, verifier)
		if !f.refused("unknown client", a, err, unauthorized, invalidClient) {
			return
		}
		a, err = f.exchange(c.auth(), code, verifier)
		if !f.ok("redeem", a, err) {
			return
		}
		r, err := f.refresh(unknown, a.Refresh)
		if !f.refused("refresh by an unknown client", r, err, unauthorized, invalidClient) {
			return
		}
		r, err = f.refresh(c.auth(), a.Refresh)
		if !f.ok("refresh", r, err) {
			return
		}
		f.call("call", r.Access, http.StatusOK)
	}
	f.l.mu.Lock()
	f.l.flows[f.kind]++
	f.l.mu.Unlock()
}

// junk sends malformed requests, all of which must be refused without
// touching the flow's code, which is redeemed afterwards.
func (f *soakFlow) junk(c soakClient, code string) bool {
	const bad = http.StatusBadRequest
	invalidRequest := oauthproxy.ErrCodeInvalidRequest
	form := "application/x-www-form-urlencoded"
	post := func(contentType, body string, h http.Header) (soakAnswer, error) {
		return f.rig.do(f.ctx, http.MethodPost, "/oauth/token", contentType, strings.NewReader(body), h)
	}
	random := make([]byte, 64+f.rnd.IntN(512))
	for i := range random {
		random[i] = byte(f.rnd.UintN(256))
	}
	cases := []struct {
		step   string
		send   func() (soakAnswer, error)
		status int
		code   string
	}{
		{"random bytes", func() (soakAnswer, error) { return post(form, string(random), nil) }, bad, invalidRequest},
		{"JSON body", func() (soakAnswer, error) {
			return post("application/json", `{"grant_type":"authorization_code","code":"`+code+`"}`, nil)
		}, bad, invalidRequest},
		{"no content type", func() (soakAnswer, error) { return post("", "grant_type=authorization_code", nil) }, bad, invalidRequest},
		{"empty body", func() (soakAnswer, error) { return post(form, "", nil) }, bad, invalidRequest},
		{"repeated parameter", func() (soakAnswer, error) {
			return post(form, "grant_type=authorization_code&code="+url.QueryEscape(code)+"&code=x&client_id="+url.QueryEscape(c.ID), nil)
		}, bad, invalidRequest},
		{"bad escape", func() (soakAnswer, error) { return post(form, "grant_type=authorization_code&code=%zz", nil) }, bad, invalidRequest},
		{"malformed Basic", func() (soakAnswer, error) {
			return post(form, "grant_type=authorization_code&code="+url.QueryEscape(code), http.Header{"Authorization": {"Basic !!not-base64!!"}})
		}, http.StatusUnauthorized, oauthproxy.ErrCodeInvalidClient},
		{"unsupported grant_type", func() (soakAnswer, error) {
			return post(form, "grant_type=password&username=a&password=b", nil)
		}, bad, oauthproxy.ErrCodeUnsupportedGrantType},
		{"no code_verifier", func() (soakAnswer, error) {
			return f.rig.tokenRequest(f.ctx, c.auth(), url.Values{"grant_type": {"authorization_code"}, "code": {code}, "redirect_uri": {clientRedirect}})
		}, bad, invalidRequest},
		{"mangled code", func() (soakAnswer, error) { return f.exchange(c.auth(), code+"x", "v") }, bad, oauthproxy.ErrCodeInvalidGrant},
		{"registration junk", func() (soakAnswer, error) {
			return f.rig.do(f.ctx, http.MethodPost, "/oauth/register", "application/json", strings.NewReader(`{"redirect_uris":`), nil)
		}, bad, oauthproxy.ErrCodeInvalidClientMetadata},
		{"registration of an evil redirect", func() (soakAnswer, error) {
			return f.rig.do(f.ctx, http.MethodPost, "/oauth/register", "application/json",
				strings.NewReader(`{"redirect_uris":["https://evil.example/cb"],"token_endpoint_auth_method":"none"}`), nil)
		}, bad, oauthproxy.ErrCodeInvalidRedirectURI},
	}
	if f.i%(25*int(soakKinds)) == int(soakJunk) {
		// Now and then a body over the 1 MiB cap.
		cases = append(cases, struct {
			step   string
			send   func() (soakAnswer, error)
			status int
			code   string
		}{"oversized body", func() (soakAnswer, error) {
			return post(form, "grant_type=authorization_code&code="+strings.Repeat("a", 1<<20), nil)
		}, bad, invalidRequest})
	}
	for _, tc := range cases {
		a, err := tc.send()
		if !f.refused(tc.step, a, err, tc.status, tc.code) {
			return false
		}
	}
	// A junk bearer token.
	f.call("junk bearer token", "junk."+strconv.Itoa(f.i)+".token", http.StatusUnauthorized)
	return true
}

// newSoakRand is flow i's own random source, the same on every run.
func newSoakRand(i int) *rand.Rand { return rand.New(rand.NewPCG(uint64(i), 0x50a6)) }

// runSoak runs flows on concurrency workers until all are done or ctx ends.
func runSoak(ctx context.Context, rig *soakRig, l *soakLedger, flows, concurrency int) {
	var next atomic.Int64
	var wg sync.WaitGroup
	for range concurrency {
		wg.Go(func() {
			for {
				i := int(next.Add(1)) - 1
				if i >= flows || ctx.Err() != nil {
					return
				}
				f := &soakFlow{ctx: ctx, rig: rig, l: l, kind: soakKind(i % int(soakKinds)), i: i, rnd: newSoakRand(i)}
				f.run()
			}
		})
	}
	wg.Wait()
}

func TestSoak(t *testing.T) {
	size := soakSizeFromEnv(t)
	leakBaseline := goleak.IgnoreCurrent()
	baseGoroutines := runtime.NumGoroutine()
	baseHeap, baseLive := heapAfterGC()
	hwmReset := resetVmHWM()
	peak := startGoroutinePeak(5 * time.Millisecond)

	rig, err := newSoakRig(soakRigOptions{Concurrency: size.Concurrency})
	require.NoError(t, err)
	ledger := newSoakLedger()
	ctx, cancel := context.WithTimeout(context.Background(), size.Limit)
	start := time.Now()
	runSoak(ctx, rig, ledger, size.Flows, size.Concurrency)
	elapsed := time.Since(start)
	timedOut := ctx.Err() != nil
	cancel()
	events := rig.events

	// Shut everything down and let it all go, then measure.
	rig.close()
	rig = nil
	peakGoroutines := peak.stop()
	sum := ledger.summary()
	ledger = nil
	afterGoroutines := waitGoroutines(baseGoroutines, 10*time.Second)
	afterHeap, afterLive := heapAfterGC()
	hwm := vmHWM()

	t.Logf("soak: %d of %d flows at concurrency %d in %s (%.0f flows/s), GOMAXPROCS %d",
		sum.Flows, size.Flows, size.Concurrency, elapsed.Round(time.Millisecond),
		float64(sum.Flows)/elapsed.Seconds(), runtime.GOMAXPROCS(0))
	t.Logf("soak: flows by kind: %s", formatCounts(sum.ByKind))
	t.Logf("soak: failures by kind: %s", formatCounts(sum.Failures))
	t.Logf("soak: bad requests refused as expected: %s", formatCounts(sum.Refused))
	t.Logf("soak: codes: %d issued, %d redemptions, at most %d per code; refresh tokens: %d presented, %d uses, at most %d per token",
		sum.Codes, sum.CodeWins, sum.MaxCodeWins, sum.RefreshUsed, sum.RefreshWins, sum.MaxRTWins)
	t.Logf("soak: audit events: %s", events)
	hwmNote := "since the soak started"
	if !hwmReset {
		hwmNote = "of the whole test process: clear_refs unavailable"
	}
	t.Logf("soak: goroutines %d before, peak %d, %d after Destroy; after Destroy and GC, heap in use %.1f → %.1f MiB and live heap %.1f → %.1f MiB; peak RSS (VmHWM) %.1f MiB %s",
		baseGoroutines, peakGoroutines, afterGoroutines, mib(baseHeap), mib(afterHeap), mib(baseLive), mib(afterLive), mib(uint64(hwm)), hwmNote)

	require.False(t, timedOut, "the soak did not finish within %s: %d of %d flows", size.Limit, sum.Flows, size.Flows)
	assert.Empty(t, sum.Failures, "unexpected outcomes:\n%v", errorsJoinShort(sum.Errs, soakMaxErrs))
	assert.Equal(t, size.Flows, sum.Flows, "every flow completes")
	assert.Equal(t, size.Flows, sum.Codes, "every flow's login issued a code")
	assert.LessOrEqual(t, sum.MaxCodeWins, 1, "no code is redeemed twice")
	assert.Zero(t, sum.CodesNotOnce, "every code is redeemed exactly once")
	assert.LessOrEqual(t, sum.MaxRTWins, 1, "no refresh token is used twice")

	// The audit trail agrees with what the clients saw.
	assert.Equal(t, size.Flows, events.count(oauthproxy.EventClientRegistered), "client.registered")
	assert.Equal(t, size.Flows, events.count(oauthproxy.EventCodeIssued), "code.issued")
	assert.Equal(t, sum.CodeWins, events.count(oauthproxy.EventCodeRedeemed), "code.redeemed")
	assert.Equal(t, sum.CodeWins, events.count(oauthproxy.EventTokenIssued), "token.issued")
	assert.Equal(t, sum.RefreshWins, events.count(oauthproxy.EventTokenRefreshed), "token.refreshed")
	assert.GreaterOrEqual(t, events.count(oauthproxy.EventCodeReplayed), sum.ByKind[soakReplayedCode.String()], "code.replayed")
	assert.GreaterOrEqual(t, events.count(oauthproxy.EventRefreshReuseDetected), sum.ByKind[soakReusedRefresh.String()], "refresh.reuse_detected")

	// Back to the baseline: goroutines exactly (goleak names any left), the
	// heap within a tolerance. The soak's own state is tens of MiB at 10,000
	// flows; what stays is the runtime's (partly filled spans count as in
	// use, goroutine descriptors are kept for reuse) and the test
	// framework's: about 1.5 MiB of spans and well under 1 MiB of live
	// objects after 10,000 flows.
	assert.LessOrEqual(t, afterGoroutines, baseGoroutines, "goroutines return to the baseline after Destroy")
	assert.LessOrEqual(t, afterHeap, baseHeap+8<<20+baseHeap/4,
		"heap in use returns to the baseline after Destroy (%.1f MiB before, %.1f MiB after)", mib(baseHeap), mib(afterHeap))
	assert.LessOrEqual(t, afterLive, baseLive+4<<20+baseLive/4,
		"live heap returns to the baseline after Destroy (%.1f MiB before, %.1f MiB after)", mib(baseLive), mib(afterLive))
	goleak.VerifyNone(t, leakBaseline)
}
