package loadtest

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// Config describes a run. Zero fields take the defaults in brackets.
type Config struct {
	// URL is the proxy's issuer (BaseURL). Only loopback hosts are accepted,
	// and every request of the run, redirects included, stays on loopback
	// (or goes to Upstream).
	URL string
	// Flows is the number of complete flows in the first phase [1000]: register,
	// authorize, consent, upstream, callback, token, refresh, protected call.
	Flows int
	// Codes is the number of authorization codes made (by browser logins) and
	// then redeemed all at once in the token burst [4000].
	Codes int
	// Concurrency is the number of workers in every phase [16].
	Concurrency int
	// StormTime is the length of the refresh storm and of the bearer storm
	// [5s]; StormRequests caps each [1,000,000].
	StormTime     time.Duration
	StormRequests int
	// MaxTime ends the whole run [50s].
	MaxTime time.Duration
	// Upstream answers the requests for UpstreamHost, the in-process
	// upstream's authorization endpoint. Nil when the target has its own.
	Upstream http.RoundTripper
	// Progress receives a progress line every second; nil for none.
	Progress io.Writer
	// Floor, when set, has every phase read the proxy process's CPU and
	// allocations, and adds a floor phase after the flows: the same round
	// trips against bare net/http handlers in the proxy's process.
	Floor *FloorConfig
}

func (c *Config) defaults() {
	def := func(v *int, d int) {
		if *v <= 0 {
			*v = d
		}
	}
	def(&c.Flows, 1000)
	def(&c.Codes, 4000)
	def(&c.Concurrency, 16)
	def(&c.StormRequests, 1_000_000)
	if c.StormTime <= 0 {
		c.StormTime = 5 * time.Second
	}
	if c.MaxTime <= 0 {
		c.MaxTime = 50 * time.Second
	}
}

// floorRounds is how many slices the flows and the floor alternate in.
const floorRounds = 8

// clientRedirect is where the test clients' codes are sent. Nothing listens
// there: the driver stops at the redirect and reads the code from it.
const clientRedirect = "http://127.0.0.1:9/callback"

// runner is one run's shared state.
type runner struct {
	cfg    Config
	target *url.URL
	rt     http.RoundTripper
	http   *http.Client // no redirects, no cookies
	meta   struct {
		Registration  string `json:"registration_endpoint"`
		Authorization string `json:"authorization_endpoint"`
		Token         string `json:"token_endpoint"`
	}
	resource string
	progress *progress
}

// session is one signed-in client: its tokens, kept current.
type session struct {
	clientID, access, refresh string
}

