package gateway_test

import (
	"bufio"
	"context"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// sseBackend streams one event, waits for release, then a second event and
// ends: a tool call whose progress arrives before its result.
func sseBackend(release <-chan struct{}) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/event-stream")
		_, _ = io.WriteString(w, "event: message\ndata: {\"progress\":1}\n\n")
		http.NewResponseController(w).Flush()
		select {
		case <-release:
		case <-r.Context().Done():
			return
		}
		_, _ = io.WriteString(w, "event: message\ndata: {\"result\":\"done\"}\n\n")
	})
}

// serve runs the gateway's Serve on loopback listeners until the returned
// stop is called; stop waits for Serve's result.
func serve(t *testing.T, h *harness) (base, metrics string, stop func() error) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	mln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- h.gw.Serve(ctx, ln, mln) }()
	var once bool
	stop = func() error {
		cancel()
		if once {
			return nil
		}
		once = true
		return <-done
	}
	t.Cleanup(func() { _ = stop() })
	return "http://" + ln.Addr().String(), "http://" + mln.Addr().String(), stop
}

// SIGTERM (Serve's context ending) during a tool-call stream lets the
// stream finish: the client gets its result, then Serve returns. Meanwhile
// /readyz says the gateway is draining.
func TestGateway_ShutdownDrainsAStreamInFlight(t *testing.T) {
	release := make(chan struct{})
	h := newHarness(t, sseBackend(release))
	tok := h.signIn(t)
	base, metricsURL, stop := serve(t, h)

	req, err := http.NewRequest(http.MethodPost, base+"/mcp", strings.NewReader(`{"jsonrpc":"2.0","id":1,"method":"tools/call"}`))
	require.NoError(t, err)
	req.Header.Set("Authorization", "Bearer "+tok.AccessToken)
	req.Header.Set("Accept", "text/event-stream")
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	events := bufio.NewReader(resp.Body)
	line, err := events.ReadString('\n')
	require.NoError(t, err)
	require.Equal(t, "event: message\n", line, "the first event arrives while the tool still runs")

	stopped := make(chan error, 1)
	go func() { stopped <- stop() }()
	// The drain has begun once /readyz says so; then the tool finishes.
	require.Eventually(t, func() bool {
		r, err := http.Get(metricsURL + "/readyz")
		if err != nil {
			return false
		}
		r.Body.Close()
		return r.StatusCode == http.StatusServiceUnavailable
	}, waitFor, tick)
	close(release)
	rest, err := io.ReadAll(events)
	require.NoError(t, err, "the stream ends cleanly, not cut")
	assert.Contains(t, string(rest), `{"result":"done"}`)
	require.NoError(t, <-stopped)
}

func TestGateway_ProbesAndMetrics(t *testing.T) {
	h := newHarness(t, &seenRequests{})
	tok := h.signIn(t)
	base, metricsURL, _ := serve(t, h)

	for _, u := range []string{base + "/healthz", base + "/readyz", metricsURL + "/healthz", metricsURL + "/readyz"} {
		r, err := http.Get(u)
		require.NoError(t, err)
		r.Body.Close()
		assert.Equal(t, http.StatusOK, r.StatusCode, u)
	}
	r, err := http.Get(base + "/metrics")
	require.NoError(t, err)
	r.Body.Close()
	assert.NotEqual(t, http.StatusOK, r.StatusCode, "metrics are not on the public listener")

	post := func(token string) int {
		req, _ := http.NewRequest(http.MethodPost, base+"/mcp", strings.NewReader(`{}`))
		if token != "" {
			req.Header.Set("Authorization", "Bearer "+token)
		}
		resp, err := http.DefaultClient.Do(req)
		require.NoError(t, err)
		resp.Body.Close()
		return resp.StatusCode
	}
	require.Equal(t, http.StatusOK, post(tok.AccessToken))
	require.Equal(t, http.StatusUnauthorized, post(""))

	// A request is counted when its handler returns, which may be just after
	// the client has its answer (the proxied body is still being copied), so
	// the metrics are read until they have caught up.
	var text string
	scrape := func() string {
		resp, err := http.Get(metricsURL + "/metrics")
		require.NoError(t, err)
		defer resp.Body.Close()
		return readAll(t, resp.Body)
	}
	require.Eventually(t, func() bool {
		text = scrape()
		return strings.Contains(text, `oauthproxy_gateway_requests_total{code="200",endpoint="mcp"} 1`)
	}, 10*time.Second, 20*time.Millisecond, "the proxied request is counted")
	for _, want := range []string{
		`oauthproxy_gateway_requests_total{code="200",endpoint="mcp"} 1`,
		`oauthproxy_gateway_requests_total{code="401",endpoint="mcp"} 1`,
		`oauthproxy_gateway_requests_total{code="201",endpoint="register"} 1`,
		`oauthproxy_gateway_bearer_refusals_total{code="401"} 1`,
		`oauthproxy_gateway_backend_response_seconds_count{outcome="200"} 1`,
		`oauthproxy_events_total{reason="",type="token.issued"} 1`,
		`oauthproxy_gateway_requests_total{code="302",endpoint="callback"} 1`,
		`go_goroutines`,
	} {
		assert.Contains(t, text, want)
	}
}
