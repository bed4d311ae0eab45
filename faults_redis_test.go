package oauthproxy_test

// Redis killed in the middle of a load run and started again (issue 8, item
// 1). A few goroutines run whole flows, refreshes and bearer checks against a
// proxy on storage/redis while the Redis server is killed (SIGKILL, as a
// crash) and restarted from its append-only file (fsync on every write).
//
// What is guaranteed, and checked:
//   - While Redis is down every request fails with temporarily_unavailable
//     (503, or the error page or error redirect saying so): never a 500, never
//     invalid_grant or invalid_token for a credential that was valid.
//   - Once it is back, requests succeed again.
//   - Nothing acknowledged is lost: every refresh token the client received in
//     a 200 — from a code exchange or a refresh, right up to the kill — works
//     after the restart, and so does its access token.
//   - A refresh refused with 503 while Redis was down did not cost the
//     client its refresh token: it works after the restart.
//
// What is not guaranteed: a refresh in flight at the very moment of the kill
// may lose its token. The proxy rotates last (it takes the old token only
// after the new pair is stored), so the only way is that Redis executed that
// take and made it durable (appendfsync always: written and fsynced) but was
// killed before its reply left — the proxy then cannot know the rotation
// happened, answers 503, and withdraws the new pair. The window is the
// fsync, so with a few refreshes in flight a kill catches one now and then;
// the test counts them (lostInFlight) and refuses any other invalid_grant.
// TestFaults_Storage_Refresh ("outage after the rotation") pins the part the
// proxy controls: storage failing after the rotation point costs nothing.

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/oauthproxy-go/oauthproxy"
	"github.com/oauthproxy-go/oauthproxy/internal/pkce"
	"github.com/oauthproxy-go/oauthproxy/storage/redis"
	"github.com/oauthproxy-go/oauthproxy/storage/redis/redistest"
	"github.com/stretchr/testify/require"
)

// Phases of the load run.
const (
	redisLoadBefore = 700 * time.Millisecond // load with Redis up
	redisLoadDown   = 700 * time.Millisecond // load with Redis killed
	redisLoadAfter  = 700 * time.Millisecond // load once storage works again
	// redisRecovery bounds how long after the restart storage works again:
	// a go-redis pool that failed PoolSize dials in a row stops dialing and
	// probes the server once a second instead.
	redisRecovery = 3 * time.Second
	// redisRefreshWorkers is how many goroutines refresh sessions. Each has at
	// most one refresh in flight when Redis dies, and a refresh loses its
	// token only if Redis made its take durable then: so at most this many
	// tokens are lost in flight.
	redisRefreshWorkers = 3
)

// Outcomes of one request.
const (
	outcomeOK          = "ok"
	outcomeUnavailable = "unavailable" // temporarily_unavailable, as a 503 or an error redirect
	outcomeGone        = "invalid_grant"
)

// loadEvent is one request of the load run.
type loadEvent struct {
	kind       string // "authorize", "consent", "callback", "exchange", "refresh", "mcp"
	start, end time.Time
	outcome    string // an outcome constant, or a description of what went wrong
	token      string // the refresh token a refresh presented
}

func (ev loadEvent) overlaps(from, to time.Time) bool {
	return ev.start.Before(to) && ev.end.After(from)
}

// loadSession is what a client holds after a 200 from /token.
type loadSession struct {
	refresh, access string
	ackedAt         time.Time
}

// redisLoad is the shared state of a load run.
type redisLoad struct {
	e      *env
	client registered
	stop   atomic.Bool

	mu      sync.Mutex
	events  []loadEvent
	pool    []*loadSession // sessions the refresh workers use
	reserve []*loadSession // acknowledged sessions the load never touches again
}

func (l *redisLoad) record(ev loadEvent) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.events = append(l.events, ev)
}

func (l *redisLoad) put(s *loadSession, reserve bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if reserve {
		l.reserve = append(l.reserve, s)
	} else {
		l.pool = append(l.pool, s)
	}
}

func (l *redisLoad) take() *loadSession {
	l.mu.Lock()
	defer l.mu.Unlock()
	if len(l.pool) == 0 {
		return nil
	}
	s := l.pool[0]
	l.pool = l.pool[1:]
	return s
}

