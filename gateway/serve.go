package gateway

import (
	"context"
	"errors"
	"net"
	"net/http"
	"time"
)

// Server timeouts. There is no write timeout: tool-call streams may last.
const (
	readHeaderTimeout = 10 * time.Second
	idleTimeout       = 2 * time.Minute
	// maxHeaderBytes bounds what an anonymous caller's headers cost
	// (docs/hostile-load.md advises 64 KiB).
	maxHeaderBytes = 64 << 10
)

// ListenAndServe listens on Config.Listen (and MetricsListen, when set)
// and calls Serve.
func (g *Gateway) ListenAndServe(ctx context.Context) error {
	ln, err := net.Listen("tcp", g.cfg.Listen)
	if err != nil {
		return err
	}
	var metricsLn net.Listener
	if g.cfg.MetricsListen != "" {
		if metricsLn, err = net.Listen("tcp", g.cfg.MetricsListen); err != nil {
			ln.Close()
			return err
		}
	}
	return g.Serve(ctx, ln, metricsLn)
}

// Serve answers on ln, and serves MetricsHandler on metricsLn when it is
// not nil, until ctx is done (SIGTERM in the command). Then it drains: /readyz
// turns 503, listening streams end, no new connection is accepted, and
// requests in flight, tool-call streams included, may finish within
// Config.ShutdownTimeout; what is left then is cut. It returns nil after a
// shutdown, or the error that stopped a server.
func (g *Gateway) Serve(ctx context.Context, ln, metricsLn net.Listener) error {
	servers := []*http.Server{g.server(g.handler)}
	listeners := []net.Listener{ln}
	if metricsLn != nil {
		servers = append(servers, g.server(g.MetricsHandler()))
		listeners = append(listeners, metricsLn)
	}
	failed := make(chan error, len(servers))
	for i, srv := range servers {
		go func() {
			if err := srv.Serve(listeners[i]); !errors.Is(err, http.ErrServerClosed) {
				failed <- err
			}
		}()
	}
	g.log.Info("gateway: serving", "listen", ln.Addr().String())
	var err error
	select {
	case <-ctx.Done():
	case err = <-failed:
	}
	g.log.Info("gateway: shutting down", "timeout", g.cfg.ShutdownTimeout)
	g.Drain()
	shutdownCtx, cancel := context.WithTimeout(context.Background(), g.cfg.ShutdownTimeout)
	defer cancel()
	for _, srv := range servers {
		if serr := srv.Shutdown(shutdownCtx); serr != nil {
			g.log.Warn("gateway: requests still running at the shutdown deadline were cut", "error", serr)
			_ = srv.Close()
		}
	}
	return err
}

func (g *Gateway) server(h http.Handler) *http.Server {
	return &http.Server{
		Handler:           h,
		ReadHeaderTimeout: readHeaderTimeout,
		IdleTimeout:       idleTimeout,
		MaxHeaderBytes:    maxHeaderBytes,
		ErrorLog:          slogErrorLog(g.log),
	}
}