// Run drives the proxy at cfg.URL through the phases and reports them.
func Run(ctx context.Context, cfg Config) (*Report, error) {
	cfg.defaults()
	target, err := CheckLoopbackURL(cfg.URL)
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithTimeout(ctx, cfg.MaxTime)
	defer cancel()
	transport := &http.Transport{
		Proxy:               nil, // never an HTTP proxy from the environment: loopback only
		DialContext:         (&net.Dialer{Timeout: 5 * time.Second}).DialContext,
		MaxIdleConns:        4 * cfg.Concurrency,
		MaxIdleConnsPerHost: 4 * cfg.Concurrency,
		IdleConnTimeout:     30 * time.Second,
		DisableCompression:  true,
	}
	defer transport.CloseIdleConnections()
	r := &runner{cfg: cfg, target: target, rt: loopbackOnly{upstream: cfg.Upstream, next: transport}}
	r.http = &http.Client{Transport: r.rt, Timeout: 30 * time.Second, CheckRedirect: noRedirects}
	r.progress = newProgress(cfg.Progress)
	defer r.progress.stop()
	if err := r.discover(ctx); err != nil {
		return nil, err
	}

	start := time.Now()
	rep := &Report{Target: target.String(), Concurrency: cfg.Concurrency, GOMAXPROCS: runtime.GOMAXPROCS(0)}
	add := func(p PhaseReport) { rep.Phases = append(rep.Phases, p) }

	var script *FloorScript
	if cfg.Floor != nil {
		if script, err = r.recordFlow(ctx); err != nil {
			return nil, fmt.Errorf("recording a flow for the floor: %w", err)
		}
		if err := r.uploadScript(ctx, script); err != nil {
			return nil, err
		}
	}

	// 1. Complete flows, one client each, then (with a floor) the same round
	// trips against bare handlers.
	flows := func(sh *shard, rec *recorder, _ int) (bool, bool) { return r.flow(ctx, sh, rec), false }
	var p PhaseReport
	if script == nil {
		p = r.phase(ctx, "flows", "flows", cfg.Flows, 0, flows)
		add(p)
	} else {
		type spec = struct {
			name, unit string
			n          int
			op         op
		}
		var floor PhaseReport
		p, floor = r.alternate(ctx, floorRounds, spec{"flows", "flows", cfg.Flows, flows},
			spec{"floor", "flows", cfg.Flows, func(sh *shard, rec *recorder, _ int) (bool, bool) {
				return r.floorFlow(ctx, sh, rec, script), false
			}})
		add(p)
		add(floor)
		rep.Floor = floorResult(script, p, floor)
	}

	// 2. Logins that leave codes, then 3. all codes redeemed at once: the
	// burst of many clients reconnecting.
	cl, err := r.register(ctx, r.progressShard(), &recorder{})
	if err != nil {
		return rep, err
	}
	type code struct{ code, verifier string }
	var codesMu sync.Mutex
	var codes []code
	p = r.phase(ctx, "logins", "codes", cfg.Codes, 0, func(sh *shard, rec *recorder, _ int) (bool, bool) {
		c, v, ok := r.login(ctx, sh, rec, cl)
		if ok {
			codesMu.Lock()
			codes = append(codes, code{c, v})
			codesMu.Unlock()
		}
		return ok, false
	})
	add(p)
	var sessMu sync.Mutex
	var sessions []*session
	p = r.phase(ctx, "token burst", "codes", len(codes), 0, func(sh *shard, rec *recorder, i int) (bool, bool) {
		s, ok := r.exchange(ctx, sh, rec, cl, codes[i].code, codes[i].verifier)
		if ok {
			sessMu.Lock()
			sessions = append(sessions, s)
			sessMu.Unlock()
		}
		return ok, false
	})
	add(p)
	if len(sessions) < cfg.Concurrency {
		rep.Elapsed = time.Since(start)
		rep.PeakRSS = PeakRSS()
		return rep, fmt.Errorf("only %d sessions for %d workers: see the errors above", len(sessions), cfg.Concurrency)
	}

	// 4. Refresh storm: each worker rotates its own share of the sessions.
	p = r.phase(ctx, "refresh storm", "", cfg.StormRequests, cfg.StormTime, func(sh *shard, rec *recorder, i int) (bool, bool) {
		w := i % cfg.Concurrency
		mine := sessions[w*len(sessions)/cfg.Concurrency : (w+1)*len(sessions)/cfg.Concurrency]
		for range mine { // the next live session of this worker's share
			s := mine[(i/cfg.Concurrency)%len(mine)]
			if s.refresh != "" {
				return r.refresh(ctx, sh, rec, s), false
			}
			i += cfg.Concurrency
		}
		return false, true // every rotation of this share failed
	})
	add(p)

	// 5. Bearer storm: protected calls with the sessions' access tokens.
	p = r.phase(ctx, "bearer storm", "", cfg.StormRequests, cfg.StormTime, func(sh *shard, rec *recorder, i int) (bool, bool) {
		return r.bearer(ctx, sh, rec, sessions[i%len(sessions)].access), false
	})
	add(p)

	rep.Elapsed = time.Since(start)
	rep.PeakRSS = PeakRSS()
	return rep, ctx.Err()
}

// op is one unit of a phase: it reports whether it completed a unit, and
// whether its worker should stop.
type op func(sh *shard, rec *recorder, i int) (ok, stop bool)

// phase runs op n times (or for d, when d > 0) on cfg.Concurrency workers.
// Op i of a time-bounded phase is always run by worker i % Concurrency.
func (r *runner) phase(ctx context.Context, name, unit string, n int, d time.Duration, op op) PhaseReport {
	p := PhaseReport{Name: name, Unit: unit}
	rec := &recorder{}
	r.progress.start(name, rec)
	defer r.progress.end()
	r.chunk(ctx, &p, rec, 0, n, d, op)
	return p.finish(rec)
}

