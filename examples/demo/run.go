package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"sync"
	"time"

	"github.com/oauthproxy-go/oauthproxy"
	"github.com/oauthproxy-go/oauthproxy/ratelimit"
)

// shutdownTimeout bounds the wait for in-flight requests at shutdown.
const shutdownTimeout = 5 * time.Second

// options are the demo's command-line settings.
type options struct {
	addr      string // loopback address to listen on
	rateLimit bool   // turn on demoRateLimits
}

// demoRateLimits are example per-address limits, all per minute (the banner
// says so): generous for people and MCP
// clients (one login is one registration, one authorize, three consent-class
// requests and one token request; refreshes are token requests), tight for a
// script hammering the anonymous endpoints. Behind a load balancer, also set
// TrustedProxies, or every user shares the balancer's budget.
var demoRateLimits = oauthproxy.RateLimits{
	Register:  ratelimit.PerMinute(10),
	Authorize: ratelimit.PerMinute(30),
	Consent:   ratelimit.PerMinute(30),
	Token:     ratelimit.PerMinute(60),
	Revoke:    ratelimit.PerMinute(30),
}

// run starts the upstream (stand-in or GitHub), the proxy and the MCP server on
// opts.addr, prints the banner to stdout, sends the base URL on ready (if not
// nil) once requests are being served, and serves until ctx is cancelled. It
// then shuts everything down and returns.
func run(ctx context.Context, opts options, stdout io.Writer, ready chan<- string) error {
	log := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelInfo}))

	ln, listenNote, err := listen(opts.addr)
	if err != nil {
		return err
	}
	defer ln.Close()
	base := "http://" + ln.Addr().String()

	up, err := newUpstream()
	if err != nil {
		return err
	}
	defer up.close()

	cfg := up.config
	cfg.BaseURL = base
	cfg.Logger = log
	if opts.rateLimit {
		// In memory (ratelimit.NewMemory) by default; replicas would share
		// ratelimit/redis through cfg.RateLimiter.
		cfg.RateLimits = demoRateLimits
	}
	// Keys are left empty, so New generates them and logs a warning: fine for a
	// demo, where tokens need not outlive the process.
	p, err := oauthproxy.New(cfg)
	if err != nil {
		return err
	}
	defer p.Destroy()

	mcpServer := newMCPServer(log)
	mux := http.NewServeMux()
	mux.Handle("/", p.Handler())
	mux.Handle("/mcp", mcpHandler(p, mcpServer, log))
	var fresh freshConns
	srv := &http.Server{
		Handler:           mux,
		ReadHeaderTimeout: 10 * time.Second,
		MaxHeaderBytes:    oauthproxy.MaxHeaderBytes,
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
		ConnState:         fresh.track,
	}
	srv.RegisterOnShutdown(fresh.close)
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()

	if up.note != "" {
		fmt.Fprintln(stdout, "note:", up.note)
	}
	if listenNote != "" {
		if up.github {
			listenNote += " (the GitHub callback URL below changes with the port)"
		}
		fmt.Fprintln(stdout, "note:", listenNote)
	}
	printBanner(stdout, base, up, opts.rateLimit)
	if ready != nil {
		select {
		case ready <- base:
		case <-ctx.Done():
		}
	}

	select {
	case <-ctx.Done():
	case err := <-served:
		return fmt.Errorf("serving: %w", err)
	}
	log.Info("demo: shutting down")
	// Close the MCP sessions first: a client's standalone SSE stream (GET /mcp)
	// stays open for the life of its session and would hold Shutdown up.
	for ss := range mcpServer.Sessions() {
		_ = ss.Close()
	}
	shutdownCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), shutdownTimeout)
	defer cancel()
	if err := srv.Shutdown(shutdownCtx); err != nil {
		log.Warn("demo: requests still running at shutdown; closing their connections", "error", err)
		_ = srv.Close()
	}
	if err := <-served; !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("serving: %w", err)
	}
	return nil
}

// freshConns tracks connections that have not sent a request yet. Clients
// open such spare connections (browsers preconnect; http.Transport keeps a
// dial that lost the race to an idle connection), and http.Server.Shutdown
// waits up to 5 s for them (golang.org/issue/22682). Shutdown calls close
// after closing the listener, so such a connection can only be idle.
type freshConns struct {
	mu    sync.Mutex
	conns map[net.Conn]bool
}

func (f *freshConns) track(c net.Conn, state http.ConnState) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if state != http.StateNew {
		delete(f.conns, c)
		return
	}
	if f.conns == nil {
		f.conns = map[net.Conn]bool{}
	}
	f.conns[c] = true
}

func (f *freshConns) close() {
	f.mu.Lock()
	defer f.mu.Unlock()
	for c := range f.conns {
		_ = c.Close()
	}
}

// listen listens on addr, which must be a loopback address: the demo serves
// plain http, which OAuth allows only on loopback. If addr cannot be used (its
// port is busy, say), it falls back to a random free port on the same host and
// says so in note.
func listen(addr string) (ln net.Listener, note string, err error) {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return nil, "", fmt.Errorf("-addr %q: %w", addr, err)
	}
	if ip := net.ParseIP(host); host != "localhost" && (ip == nil || !ip.IsLoopback()) {
		return nil, "", fmt.Errorf("-addr %q: use a loopback address such as 127.0.0.1:8080 (the demo serves plain http)", addr)
	}
	ln, err = net.Listen("tcp", addr)
	if err == nil || port == "0" {
		return ln, "", err
	}
	ln, err2 := net.Listen("tcp", net.JoinHostPort(host, "0"))
	if err2 != nil {
		return nil, "", err
	}
	return ln, fmt.Sprintf("cannot listen on %s (%v); listening on %s instead", addr, err, ln.Addr()), nil
}

// printBanner tells the user where things are and how to connect a client.
func printBanner(w io.Writer, base string, up *upstream, rateLimited bool) {
	mcpURL := base + "/mcp"
	fmt.Fprintf(w, `
oauthproxy demo
  Identity provider:  %s
  OAuth proxy:        %s  (metadata: %s/.well-known/oauth-authorization-server)
  MCP endpoint:       %s  (tool: whoami)

`, up.description, base, base, mcpURL)
	if up.github {
		fmt.Fprintf(w, `Your GitHub OAuth app's "Authorization callback URL" must be:
  %s%s

`, base, oauthproxy.DefaultRedirectPath)
	}
	fmt.Fprintf(w, `Connect an MCP client to %s, for example:
  MCP Inspector:  npx @modelcontextprotocol/inspector
                  then Transport "Streamable HTTP", URL %s, Connect
  Claude Code:    claude mcp add --transport http demo %s
                  then /mcp in Claude Code to sign in
The client registers itself, your browser shows the proxy's consent page, then
%s. Then call the whoami tool.
`, mcpURL, mcpURL, mcpURL, up.signIn)
	if rateLimited {
		l := demoRateLimits
		fmt.Fprintf(w, `
Rate limits are on, requests a minute per client address: register %d,
authorize %d, consent %d, token %d, revoke %d. Past them the proxy answers 429.
`, l.Register.Rate, l.Authorize.Rate, l.Consent.Rate, l.Token.Rate, l.Revoke.Rate)
	}
	fmt.Fprint(w, `
Demo only: keys are generated at startup (the log warns), so tokens and registrations end with this process.
Press Ctrl-C to stop.
`)
}
