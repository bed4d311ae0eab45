// Command oauthproxy-load puts an oauthproxy under load and reports what it
// measured: flows/s, requests/s, p50/p90/p99 latency per endpoint, errors,
// allocations and peak RSS, and the proxy's CPU per flow beside its floor.
//
// By default it starts a proxy in a child process, on a loopback port, with
// its default HTTP client, in front of an upstream that answers instantly
// over loopback HTTP from this process, so the child's CPU time is the
// proxy's own work. It then runs, each bounded in count and time:
//
//  1. flows: complete flows (register, authorize, consent page and approval,
//     upstream, callback, token, refresh, protected call), one client each;
//  2. floor: the same round trips, byte for byte, against bare net/http
//     handlers in the proxy's process, which make the same upstream call:
//     the report prints the proxy's CPU per flow over this floor's;
//  3. logins: browser logins that leave authorization codes, then
//  4. token burst: every code redeemed at once, as when many clients
//     reconnect;
//  5. refresh storm: refresh-token rotations for -storm;
//  6. bearer storm: protected calls through RequireBearer for -storm.
//
// With -url it drives another proxy instead (loopback only; its upstream
// must approve logins without a human). With -serve it only runs a proxy
// with the in-process upstream, so the load can come from another process:
//
//	oauthproxy-load -serve 127.0.0.1:8080 &
//	oauthproxy-load -url http://127.0.0.1:8080
//
// -cpuprofile and -memprofile profile the proxy's process (the child, or
// this one with -serve or -url). The proxy's connections carry the profiler
// label side=proxy and the floor's side=floor, so one profile splits the two:
// go tool pprof -tagfocus side=proxy. The proxy's signing and encryption keys
// are generated per run.
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/oauthproxy-go/oauthproxy"
	"github.com/oauthproxy-go/oauthproxy/internal/loadtest"
)

func main() {
	var (
		target     = flag.String("url", "", "drive the proxy at this loopback `URL` (its BaseURL) instead of one in a child process")
		serve      = flag.String("serve", "", "only serve a proxy with the in-process upstream on this loopback `address` until interrupted")
		child      = flag.String("server-child", "", "internal: be the proxy's process, its token endpoint at this loopback `URL`")
		flows      = flag.Int("flows", 1000, "complete flows in the first phase, and as many on the floor")
		codes      = flag.Int("codes", 4000, "authorization codes made, then redeemed at once in the token burst")
		conc       = flag.Int("c", 16, "concurrent workers in every phase")
		storm      = flag.Duration("storm", 5*time.Second, "length of the refresh storm and of the bearer storm")
		stormMax   = flag.Int("storm-requests", 1_000_000, "most requests in each storm")
		maxTime    = flag.Duration("max-time", 50*time.Second, "stop the whole run after this long")
		cpuProfile = flag.String("cpuprofile", "", "write a CPU profile of the proxy's process to `file`")
		memProfile = flag.String("memprofile", "", "write an allocation profile of the proxy's process to `file`")
		quiet      = flag.Bool("quiet", false, "no progress line")
	)
	flag.Parse()
	prof := profiles{cpu: *cpuProfile, mem: *memProfile}
	var err error
	if *child != "" {
		err = serverChild(*child, prof, os.Stdin, os.Stdout)
	} else {
		err = run(*target, *serve, prof, *quiet, loadtest.Config{
			Flows: *flows, Codes: *codes, Concurrency: *conc, StormTime: *storm,
			StormRequests: *stormMax, MaxTime: *maxTime,
		})
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "oauthproxy-load:", err)
		os.Exit(1)
	}
}

func run(target, serve string, prof profiles, quiet bool, cfg loadtest.Config) error {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if serve != "" || target != "" { // the proxy's process is this one, or not ours
		stopProfiles, err := prof.start()
		if err != nil {
			return err
		}
		defer stopProfiles()
	}
	if serve != "" {
		return serveOnly(ctx, serve)
	}
	// The instant upstream also answers the browser's visit to its
	// authorization endpoint, for a proxy in another process too.
	up := loadtest.NewUpstream()
	cfg.Upstream = up
	if !quiet {
		cfg.Progress = os.Stderr
	}
	if target == "" {
		srv, err := startChild(ctx, up, prof, childCommand())
		if err != nil {
			return err
		}
		defer srv.close()
		target = srv.proxyURL
		cfg.Floor = &loadtest.FloorConfig{URL: srv.floorURL, Upstream: up, UpstreamTokenURL: srv.upstreamTokenURL}
	}
	cfg.URL = target
	rep, err := loadtest.Run(ctx, cfg)
	if rep != nil {
		rep.Print(os.Stdout)
	}
	if err != nil {
		return err
	}
	if rep.Errors() > 0 {
		return fmt.Errorf("%d requests failed", rep.Errors())
	}
	return nil
}