// alternate runs two phases of n ops each in rounds, a slice of one then a
// slice of the other, so a neighbour's load falls on both alike: the flows
// and their floor are compared per round trip of CPU, and a busy second on
// a shared machine must not land on one of them only.
func (r *runner) alternate(ctx context.Context, rounds int, a, b struct {
	name, unit string
	n          int
	op         op
}) (PhaseReport, PhaseReport) {
	pa, pb := PhaseReport{Name: a.name, Unit: a.unit}, PhaseReport{Name: b.name, Unit: b.unit}
	ra, rb := &recorder{}, &recorder{}
	for k := range rounds {
		for _, x := range []struct {
			p   *PhaseReport
			rec *recorder
			n   int
			op  op
		}{{&pa, ra, a.n, a.op}, {&pb, rb, b.n, b.op}} {
			from, to := x.n*k/rounds, x.n*(k+1)/rounds
			r.progress.start(x.p.Name, x.rec)
			r.chunk(ctx, x.p, x.rec, from, to, 0, x.op)
			r.progress.pause()
		}
	}
	r.progress.end()
	return pa.finish(ra), pb.finish(rb)
}

// chunk runs ops from..to-1 (or, when d > 0, from on for d) and adds what
// they cost to p.
func (r *runner) chunk(ctx context.Context, p *PhaseReport, rec *recorder, from, to int, d time.Duration, op op) {
	var ms0, ms1 runtime.MemStats
	runtime.ReadMemStats(&ms0)
	var srv0 Usage
	var srvErr error
	if r.cfg.Floor != nil {
		srv0, srvErr = r.serverUsage(ctx)
	}
	cpu0 := CPUTime()
	start := time.Now()
	var deadline time.Time
	if d > 0 {
		deadline = start.Add(d)
	}
	var next atomic.Int64
	next.Store(int64(from))
	var units atomic.Int64
	var wg sync.WaitGroup
	for w := range r.cfg.Concurrency {
		sh := rec.shard()
		wg.Go(func() {
			for k := 0; ; k++ {
				var i int
				if d > 0 {
					i = k*r.cfg.Concurrency + w // a fixed share per worker
				} else {
					i = int(next.Add(1)) - 1
				}
				if i >= to || ctx.Err() != nil || (d > 0 && time.Now().After(deadline)) {
					return
				}
				ok, stop := op(sh, rec, i)
				if ok {
					units.Add(1)
				}
				if stop {
					return
				}
			}
		})
	}
	wg.Wait()
	p.Duration += time.Since(start)
	p.CPU += CPUTime() - cpu0
	runtime.ReadMemStats(&ms1)
	p.Mallocs += ms1.Mallocs - ms0.Mallocs
	p.Units += int(units.Load())
	if r.cfg.Floor != nil && srvErr == nil {
		if srv1, err := r.serverUsage(ctx); err == nil {
			if p.Server == nil {
				p.Server = &Usage{}
			}
			p.Server.CPU += srv1.CPU - srv0.CPU
			p.Server.Mallocs += srv1.Mallocs - srv0.Mallocs
			p.Server.Syscalls += srv1.Syscalls - srv0.Syscalls
			p.Server.Bytes += srv1.Bytes - srv0.Bytes
		}
	}
}

// finish adds the requests rec recorded to p.
func (p PhaseReport) finish(rec *recorder) PhaseReport {
	p.Endpoints = rec.endpoints()
	for _, e := range p.Endpoints {
		p.Requests += e.Requests
		p.Errors += e.Errors
	}
	return p
}

// progressShard is a shard for setup requests that belong to no phase.
func (r *runner) progressShard() *shard { return (&recorder{}).shard() }

// discover reads the proxy's RFC 8414 and RFC 9728 metadata.
func (r *runner) discover(ctx context.Context) error {
	base := strings.TrimSuffix(r.target.String(), "/")
	if err := r.getJSON(ctx, base+"/.well-known/oauth-authorization-server"+r.target.Path, &r.meta); err != nil {
		return fmt.Errorf("reading the authorization server metadata: %w", err)
	}
	if r.meta.Registration == "" || r.meta.Authorization == "" || r.meta.Token == "" {
		return errors.New("the metadata lacks registration, authorization or token endpoint")
	}
	var prm struct {
		Resource string `json:"resource"`
	}
	r.resource = base + "/mcp"
	for _, path := range []string{"/.well-known/oauth-protected-resource/mcp", "/.well-known/oauth-protected-resource"} {
		origin := r.target.Scheme + "://" + r.target.Host
		if err := r.getJSON(ctx, origin+path, &prm); err == nil && prm.Resource != "" {
			r.resource = prm.Resource
			break
		}
	}
	return nil
}

