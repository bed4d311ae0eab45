package gateway

import (
	"net/http"
	"strconv"
	"strings"
	"sync"

	"github.com/oauthproxy-go/oauthproxy"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// metrics are the gateway's Prometheus series. Every label takes values
// from a fixed set (endpoint names, status codes, event types and reasons),
// so an anonymous caller cannot grow the series; client ids, subjects and
// addresses stay in the logs.
type metrics struct {
	registry       *prometheus.Registry
	requests       *prometheus.CounterVec
	refusals       *prometheus.CounterVec
	backendLatency *prometheus.HistogramVec
	events         *prometheus.CounterVec
}

func newMetrics() *metrics {
	m := &metrics{
		registry: prometheus.NewRegistry(),
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "oauthproxy_gateway_requests_total",
			Help: "Requests answered by the gateway, by endpoint and HTTP status.",
		}, []string{"endpoint", "code"}),
		refusals: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "oauthproxy_gateway_bearer_refusals_total",
			Help: "MCP requests refused by the bearer check, by HTTP status (401 no or bad token, 403 scope, 429, 503).",
		}, []string{"code"}),
		backendLatency: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "oauthproxy_gateway_backend_response_seconds",
			Help:    "Time from the gateway forwarding a request to the backend's response headers, by status or failure (timeout, error, canceled).",
			Buckets: prometheus.ExponentialBuckets(0.001, 4, 9), // 1 ms … 65 s
		}, []string{"outcome"}),
		events: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "oauthproxy_events_total",
			Help: "Security-relevant actions of the OAuth proxy (audit events), by type and reason.",
		}, []string{"type", "reason"}),
	}
	m.registry.MustRegister(m.requests, m.refusals, m.backendLatency, m.events,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return m
}

// onEvent is the library's OnEvent hook: one counter increment.
func (m *metrics) onEvent(e oauthproxy.Event) {
	m.events.WithLabelValues(string(e.Type), e.Reason).Inc()
}

func (m *metrics) handler() http.Handler {
	return promhttp.HandlerFor(m.registry, promhttp.HandlerOpts{Registry: m.registry})
}

// endpointOf names the endpoint of a request path from a fixed set.
func endpointOf(path, mcpPath, redirectPath string) string {
	switch {
	case path == mcpPath:
		return "mcp"
	case path == redirectPath:
		return "callback"
	case strings.HasPrefix(path, "/.well-known/"):
		return "metadata"
	case path == "/healthz" || path == "/readyz":
		return "probe"
	case strings.HasPrefix(path, "/oauth/"):
		switch name := strings.TrimPrefix(path, "/oauth/"); name {
		case "register", "authorize", "consent", "token", "revoke", "introspect":
			return name
		}
	}
	return "other"
}

// statusWriter records the status a handler writes and passes Flush and
// the rest of the ResponseWriter on (Unwrap, for http.ResponseController).
type statusWriter struct {
	http.ResponseWriter
	once   sync.Once
	status int
}

func (w *statusWriter) WriteHeader(code int) {
	w.once.Do(func() { w.status = code })
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Write(b []byte) (int, error) {
	w.once.Do(func() { w.status = http.StatusOK })
	return w.ResponseWriter.Write(b)
}

func (w *statusWriter) Flush() {
	w.once.Do(func() { w.status = http.StatusOK })
	http.NewResponseController(w.ResponseWriter).Flush()
}

func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

func (w *statusWriter) code() string {
	if w.status == 0 {
		return "200"
	}
	return strconv.Itoa(w.status)
}
