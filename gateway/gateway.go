package gateway

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"time"

	"github.com/oauthproxy-go/oauthproxy"
	"github.com/oauthproxy-go/oauthproxy/storage"
)

// Gateway is the oauthproxy gateway: the OAuth authorization server of the
// library in front of one MCP server, which it reaches as a reverse proxy
// for the callers the bearer check lets through. Create it with New, serve
// it with Serve (or mount Handler in a server of your own), and Close it.
type Gateway struct {
	cfg      *Config
	proxy    *oauthproxy.Proxy
	backing  *backing
	backend  *backendProxy
	metrics  *metrics
	log      *slog.Logger
	handler  http.Handler
	draining context.Context
	drain    context.CancelFunc
}

// New validates cfg, opens its storage and builds the gateway. Every
// configuration problem is reported at once. It does not listen.
func New(ctx context.Context, cfg *Config, opts Options) (*Gateway, error) {
	c := *cfg
	c.withDefaults()
	if errs := c.checkGateway(); len(errs) > 0 {
		return nil, fmt.Errorf("gateway: invalid config: %w", errors.Join(errs...))
	}
	log := opts.Logger
	if log == nil {
		log = NewLogger(os.Stderr, c.LogLevel)
	}
	g := &Gateway{cfg: &c, metrics: newMetrics(), log: log}
	g.draining, g.drain = context.WithCancel(context.Background())

	pc, err := c.proxyConfig(ctx, opts, log)
	if err != nil {
		return nil, fmt.Errorf("gateway: invalid config: %w", err)
	}
	hook := pc.OnEvent
	pc.OnEvent = func(e oauthproxy.Event) {
		if hook != nil {
			hook(e)
		}
		g.metrics.onEvent(e)
	}
	if g.backing, err = c.openStorage(); err != nil {
		return nil, err
	}
	if pc.TokenStorage == nil {
		pc.TokenStorage = g.backing.store
	}
	if pc.RateLimiter == nil && g.backing.limiter != nil {
		pc.RateLimiter = g.backing.limiter
	}
	if g.proxy, err = oauthproxy.New(pc); err != nil {
		_ = g.backing.Close()
		return nil, err
	}
	warn := func(msg string, args ...any) { log.Warn(msg, args...) }
	g.backend = newBackendProxy(&c, newIdentity(&c, g.proxy, pc.Now), g.metrics, g.draining, warn)
	redirectPath := pc.RedirectPath
	if redirectPath == "" {
		redirectPath = oauthproxy.DefaultRedirectPath
	}
	g.handler = g.routes(redirectPath)
	log.Info("gateway: ready", "base_url", c.BaseURL, "mcp_path", c.MCPPath, "backend", c.Backend.URL,
		"provider", c.Provider.Name, "storage", c.Storage.Type, "secrets", c.Secrets)
	return g, nil
}

// NewLogger is the gateway's default logger: JSON lines on w at level
// (debug, info, warn, error; default info).
func NewLogger(w io.Writer, level string) *slog.Logger {
	var l slog.Level
	_ = l.UnmarshalText([]byte(level)) // checked by checkGateway; "" is info
	return slog.New(slog.NewJSONHandler(w, &slog.HandlerOptions{Level: l}))
}

// Proxy is the library's proxy inside the gateway, for the methods with no
// HTTP form (administration, LoadUpstreamTokens).
func (g *Gateway) Proxy() *oauthproxy.Proxy { return g.proxy }

// Handler serves the public listener: the OAuth endpoints at "/", the
// protected MCP endpoint at Config.MCPPath, /healthz and /readyz.
func (g *Gateway) Handler() http.Handler { return g.handler }

// MetricsHandler serves Prometheus /metrics and the probes, for the
// metrics listener.
func (g *Gateway) MetricsHandler() http.Handler {
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", g.metrics.handler())
	mux.HandleFunc("GET /healthz", g.healthz)
	mux.HandleFunc("GET /readyz", g.readyz)
	return mux
}