func (r *runner) getJSON(ctx context.Context, u string, v any) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return err
	}
	resp, err := r.http.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("GET %s: HTTP %d", u, resp.StatusCode)
	}
	return json.NewDecoder(io.LimitReader(resp.Body, 1<<20)).Decode(v)
}

// call sends req and reads the whole answer, recording its latency (body
// included) under the endpoint's label. ok decides which statuses succeed.
func (r *runner) call(c *http.Client, sh *shard, rec *recorder, req *http.Request, ok func(int) bool) (*http.Response, []byte, bool) {
	return r.callAs(r.label(req), c, sh, rec, req, ok)
}

// callAs is call with the label given.
func (r *runner) callAs(label string, c *http.Client, sh *shard, rec *recorder, req *http.Request, ok func(int) bool) (*http.Response, []byte, bool) {
	start := time.Now()
	resp, err := c.Do(req)
	if err != nil {
		sh.fail(rec, label, err)
		return nil, nil, false
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	resp.Body.Close()
	elapsed := time.Since(start)
	if err != nil {
		sh.fail(rec, label, err)
		return nil, nil, false
	}
	if !ok(resp.StatusCode) {
		sh.fail(rec, label, fmt.Errorf("HTTP %d: %s", resp.StatusCode, body))
		return nil, nil, false
	}
	sh.ok(rec, label, elapsed)
	return resp, body, true
}

// label names a request's endpoint: method and path on the target, or
// "upstream …" elsewhere.
func (r *runner) label(req *http.Request) string {
	l := req.Method + " " + req.URL.Path
	if req.URL.Host != r.target.Host {
		l = "upstream " + l
	}
	return l
}

func status(want int) func(int) bool { return func(got int) bool { return got == want } }

// flow is one complete flow with a fresh client.
func (r *runner) flow(ctx context.Context, sh *shard, rec *recorder) bool {
	clientID, err := r.register(ctx, sh, rec)
	if err != nil {
		return false
	}
	code, verifier, ok := r.login(ctx, sh, rec, clientID)
	if !ok {
		return false
	}
	s, ok := r.exchange(ctx, sh, rec, clientID, code, verifier)
	return ok && r.refresh(ctx, sh, rec, s) && r.bearer(ctx, sh, rec, s.access)
}

// register is dynamic client registration (RFC 7591) of a public client.
func (r *runner) register(ctx context.Context, sh *shard, rec *recorder) (string, error) {
	body, _ := json.Marshal(map[string]any{
		"redirect_uris":              []string{clientRedirect},
		"token_endpoint_auth_method": "none",
		"grant_types":                []string{"authorization_code", "refresh_token"},
		"client_name":                "oauthproxy-load",
	})
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, r.meta.Registration, bytes.NewReader(body))
	if err != nil {
		return "", err
	}
	req.Header.Set("Content-Type", "application/json")
	_, out, ok := r.call(r.http, sh, rec, req, status(http.StatusCreated))
	if !ok {
		return "", errors.New("registration failed")
	}
	var info struct {
		ClientID string `json:"client_id"`
	}
	if err := json.Unmarshal(out, &info); err != nil || info.ClientID == "" {
		return "", errors.New("registration answered no client_id")
	}
	return info.ClientID, nil
}

// exchange redeems a code (RFC 6749 §4.1.3).
func (r *runner) exchange(ctx context.Context, sh *shard, rec *recorder, clientID, code, verifier string) (*session, bool) {
	s := &session{clientID: clientID}
	ok := r.token(ctx, sh, rec, s, url.Values{
		"grant_type": {"authorization_code"}, "code": {code}, "redirect_uri": {clientRedirect},
		"code_verifier": {verifier}, "client_id": {clientID},
	})
	return s, ok
}

// refresh rotates s's refresh token (RFC 6749 §6). A failed rotation leaves
// s without one: a refresh token is single use.
func (r *runner) refresh(ctx context.Context, sh *shard, rec *recorder, s *session) bool {
	rt := s.refresh
	s.refresh = ""
	return r.token(ctx, sh, rec, s, url.Values{
		"grant_type": {"refresh_token"}, "refresh_token": {rt}, "client_id": {s.clientID},
	})
}