// classifyToken names the outcome of a /token answer.
func classifyToken(res tokenResult, err error) string {
	switch {
	case err != nil:
		return "transport: " + err.Error()
	case res.Status == http.StatusOK && res.str("access_token") != "":
		return outcomeOK
	case res.Status == http.StatusServiceUnavailable && res.str("error") == "temporarily_unavailable":
		return outcomeUnavailable
	case res.Status == http.StatusBadRequest && res.str("error") == "invalid_grant":
		return outcomeGone
	}
	return "unexpected /token answer: " + http.StatusText(res.Status) + " " + res.str("error")
}

// classifyPage names the outcome of a browser step: the page or redirect
// wanted, or temporarily_unavailable as an error page or error redirect.
func classifyPage(resp *http.Response, body string, err error, ok func() bool) string {
	switch {
	case err != nil:
		return "transport: " + err.Error()
	case ok():
		return outcomeOK
	case resp.StatusCode == http.StatusServiceUnavailable && strings.Contains(body, "temporarily_unavailable"):
		return outcomeUnavailable
	case resp.StatusCode == http.StatusFound:
		if loc, perr := url.Parse(resp.Header.Get("Location")); perr == nil &&
			loc.Query().Get("error") == "temporarily_unavailable" && loc.Query().Get("state") != "" && loc.Query().Get("iss") != "" {
			return outcomeUnavailable
		}
	}
	return "unexpected page: " + resp.Status + " " + resp.Header.Get("Location")
}

// flow runs one login and code exchange without t.FailNow, recording each
// step, and returns the session on success.
func (l *redisLoad) flow() *loadSession {
	jar, _ := cookiejar.New(nil) // never fails without options
	b := &http.Client{Jar: jar, CheckRedirect: func(req *http.Request, _ []*http.Request) error {
		if req.URL.Path == "/client/callback" {
			return http.ErrUseLastResponse
		}
		return nil
	}}
	get := func(kind string, do func() (*http.Response, error), ok func(*http.Response, string) bool) (*http.Response, string, bool) {
		ev := loadEvent{kind: kind, start: time.Now()}
		resp, err := do()
		var body string
		if err == nil {
			raw, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			body = string(raw)
		}
		ev.end = time.Now()
		ev.outcome = classifyPage(resp, body, err, func() bool { return ok(resp, body) })
		l.record(ev)
		return resp, body, ev.outcome == outcomeOK
	}

	verifier := pkce.GenerateVerifier()
	params := authorizeParams(l.client, pkce.Challenge(verifier))
	_, page, ok := get("authorize", func() (*http.Response, error) {
		return b.Get(l.e.srv.URL + "/oauth/authorize?" + params.Encode())
	}, func(resp *http.Response, body string) bool {
		return resp.StatusCode == http.StatusOK && strings.Contains(body, "csrf_token")
	})
	if !ok {
		return nil
	}
	form := url.Values{"action": {"approve"}}
	for _, m := range hiddenInput.FindAllStringSubmatch(page, -1) {
		form.Set(m[1], htmlUnescape(m[2]))
	}
	resp, _, ok := get("consent", func() (*http.Response, error) {
		return b.PostForm(l.e.srv.URL+"/oauth/consent", form)
	}, func(resp *http.Response, _ string) bool {
		loc, err := url.Parse(resp.Header.Get("Location"))
		return resp.StatusCode == http.StatusFound && err == nil && loc.Query().Get("code") != ""
	})
	if !ok {
		return nil
	}
	loc, _ := url.Parse(resp.Header.Get("Location"))

	ev := loadEvent{kind: "exchange", start: time.Now()}
	res, err := tokenRequest(l.e.srv.URL, l.client, url.Values{
		"grant_type": {"authorization_code"}, "code": {loc.Query().Get("code")},
		"redirect_uri": {clientRedirect}, "code_verifier": {verifier},
	})
	ev.end = time.Now()
	ev.outcome = classifyToken(res, err)
	if ev.outcome == outcomeGone {
		// A code whose exchange was cut short by the kill may be spent; the
		// refresh tokens are what the guarantees are about.
		ev.outcome = "code refused: invalid_grant"
	}
	l.record(ev)
	if ev.outcome != outcomeOK {
		return nil
	}
	return &loadSession{refresh: res.str("refresh_token"), access: res.str("access_token"), ackedAt: ev.end}
}