// Drain starts a graceful shutdown's first step: /readyz answers 503 so
// load balancers stop sending new work, and listening streams (GET) end;
// requests in flight, tool-call streams included, go on. Serve calls it.
func (g *Gateway) Drain() { g.drain() }

// Close stops the proxy's background work and closes the storage the
// gateway opened. Call it after the servers stopped.
func (g *Gateway) Close() error {
	g.drain()
	g.proxy.Destroy()
	g.backend.close()
	return g.backing.Close()
}

func (g *Gateway) routes(redirectPath string) http.Handler {
	mux := http.NewServeMux()
	mux.Handle("/", g.proxy.Handler())
	mux.Handle(g.cfg.MCPPath, g.protected())
	mux.HandleFunc("GET /healthz", g.healthz)
	mux.HandleFunc("GET /readyz", g.readyz)
	return g.observe(mux, redirectPath)
}

type reachedKey struct{}

// protected is the backend behind the bearer check, counting refusals:
// answers that never reached the backend.
func (g *Gateway) protected() http.Handler {
	inner := g.proxy.RequireBearer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		*r.Context().Value(reachedKey{}).(*bool) = true
		g.backend.ServeHTTP(w, r)
	}))
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		reached := new(bool)
		sw := &statusWriter{ResponseWriter: w}
		inner.ServeHTTP(sw, r.WithContext(context.WithValue(r.Context(), reachedKey{}, reached)))
		if !*reached && sw.status >= 400 {
			g.metrics.refusals.WithLabelValues(sw.code()).Inc()
		}
	})
}

// observe counts and logs every request: method, path (never the query,
// which holds codes and state), status and duration.
func (g *Gateway) observe(next http.Handler, redirectPath string) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		sw := &statusWriter{ResponseWriter: w}
		// Deferred: httputil.ReverseProxy panics with http.ErrAbortHandler
		// when a stream is cut (a listening stream ended by the drain, the
		// client or the backend gone), and such a request is still counted
		// and logged, marked aborted.
		aborted := true
		defer func() {
			endpoint := endpointOf(r.URL.Path, g.cfg.MCPPath, redirectPath)
			g.metrics.requests.WithLabelValues(endpoint, sw.code()).Inc()
			attrs := []slog.Attr{
				slog.String("method", r.Method), slog.String("path", r.URL.Path), slog.String("endpoint", endpoint),
				slog.Int("status", sw.statusOr200()), slog.Duration("duration", time.Since(start)),
				slog.String("remote", r.RemoteAddr),
			}
			if aborted {
				attrs = append(attrs, slog.Bool("aborted", true))
			}
			g.log.LogAttrs(r.Context(), slog.LevelInfo, "request", attrs...)
		}()
		next.ServeHTTP(sw, r)
		aborted = false
	})
}

func (w *statusWriter) statusOr200() int {
	if w.status == 0 {
		return http.StatusOK
	}
	return w.status
}

// probeKey is read by /readyz; it is never written, so the answer is
// ErrNotFound when the storage works.
const probeKey = "gateway:readyz-probe"

// readyzTimeout bounds the storage probe.
const readyzTimeout = 2 * time.Second

func (g *Gateway) healthz(w http.ResponseWriter, _ *http.Request) {
	writeStatus(w, http.StatusOK, "ok")
}

// readyz answers 200 when the storage answers a read and the gateway is not
// draining, else 503.
func (g *Gateway) readyz(w http.ResponseWriter, r *http.Request) {
	if g.draining.Err() != nil {
		writeStatus(w, http.StatusServiceUnavailable, "draining")
		return
	}
	ctx, cancel := context.WithTimeout(r.Context(), readyzTimeout)
	defer cancel()
	if _, err := g.backing.store.Get(ctx, probeKey); err != nil && !errors.Is(err, storage.ErrNotFound) {
		g.log.Warn("gateway: storage not ready", "error", err)
		writeStatus(w, http.StatusServiceUnavailable, "storage unavailable")
		return
	}
	writeStatus(w, http.StatusOK, "ready")
}

func writeStatus(w http.ResponseWriter, code int, status string) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(code)
	_, _ = fmt.Fprintf(w, "{\"status\":%q}\n", status)
}
