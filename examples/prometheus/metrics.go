package main

import (
	"net/http"

	"github.com/oauthproxy-go/oauthproxy"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// eventTypes are the proxy's audit events, so each has a series (at 0) from
// the start: a rate or an alert on one that has not happened yet still works.
var eventTypes = []oauthproxy.EventType{
	oauthproxy.EventClientRegistered,
	oauthproxy.EventConsentGiven,
	oauthproxy.EventConsentDenied,
	oauthproxy.EventCodeIssued,
	oauthproxy.EventCodeRedeemed,
	oauthproxy.EventCodeReplayed,
	oauthproxy.EventTokenIssued,
	oauthproxy.EventTokenRefreshed,
	oauthproxy.EventTokenRevoked,
	oauthproxy.EventRefreshReuseDetected,
	oauthproxy.EventGrantRevoked,
	oauthproxy.EventUpstreamError,
}

// Metrics counts the proxy's audit events in Prometheus.
//
// The labels are the event's type and reason only. Reason is an OAuth error
// code or a short fixed phrase, so the number of series stays small; the
// client_id, subject, grant id and remote address, which are unbounded, stay
// in the log (Config.Logger), where each event is also written.
type Metrics struct {
	events *prometheus.CounterVec
}

// NewMetrics registers oauthproxy_events_total{type,reason} with reg.
func NewMetrics(reg prometheus.Registerer) *Metrics {
	m := &Metrics{events: prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "oauthproxy_events_total",
		Help: "Security-relevant actions of the OAuth proxy (audit events), by type and reason.",
	}, []string{"type", "reason"})}
	reg.MustRegister(m.events)
	for _, t := range eventTypes {
		m.events.WithLabelValues(string(t), "")
	}
	return m
}

// OnEvent is the Config.OnEvent hook. The proxy calls it synchronously on the
// request's goroutine, so it must be quick: a counter increment is.
func (m *Metrics) OnEvent(e oauthproxy.Event) {
	m.events.WithLabelValues(string(e.Type), e.Reason).Inc()
}

// newRegistry is a registry with the proxy's counters and the Go runtime's
// and the process's metrics.
func newRegistry() (*prometheus.Registry, *Metrics) {
	reg := prometheus.NewRegistry()
	reg.MustRegister(
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
	)
	return reg, NewMetrics(reg)
}

// metricsHandler serves reg in the Prometheus exposition format.
func metricsHandler(reg *prometheus.Registry) http.Handler {
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", promhttp.HandlerFor(reg, promhttp.HandlerOpts{Registry: reg}))
	return mux
}
