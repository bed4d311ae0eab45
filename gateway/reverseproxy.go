package gateway

import (
	"context"
	"errors"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/oauthproxy-go/oauthproxy"
)

// backendProxy forwards the protected MCP endpoint to the backend:
// streamable HTTP's POST, GET and DELETE, with server-sent events passed on
// as each event arrives.
type backendProxy struct {
	rp       *httputil.ReverseProxy
	target   *url.URL
	maxBody  int64
	identity *identity
	metrics  *metrics
	log      loggerFunc
	// draining ends listening streams (GET) when shutdown starts: they
	// carry no request in flight, and the client reconnects elsewhere.
	draining context.Context
}

type loggerFunc func(msg string, args ...any)

func newBackendProxy(c *Config, id *identity, m *metrics, draining context.Context, log loggerFunc) *backendProxy {
	target, _ := url.Parse(c.Backend.URL) // checked by checkBackend
	bp := &backendProxy{target: target, maxBody: c.Backend.MaxRequestBytes, identity: id, metrics: m, log: log, draining: draining}
	dialer := &net.Dialer{Timeout: c.Backend.DialTimeout, KeepAlive: 30 * time.Second}
	transport := &http.Transport{
		Proxy:                 nil, // the backend is reached directly, never through HTTP_PROXY
		DialContext:           dialer.DialContext,
		ResponseHeaderTimeout: c.Backend.ResponseHeaderTimeout,
		MaxIdleConnsPerHost:   64,
		IdleConnTimeout:       90 * time.Second,
		ForceAttemptHTTP2:     true,
	}
	bp.rp = &httputil.ReverseProxy{
		Rewrite:        bp.rewrite,
		Transport:      transport,
		FlushInterval:  -1, // SSE: every write reaches the client at once
		ModifyResponse: bp.modifyResponse,
		ErrorHandler:   bp.errorHandler,
	}
	return bp
}

// rewrite sends the request to exactly the backend URL (the client's query
// kept), with the client's credentials and identity claims replaced by the
// gateway's headers. Rewrite, unlike Director, starts from a request whose
// hop-by-hop and X-Forwarded-* headers are already removed.
func (bp *backendProxy) rewrite(pr *httputil.ProxyRequest) {
	out := pr.Out
	out.URL.Scheme, out.URL.Host = bp.target.Scheme, bp.target.Host
	out.URL.Path, out.URL.RawPath = bp.target.Path, bp.target.RawPath
	if bp.target.RawQuery != "" {
		out.URL.RawQuery = bp.target.RawQuery
	}
	out.Host = bp.target.Host
	pr.SetXForwarded()
	bp.identity.stripIncoming(out.Header)
	for name, v := range pr.In.Context().Value(identityKey{}).(http.Header) {
		out.Header[name] = v
	}
}

func bearer(h string) string {
	scheme, token, ok := strings.Cut(h, " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") {
		return ""
	}
	return strings.TrimSpace(token)
}

type (
	startKey    struct{}
	identityKey struct{}
)

// ServeHTTP bounds the body, works out the identity headers and forwards.
// It runs behind RequireBearer, which put the caller's claims in the context.
func (bp *backendProxy) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.ContentLength > bp.maxBody {
		writeJSONRPCError(w, http.StatusRequestEntityTooLarge, CodeRequestTooLarge, "request body too large")
		return
	}
	claims, ok := oauthproxy.ClaimsFromContext(r.Context())
	if !ok {
		// Only a wiring mistake gets here; never forward anonymously.
		writeJSONRPCError(w, http.StatusInternalServerError, CodeBackendUnavailable, "no caller identity")
		return
	}
	ident := http.Header{}
	if err := bp.identity.set(r.Context(), ident, claims, bearer(r.Header.Get("Authorization"))); err != nil {
		bp.log("gateway: identity for the backend failed", "error", err)
		writeJSONRPCError(w, http.StatusBadGateway, CodeBackendUnavailable, "the caller's identity could not be prepared")
		return
	}
	r.Body = http.MaxBytesReader(w, r.Body, bp.maxBody)
	ctx := context.WithValue(r.Context(), startKey{}, time.Now())
	ctx = context.WithValue(ctx, identityKey{}, ident)
	if r.Method == http.MethodGet {
		var stop context.CancelFunc
		ctx, stop = context.WithCancel(ctx)
		defer stop()
		defer context.AfterFunc(bp.draining, stop)()
	}
	bp.rp.ServeHTTP(w, r.WithContext(ctx))
}

// modifyResponse records the backend's latency to its response headers and
// drops the backend's own CORS headers: the gateway answers browser clients
// itself (RequireBearer, ResourceAllowedOrigins), and a second
// Access-Control-Allow-Origin would make browsers refuse the response (Fetch
// standard, CORS check: the header must hold exactly one value).
func (bp *backendProxy) modifyResponse(resp *http.Response) error {
	bp.observe(resp.Request.Context(), strconv.Itoa(resp.StatusCode))
	for name := range resp.Header {
		if strings.HasPrefix(http.CanonicalHeaderKey(name), "Access-Control-") {
			delete(resp.Header, name)
		}
	}
	return nil
}

func (bp *backendProxy) observe(ctx context.Context, outcome string) {
	if start, ok := ctx.Value(startKey{}).(time.Time); ok {
		bp.metrics.backendLatency.WithLabelValues(outcome).Observe(time.Since(start).Seconds())
	}
}

// errorHandler answers when no response came from the backend: 504 when it
// was too slow to answer, 413 when the body was too large, 502 otherwise.
func (bp *backendProxy) errorHandler(w http.ResponseWriter, r *http.Request, err error) {
	var tooLarge *http.MaxBytesError
	var netErr net.Error
	switch {
	case errors.As(err, &tooLarge):
		writeJSONRPCError(w, http.StatusRequestEntityTooLarge, CodeRequestTooLarge, "request body too large")
	case r.Context().Err() != nil && !errors.Is(r.Context().Err(), context.DeadlineExceeded):
		// The client left (or shutdown ended a listening stream): nobody to answer.
		bp.observe(r.Context(), "canceled")
	case errors.Is(err, context.DeadlineExceeded) || (errors.As(err, &netErr) && netErr.Timeout()):
		bp.observe(r.Context(), "timeout")
		bp.log("gateway: backend timed out", "error", err)
		writeJSONRPCError(w, http.StatusGatewayTimeout, CodeBackendTimeout, "the MCP server did not answer in time")
	default:
		bp.observe(r.Context(), "error")
		bp.log("gateway: backend unavailable", "error", err)
		writeJSONRPCError(w, http.StatusBadGateway, CodeBackendUnavailable, "the MCP server is unavailable")
	}
}

// close drops idle connections to the backend.
func (bp *backendProxy) close() {
	if t, ok := bp.rp.Transport.(*http.Transport); ok {
		t.CloseIdleConnections()
	}
}
