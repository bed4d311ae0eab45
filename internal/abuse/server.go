package abuse

import (
	"context"
	"crypto/x509"
	"fmt"
	"io"
	"log"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"time"

	"github.com/oauthproxy-go/oauthproxy"
	"github.com/oauthproxy-go/oauthproxy/internal/loadtest"
	"github.com/oauthproxy-go/oauthproxy/storage"
)

// target is the proxy under attack: default Config but for the instant
// upstream and CIMD, the memory store behind a recordCounter, on a loopback
// listener, with a tiny handler behind RequireBearer at /mcp.
type target struct {
	url     string
	proxy   *oauthproxy.Proxy
	records *recordCounter
	server  *http.Server
	done    chan struct{}
}

// startTarget starts the proxy with the run's rate-limit mode
// (ratelimit_mode.go) and quotas. cimdRoots verifies the CIMD document server.
func startTarget(up *loadtest.Upstream, cimdRoots *x509.CertPool, run Config) (*target, error) {
	logs := run.Logs
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	t := &target{url: "http://" + ln.Addr().String(), records: newRecordCounter(storage.NewMemory()), done: make(chan struct{})}
	if logs == nil {
		logs = io.Discard
	}
	cfg := oauthproxy.Config{
		BaseURL:                       t.url,
		UpstreamAuthorizationEndpoint: loadtest.UpstreamAuthorizationEndpoint,
		UpstreamTokenEndpoint:         loadtest.UpstreamTokenEndpoint,
		UpstreamClientID:              loadtest.UpstreamClientID,
		UpstreamClientSecret:          loadtest.UpstreamClientSecret,
		HTTPClient:                    up.HTTPClient(),
		TokenStorage:                  t.records,
		// CIMD on, with the document server on loopback: every https://
		// client_id of the attack reaches the fetch path, and no fetch
		// leaves the machine.
		EnableCIMD:                        true,
		InsecureAllowPrivateCIMDAddresses: true,
		CIMDRootCAs:                       cimdRoots,
		// Errors only: the generated-keys warning is expected here.
		Logger: slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelError})),
	}
	cfg.MaxClients, cfg.MaxPendingAuthorizations = run.MaxClients, run.MaxPendingAuthorizations
	if run.RateLimits {
		rateLimited(&cfg)
	}
	t.proxy, err = oauthproxy.New(cfg)
	if err != nil {
		ln.Close()
		return nil, err
	}
	mux := http.NewServeMux()
	mux.Handle("/", t.proxy.Handler())
	mux.Handle("/mcp", t.proxy.RequireBearer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		_, _ = io.WriteString(w, "ok")
	})))
	// Go's default header limit (1 MiB) bounds the request line, so a
	// ~1 MB state is the largest an attacker can send.
	t.server = &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second, MaxHeaderBytes: run.MaxHeaderBytes}
	go func() {
		defer close(t.done)
		_ = t.server.Serve(ln)
	}()
	return t, nil
}

func (t *target) close() {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := t.server.Shutdown(ctx); err != nil {
		_ = t.server.Close()
	}
	<-t.done
	t.proxy.Destroy()
}

// CIMD document server modes: where the attack's https:// client_ids point.
const (
	CIMDNotFound = "404"     // a loopback TLS server that answers 404 at once
	CIMDSlow     = "slow"    // the same, answering after CIMDDelay
	CIMDRefused  = "refused" // a loopback port nobody listens on
)

// cimdServer is the CIMD document server of the run: it never serves a
// document, so every fetch fails, as for an attacker's made-up client_ids.
type cimdServer struct {
	base  string // https://127.0.0.1:port
	roots *x509.CertPool
	tls   *httptest.Server
}

func startCIMDServer(mode string, delay time.Duration) (*cimdServer, error) {
	switch mode {
	case CIMDRefused:
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return nil, err
		}
		addr := ln.Addr().String()
		ln.Close() // a port just freed: connections are refused
		return &cimdServer{base: "https://" + addr}, nil
	case CIMDNotFound, CIMDSlow:
		if mode == CIMDNotFound {
			delay = 0
		}
		srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if delay > 0 {
				select {
				case <-time.After(delay):
				case <-r.Context().Done():
					return
				}
			}
			http.NotFound(w, r)
		}))
		// The attack's cancelled fetches end handshakes half-way: expected.
		srv.Config.ErrorLog = log.New(io.Discard, "", 0)
		srv.StartTLS() // httptest listens on 127.0.0.1
		roots := x509.NewCertPool()
		roots.AddCert(srv.Certificate())
		return &cimdServer{base: srv.URL, roots: roots, tls: srv}, nil
	}
	return nil, fmt.Errorf("CIMD mode %q: want %s, %s or %s", mode, CIMDNotFound, CIMDSlow, CIMDRefused)
}

func (c *cimdServer) close() {
	if c.tls != nil {
		c.tls.CloseClientConnections()
		c.tls.Close()
	}
}