// refreshOnce refreshes s and calls /mcp with the new access token. It
// returns the session to keep using, or nil when the token is gone.
func (l *redisLoad) refreshOnce(s *loadSession) *loadSession {
	ev := loadEvent{kind: "refresh", start: time.Now(), token: s.refresh}
	res, err := tokenRequest(l.e.srv.URL, l.client, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {s.refresh}})
	ev.end = time.Now()
	ev.outcome = classifyToken(res, err)
	l.record(ev)
	switch ev.outcome {
	case outcomeOK:
		s = &loadSession{refresh: res.str("refresh_token"), access: res.str("access_token"), ackedAt: ev.end}
	case outcomeUnavailable:
		return s // still the client's token: try again later
	default:
		return nil
	}

	ev = loadEvent{kind: "mcp", start: time.Now()}
	status, code, err := mcpStatus(l.e.srv.URL, s.access)
	ev.end = time.Now()
	switch {
	case err != nil:
		ev.outcome = "transport: " + err.Error()
	case status == http.StatusOK:
		ev.outcome = outcomeOK
	case status == http.StatusServiceUnavailable && code == "temporarily_unavailable":
		ev.outcome = outcomeUnavailable
	default:
		ev.outcome = "unexpected /mcp answer: " + http.StatusText(status) + " " + code
	}
	l.record(ev)
	return s
}

// mcpStatus calls /mcp with token, without t.FailNow.
func mcpStatus(srvURL, token string) (int, string, error) {
	req, err := http.NewRequest(http.MethodPost, srvURL+"/mcp", nil)
	if err != nil {
		return 0, "", err
	}
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, "", err
	}
	defer resp.Body.Close()
	var body map[string]any
	_ = json.NewDecoder(resp.Body).Decode(&body)
	code, _ := body["error"].(string)
	return resp.StatusCode, code, nil
}