func (r *runner) token(ctx context.Context, sh *shard, rec *recorder, s *session, form url.Values) bool {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, r.meta.Token, strings.NewReader(form.Encode()))
	if err != nil {
		return false
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	_, body, ok := r.call(r.http, sh, rec, req, status(http.StatusOK))
	if !ok {
		return false
	}
	var tok struct {
		AccessToken  string `json:"access_token"`
		RefreshToken string `json:"refresh_token"`
	}
	if err := json.Unmarshal(body, &tok); err != nil || tok.AccessToken == "" {
		sh.fail(rec, "token response", errors.New("no access_token in the token response"))
		return false
	}
	s.access, s.refresh = tok.AccessToken, tok.RefreshToken
	return true
}

// bearer calls the protected resource. Any answer but 401 and 403 means the
// bearer check let the request through (an MCP endpoint may refuse a bare
// request for reasons of its own).
func (r *runner) bearer(ctx context.Context, sh *shard, rec *recorder, access string) bool {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, r.resource, nil)
	if err != nil {
		return false
	}
	req.Header.Set("Authorization", "Bearer "+access)
	_, _, ok := r.call(r.http, sh, rec, req, func(s int) bool {
		return s != http.StatusUnauthorized && s != http.StatusForbidden && s < 500
	})
	return ok
}

func noRedirects(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }

// CheckLoopbackURL parses raw and refuses anything but http(s) on a loopback
// host: the load tool never sends traffic off the machine.
func CheckLoopbackURL(raw string) (*url.URL, error) {
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("-url %q: want http(s)://host:port", raw)
	}
	if !isLoopbackHost(u.Hostname()) {
		return nil, fmt.Errorf("-url %q: only loopback targets are allowed (localhost, 127.0.0.0/8, ::1)", raw)
	}
	return u, nil
}

func isLoopbackHost(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// loopbackOnly sends requests for UpstreamHost to the in-process upstream and
// everything else to next, refusing any host that is not loopback.
type loopbackOnly struct {
	upstream http.RoundTripper
	next     http.RoundTripper
}

func (l loopbackOnly) RoundTrip(req *http.Request) (*http.Response, error) {
	if req.URL.Hostname() == UpstreamHost && l.upstream != nil {
		return l.upstream.RoundTrip(req)
	}
	if !isLoopbackHost(req.URL.Hostname()) {
		if req.Body != nil {
			req.Body.Close()
		}
		return nil, fmt.Errorf("refusing a request to %s: the load tool stays on loopback", req.URL.Host)
	}
	return l.next.RoundTrip(req)
}

// progress prints one line per second about the running phase.
type progress struct {
	w     io.Writer
	mu    sync.Mutex
	name  string
	rec   *recorder
	t0    time.Time
	quit  chan struct{}
	done  chan struct{}
	shown bool
}

func newProgress(w io.Writer) *progress {
	p := &progress{w: w, quit: make(chan struct{}), done: make(chan struct{})}
	if w == nil {
		close(p.done)
		return p
	}
	go func() {
		defer close(p.done)
		t := time.NewTicker(time.Second)
		defer t.Stop()
		for {
			select {
			case <-p.quit:
				return
			case <-t.C:
				p.print()
			}
		}
	}()
	return p
}

func (p *progress) print() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.rec == nil {
		return
	}
	n := p.rec.requests.Load()
	el := time.Since(p.t0)
	fmt.Fprintf(p.w, "\r%-14s %8d requests %8.0f req/s %6d errors  %5.1fs", p.name, n, float64(n)/el.Seconds(), p.rec.errors.Load(), el.Seconds())
	p.shown = true
}

func (p *progress) start(name string, rec *recorder) {
	p.mu.Lock()
	p.name, p.rec, p.t0 = name, rec, time.Now()
	p.mu.Unlock()
}

func (p *progress) end() {
	if p.w == nil {
		return
	}
	p.print()
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.shown {
		fmt.Fprintln(p.w)
	}
	p.rec, p.shown = nil, false
}

// pause ends the progress line's phase without a line break: alternating
// phases share one line.
func (p *progress) pause() {
	p.mu.Lock()
	p.rec = nil
	p.mu.Unlock()
}

func (p *progress) stop() {
	if p.w != nil {
		close(p.quit)
	}
	<-p.done
}
