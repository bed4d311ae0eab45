package main

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"time"

	"github.com/oauthproxy-go/oauthproxy"
)

// shutdownTimeout bounds the wait for in-flight requests at shutdown.
const shutdownTimeout = 5 * time.Second

// options are the command-line settings, and the test's hooks.
type options struct {
	proxyAddr, mcpAddr string
	introspect         bool

	now            func() time.Time // the clock of both services; default time.Now
	accessTokenTTL time.Duration    // default the proxy's (1 h)
	log            *slog.Logger     // default text on stderr
}

// urls tells the caller where the services listen, and hands it the proxy
// for operator calls (an operator's tool would use AdminHandler behind its
// own authentication).
type urls struct {
	proxy, mcp string
	admin      *oauthproxy.Proxy
}

// run starts the proxy and the MCP server, prints the banner, sends their
// URLs on ready (if not nil) once both serve, and serves until ctx ends.
func run(ctx context.Context, opts options, stdout io.Writer, ready chan<- urls) error {
	if opts.log == nil {
		opts.log = slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelInfo}))
	}
	if opts.now == nil {
		opts.now = time.Now
	}
	proxyLn, err := listenLoopback(opts.proxyAddr)
	if err != nil {
		return err
	}
	defer proxyLn.Close()
	mcpLn, err := listenLoopback(opts.mcpAddr)
	if err != nil {
		return err
	}
	defer mcpLn.Close()
	issuer := "http://" + proxyLn.Addr().String()
	resource := "http://" + mcpLn.Addr().String() + "/mcp"

	// The MCP server's introspection credentials, configured on both sides
	// as an operator would (from a secret store, say).
	introspection := map[string]string{}
	var cred *credentials
	if opts.introspect {
		cred = &credentials{id: "split-mcp-server", secret: rand.Text()}
		introspection[cred.id] = cred.secret
	}

	proxy, err := newProxyService(issuer, resource, introspection, opts)
	if err != nil {
		return err
	}
	defer proxy.close()
	tools, err := newMCPService(issuer, resource, cred, opts)
	if err != nil {
		return err
	}

	servers := []*http.Server{newServer(proxy.handler, opts.log), newServer(tools.handler, opts.log)}
	served := make(chan error, 2)
	for i, ln := range []net.Listener{proxyLn, mcpLn} {
		go func() { served <- servers[i].Serve(ln) }()
	}
	printBanner(stdout, issuer, resource, opts.introspect)
	if ready != nil {
		select {
		case ready <- urls{proxy: issuer, mcp: resource, admin: proxy.proxy}:
		case <-ctx.Done():
		}
	}

	select {
	case <-ctx.Done():
	case err := <-served:
		return fmt.Errorf("serving: %w", err)
	}
	tools.closeSessions()
	shutdownCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), shutdownTimeout)
	defer cancel()
	var errs []error
	for _, srv := range servers {
		if err := srv.Shutdown(shutdownCtx); err != nil {
			_ = srv.Close()
		}
		if err := <-served; !errors.Is(err, http.ErrServerClosed) {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

func newServer(h http.Handler, log *slog.Logger) *http.Server {
	return &http.Server{
		Handler:           h,
		ReadHeaderTimeout: 10 * time.Second,
		MaxHeaderBytes:    oauthproxy.MaxHeaderBytes,
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
	}
}

// listenLoopback listens on addr, which must be a loopback address: the
// example serves plain http, which OAuth allows only on loopback.
func listenLoopback(addr string) (net.Listener, error) {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return nil, err
	}
	if ip := net.ParseIP(host); ip == nil || !ip.IsLoopback() {
		return nil, fmt.Errorf("%q: use a loopback address such as 127.0.0.1:8080", addr)
	}
	return net.Listen("tcp", addr)
}

func printBanner(w io.Writer, issuer, resource string, introspect bool) {
	check := "JWKS only: a revoked session is refused when its access token expires"
	if introspect {
		check = "JWKS and introspection: a revoked session is refused within seconds"
	}
	fmt.Fprintf(w, `
oauthproxy split deployment
  Proxy (authorization server):  %s  (keys: %s/.well-known/jwks.json)
  MCP server (another service):  %s  (tool: whoami)
  Token check on the MCP server: %s

Connect an MCP client to %s, e.g. claude mcp add --transport http split %s
Demo only: keys are generated at startup. Press Ctrl-C to stop.
`, issuer, issuer, resource, check, resource, resource)
}