func TestFaults_RedisKilledUnderLoad(t *testing.T) {
	srv := redistest.StartWithOptions(t, redistest.Options{Persistent: true})
	// Fails fast while Redis is down: one dial, no retries.
	rdb := redistest.NewClient(t, srv.Addr())
	e := newEnv(t, withConfig(func(c *oauthproxy.Config) { c.TokenStorage = redis.New(rdb) }))
	l := &redisLoad{e: e, client: e.register("client_secret_basic")}
	for range 8 {
		tok := e.secTokens(l.client)
		l.put(&loadSession{refresh: tok.str("refresh_token"), access: tok.str("access_token"), ackedAt: time.Now()}, false)
	}
	// An access token the load never refreshes away, to see when storage
	// works again after the restart.
	probe := l.pool[0]

	// One goroutine runs whole flows; three refresh sessions and call /mcp.
	// A refresh worker's first session with a 200, and every third after it,
	// goes into the reserve, untouched until the end: acknowledged state from
	// the middle of the run, some of it from just before the kill.
	var wg sync.WaitGroup
	wg.Go(func() {
		for !l.stop.Load() {
			if s := l.flow(); s != nil {
				l.put(s, false)
			}
		}
	})
	for range redisRefreshWorkers {
		wg.Go(func() {
			for n := 0; !l.stop.Load(); {
				s := l.take()
				if s == nil {
					time.Sleep(5 * time.Millisecond)
					continue
				}
				next := l.refreshOnce(s)
				switch {
				case next == nil:
				case next != s:
					n++
					l.put(next, n%3 == 1)
				default:
					l.put(next, false)
					time.Sleep(2 * time.Millisecond) // Redis is down: do not spin
				}
			}
		})
	}

	loadStart := time.Now()
	time.Sleep(redisLoadBefore)
	killStart := time.Now()
	srv.Kill()
	killEnd := time.Now()
	time.Sleep(redisLoadDown)
	restartStart := time.Now()
	srv.Start()
	restartEnd := time.Now()
	recovered := restartEnd
	for status := 0; status != http.StatusOK; {
		if time.Since(restartEnd) > redisRecovery {
			l.stop.Store(true)
			wg.Wait()
			t.Fatalf("storage did not work again within %s of the restart", redisRecovery)
		}
		time.Sleep(10 * time.Millisecond)
		recovered = time.Now()
		status, _, _ = mcpStatus(e.srv.URL, probe.access)
	}
	time.Sleep(redisLoadAfter)
	l.stop.Store(true)
	wg.Wait()
	t.Logf("Redis killed in %s, down for %s, restarted in %s; storage worked again %s after the restart",
		killEnd.Sub(killStart).Round(time.Millisecond), restartStart.Sub(killEnd).Round(time.Millisecond),
		restartEnd.Sub(restartStart).Round(time.Millisecond), recovered.Sub(restartEnd).Round(time.Millisecond))

	// --- during the run ---
	// lostInFlight tells whether an invalid_grant for token is the one loss
	// nothing can rule out: an earlier attempt with it (a client retries the
	// token it holds until it gets an answer) failed with 503 while Redis was
	// being killed.
	byToken := map[string][]loadEvent{}
	for _, ev := range l.events {
		if ev.token != "" {
			byToken[ev.token] = append(byToken[ev.token], ev)
		}
	}
	lostInFlight := func(token string, at time.Time) bool {
		for _, ev := range byToken[token] {
			if ev.start.Before(at) && ev.outcome == outcomeUnavailable && ev.overlaps(killStart, killEnd) {
				return true
			}
		}
		return false
	}
	counts := map[string]map[string]int{} // phase → outcome → n
	var violations []string
	lost := map[string]bool{} // refresh tokens lost in flight
	for _, ev := range l.events {
		phase, want := "edges", []string{outcomeOK, outcomeUnavailable}
		switch {
		case ev.end.Before(killStart):
			phase, want = "up", []string{outcomeOK}
		case ev.start.After(killEnd) && ev.end.Before(restartStart):
			phase, want = "down", []string{outcomeUnavailable}
		case ev.start.After(recovered):
			phase, want = "back", []string{outcomeOK}
		}
		if counts[phase] == nil {
			counts[phase] = map[string]int{}
		}
		counts[phase][ev.outcome]++
		if ev.kind == "refresh" && ev.outcome == outcomeGone && lostInFlight(ev.token, ev.start) {
			lost[ev.token] = true
			continue
		}
		if !slices.Contains(want, ev.outcome) {
			violations = append(violations, fmt.Sprintf("%s %s (%s..%s): %s, want %v",
				phase, ev.kind, ev.start.Format(time.StampMicro), ev.end.Format(time.StampMicro), ev.outcome, want))
		}
	}
	t.Logf("requests by phase and outcome: %v", counts)
	require.Empty(t, violations[:min(len(violations), 10)], "%d requests got an answer they must not get (kill %s..%s, restart %s..%s, working again %s)",
		len(violations), killStart.Format(time.StampMicro), killEnd.Format(time.StampMicro),
		restartStart.Format(time.StampMicro), restartEnd.Format(time.StampMicro), recovered.Format(time.StampMicro))
	require.Positive(t, counts["up"][outcomeOK], "requests succeeded before the kill")
	require.Positive(t, counts["down"][outcomeUnavailable], "requests were refused while Redis was down")
	require.Positive(t, counts["back"][outcomeOK], "requests succeeded after the restart")

	// --- after the run: nothing acknowledged is lost ---
	ackedBeforeKill := 0
	for _, s := range append(append([]*loadSession(nil), l.reserve...), l.pool...) {
		if s.ackedAt.After(loadStart) && s.ackedAt.Before(killStart) {
			ackedBeforeKill++
		}
		status, code, err := mcpStatus(e.srv.URL, s.access)
		require.NoError(t, err)
		require.Equal(t, http.StatusOK, status, "an acknowledged access token works after the restart: %s", code)
		res, err := tokenRequest(e.srv.URL, l.client, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {s.refresh}})
		if outcome := classifyToken(res, err); outcome == outcomeGone && lostInFlight(s.refresh, time.Now()) {
			lost[s.refresh] = true
			continue
		}
		require.Equal(t, http.StatusOK, res.Status, "an acknowledged refresh token (acknowledged %s; kill at %s) works after the restart: %v",
			s.ackedAt.Format(time.StampMicro), killStart.Format(time.StampMicro), res.Body)
	}
	inFlight := 0
	for _, ev := range l.events {
		if ev.kind == "refresh" && ev.overlaps(killStart, killEnd) {
			inFlight++
		}
	}
	t.Logf("sessions checked after the restart: %d in reserve, %d in use; %d acknowledged during the load before the kill; "+
		"%d refreshes in flight at the kill, %d of their tokens rotated by Redis without a reply",
		len(l.reserve), len(l.pool), ackedBeforeKill, inFlight, len(lost))
	require.Positive(t, ackedBeforeKill, "some sessions were acknowledged during the load, before the kill")
	// The loss the test excuses is bounded: one token per refresh worker at
	// most, and never more than the refreshes in flight at the kill. More
	// means tokens are lost some other way than a reply cut off by the kill.
	require.LessOrEqual(t, len(lost), min(redisRefreshWorkers, inFlight),
		"refresh tokens lost in flight at the kill (%d refresh workers, %d refreshes in flight)", redisRefreshWorkers, inFlight)
}