// proxyServer is the in-process proxy on a loopback listener, with a no-op
// protected endpoint at /mcp.
type proxyServer struct {
	url      string
	proxy    *oauthproxy.Proxy
	http     *http.Server
	requests atomic.Int64
}

// startProxy serves a proxy on addr whose upstream token endpoint is tokenURL,
// calling it with hc (nil: the proxy's default client).
func startProxy(addr, tokenURL string, hc *http.Client) (*proxyServer, error) {
	if _, err := loadtest.CheckLoopbackURL("http://" + addr); err != nil {
		return nil, fmt.Errorf("-serve: %w", err)
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, err
	}
	s := &proxyServer{url: "http://" + ln.Addr().String()}
	s.proxy, err = oauthproxy.New(oauthproxy.Config{
		BaseURL:                       s.url,
		UpstreamAuthorizationEndpoint: loadtest.UpstreamAuthorizationEndpoint,
		UpstreamTokenEndpoint:         tokenURL,
		UpstreamClientID:              loadtest.UpstreamClientID,
		UpstreamClientSecret:          loadtest.UpstreamClientSecret,
		Scopes:                        []string{"openid", "email", "profile"},
		HTTPClient:                    hc,
		// A client per flow: -flows may pass the live-client quota.
		MaxClients: 10_000_000,
		// Errors only: the generated-keys warning is expected here.
		Logger: slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelError})),
	})
	if err != nil {
		ln.Close()
		return nil, err
	}
	proxy := s.proxy.Handler()
	mcp := s.proxy.RequireBearer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		_, _ = io.WriteString(w, "ok")
	}))
	s.http = &http.Server{
		// /mcp to the protected endpoint, the rest to the proxy: what a mux
		// would do, without its cost, which is the harness's and not the
		// proxy's (the floor's server has none either).
		Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			s.requests.Add(1)
			if r.URL.Path == "/mcp" {
				mcp.ServeHTTP(w, r)
				return
			}
			proxy.ServeHTTP(w, r)
		}),
		ReadHeaderTimeout: 10 * time.Second,
		ErrorLog:          nil,
	}
	go serveLabelled("proxy", s.http, ln)
	return s, nil
}

func (s *proxyServer) close() {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_ = s.http.Shutdown(ctx)
	s.proxy.Destroy()
}

// serveOnly runs the in-process proxy until ctx ends, then says how much CPU
// it used per request: its cost with no load generator beside it.
func serveOnly(ctx context.Context, addr string) error {
	srv, err := startProxy(addr, loadtest.UpstreamTokenEndpoint, loadtest.NewUpstream().HTTPClient())
	if err != nil {
		return err
	}
	fmt.Printf("oauthproxy-load: serving %s (instant upstream); interrupt to stop\n", srv.url)
	cpu0 := loadtest.CPUTime()
	// A line per second of traffic: the server's own CPU per request in each
	// second, so a phase of the client's run can be read off on its own.
	tick := time.NewTicker(time.Second)
	defer tick.Stop()
	lastN, lastCPU, t0 := int64(0), cpu0, time.Now()
loop:
	for {
		select {
		case <-ctx.Done():
			break loop
		case <-tick.C:
			n, cpu := srv.requests.Load(), loadtest.CPUTime()
			if dn := n - lastN; dn > 0 {
				fmt.Printf("  %5.0fs %8d requests/s  %5.2f CPUs  %6.1f µs CPU per request\n",
					time.Since(t0).Seconds(), dn, (cpu - lastCPU).Seconds(), float64((cpu-lastCPU).Microseconds())/float64(dn))
			}
			lastN, lastCPU = n, cpu
		}
	}
	srv.close()
	n := srv.requests.Load()
	cpu := loadtest.CPUTime() - cpu0
	fmt.Printf("oauthproxy-load: served %d requests with %.2f s CPU", n, cpu.Seconds())
	if n > 0 {
		fmt.Printf(" (%.1f µs per request)", float64(cpu.Microseconds())/float64(n))
	}
	fmt.Printf(", peak RSS %.1f MiB\n", float64(loadtest.PeakRSS())/(1<<20))
	return nil
}
