// Command prometheus runs the proxy with its audit trail counted in
// Prometheus: Config.OnEvent increments oauthproxy_events_total{type,reason}
// for every security-relevant action (a client registered, consent given or
// denied, a code issued, redeemed or replayed, tokens issued, refreshed or
// revoked, a refresh token reused, a grant revoked, an upstream error), and
// /metrics is served on a listener of its own next to the proxy.
//
//	go run ./examples/prometheus
//	curl -s 127.0.0.1:9464/metrics | grep oauthproxy_events_total
//
// With nothing set it signs users in at a stand-in identity provider
// (oauthproxytest) on loopback; set OIDC_ISSUER, OIDC_CLIENT_ID and
// OIDC_CLIENT_SECRET to use a real OpenID Connect provider (see
// examples/oidc).
//
// Environment:
//
//	ADDR          the proxy and its protected /mcp endpoint (default 127.0.0.1:8080)
//	METRICS_ADDR  /metrics (default 127.0.0.1:9464); keep it off the public internet
//	OIDC_ISSUER, OIDC_CLIENT_ID, OIDC_CLIENT_SECRET  a real provider (optional)
//
// Useful queries: rate(oauthproxy_events_total{type="token.issued"}[5m]) for
// sign-ins, and alerts on any increase of code.replayed or
// refresh.reuse_detected (a leaked code or refresh token) and of
// upstream.error (the identity provider failing).
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
	"os/signal"
	"syscall"
	"time"

	"github.com/oauthproxy-go/oauthproxy"
	"github.com/oauthproxy-go/oauthproxy/oauthproxytest"
	"github.com/oauthproxy-go/oauthproxy/providers"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	log := slog.New(slog.NewTextHandler(os.Stderr, nil))
	if err := run(ctx, os.Getenv, os.Stdout, log, nil); err != nil {
		fmt.Fprintln(os.Stderr, "prometheus:", err)
		os.Exit(1)
	}
}

// addrs are where run serves, sent on its ready channel.
type addrs struct {
	Base    string // the proxy's issuer: http://host:port
	Metrics string // the metrics endpoint: http://host:port/metrics
}

// run serves the proxy on ADDR and its metrics on METRICS_ADDR until ctx ends.
func run(ctx context.Context, getenv func(string) string, stdout io.Writer, log *slog.Logger, ready chan<- addrs) error {
	addr, metricsAddr := getenv("ADDR"), getenv("METRICS_ADDR")
	if addr == "" {
		addr = "127.0.0.1:8080"
	}
	if metricsAddr == "" {
		metricsAddr = "127.0.0.1:9464"
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return err
	}
	defer ln.Close()
	mln, err := net.Listen("tcp", metricsAddr)
	if err != nil {
		return err
	}
	defer mln.Close()
	base := "http://" + ln.Addr().String()

	cfg, closeUpstream, err := upstream(ctx, getenv)
	if err != nil {
		return err
	}
	defer closeUpstream()
	cfg.BaseURL = base
	cfg.Logger = log // every event is logged too, with client_id, subject and address

	reg, metrics := newRegistry()
	cfg.OnEvent = metrics.OnEvent
	p, err := oauthproxy.New(cfg)
	if err != nil {
		return err
	}
	defer p.Destroy()

	mux := http.NewServeMux()
	mux.Handle("/", p.Handler())
	mux.Handle("/mcp", p.RequireBearer(http.HandlerFunc(whoami)))
	servers := []*http.Server{
		{Handler: mux, ReadHeaderTimeout: 10 * time.Second},
		{Handler: metricsHandler(reg), ReadHeaderTimeout: 10 * time.Second},
	}
	served := make(chan error, len(servers))
	for i, l := range []net.Listener{ln, mln} {
		go func() { served <- servers[i].Serve(l) }()
	}
	fmt.Fprintf(stdout, "MCP endpoint:  %s/mcp\nmetrics:       http://%s/metrics\n", base, mln.Addr())
	if ready != nil {
		select {
		case ready <- addrs{Base: base, Metrics: "http://" + mln.Addr().String() + "/metrics"}:
		case <-ctx.Done():
		}
	}

	var serveErr error
	select {
	case <-ctx.Done():
	case serveErr = <-served:
	}
	shutdownCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer cancel()
	for _, s := range servers {
		_ = s.Shutdown(shutdownCtx)
	}
	if errors.Is(serveErr, http.ErrServerClosed) {
		serveErr = nil
	}
	return serveErr
}

// upstream is the identity provider: a real OpenID Connect provider when
// OIDC_ISSUER is set, else the stand-in on a loopback port.
func upstream(ctx context.Context, getenv func(string) string) (oauthproxy.Config, func(), error) {
	if issuer := getenv("OIDC_ISSUER"); issuer != "" {
		ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
		defer cancel()
		cfg, err := providers.OIDC(ctx, issuer, oauthproxy.Config{
			UpstreamClientID:     getenv("OIDC_CLIENT_ID"),
			UpstreamClientSecret: getenv("OIDC_CLIENT_SECRET"),
		})
		return cfg, func() {}, err
	}
	clientID, clientSecret := "oauthproxy-prometheus-example", rand.Text()
	idp := oauthproxytest.NewServer(oauthproxytest.Options{
		ClientID:     clientID,
		ClientSecret: clientSecret,
		LoginPage:    true,
		IssueIDToken: true,
		RequirePKCE:  true,
	})
	return oauthproxy.Config{
		UpstreamAuthorizationEndpoint: idp.AuthorizationEndpoint(),
		UpstreamTokenEndpoint:         idp.TokenEndpoint(),
		UpstreamClientID:              clientID,
		UpstreamClientSecret:          clientSecret,
		Scopes:                        []string{"openid", "email", "profile"},
		ProviderName:                  "the stand-in identity provider",
	}, idp.Close, nil
}

// whoami is the protected endpoint: it says who called.
func whoami(w http.ResponseWriter, r *http.Request) {
	c, _ := oauthproxy.ClaimsFromContext(r.Context())
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	fmt.Fprintf(w, "signed in as %s (client %s)\n", c.Subject, c.ClientID)
}
