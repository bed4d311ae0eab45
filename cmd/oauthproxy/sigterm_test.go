package main

import (
	"bufio"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

const (
	progressEvent = "event: message\ndata: {\"progress\":1}\n\n"
	resultEvent   = "event: message\ndata: {\"result\":\"done\"}\n\n"
	// listeningComment starts the listening stream (an SSE comment).
	listeningComment = ": listening\n\n"
)

// streamingBackend is an MCP server (streamable HTTP) whose tool call
// answers as an SSE stream: a progress event at once, the result once
// release is closed. Its listening stream (GET) sends a comment and stays
// open. Either stream ends early when the gateway drops the request.
func streamingBackend(t *testing.T, release <-chan struct{}) string {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/event-stream")
		switch r.Method {
		case http.MethodGet:
			_, _ = io.WriteString(w, listeningComment)
			_ = http.NewResponseController(w).Flush()
			<-r.Context().Done()
		case http.MethodPost:
			_, _ = io.WriteString(w, progressEvent)
			_ = http.NewResponseController(w).Flush()
			select {
			case <-release:
			case <-r.Context().Done():
				return
			}
			_, _ = io.WriteString(w, resultEvent)
		default:
			http.Error(w, "no such method", http.StatusMethodNotAllowed)
		}
	}))
	t.Cleanup(srv.Close)
	return srv.URL + "/mcp"
}

// startToolCall posts a tool call through the gateway and returns its
// event stream once the first event (the progress) has arrived.
func startToolCall(t *testing.T, g *gatewayProcess, token string) *bufio.Reader {
	t.Helper()
	return openStream(t, g, token, http.MethodPost, `{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"slow"}}`, progressEvent)
}

// openListeningStream opens the client's listening stream (GET, MCP
// streamable HTTP) through the gateway and returns it once it has started.
func openListeningStream(t *testing.T, g *gatewayProcess, token string) *bufio.Reader {
	t.Helper()
	return openStream(t, g, token, http.MethodGet, "", listeningComment)
}

// openStream sends an MCP request through the gateway and returns the SSE
// body after checking its first event is first.
func openStream(t *testing.T, g *gatewayProcess, token, method, body, first string) *bufio.Reader {
	t.Helper()
	req, err := http.NewRequest(method, g.base+"/mcp", strings.NewReader(body))
	require.NoError(t, err)
	req.Header.Set("Authorization", "Bearer "+token)
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	req.Header.Set("Accept", "application/json, text/event-stream")
	resp, err := g.client.Do(req)
	require.NoError(t, err)
	t.Cleanup(func() { resp.Body.Close() })
	require.Equal(t, http.StatusOK, resp.StatusCode)
	require.Equal(t, "text/event-stream", resp.Header.Get("Content-Type"))
	events := bufio.NewReader(resp.Body)
	var got strings.Builder
	for !strings.HasSuffix(got.String(), "\n\n") {
		line, err := events.ReadString('\n')
		require.NoError(t, err)
		got.WriteString(line)
	}
	require.Equal(t, first, got.String(), "the stream's first event arrives while it stays open")
	return events
}

// ends reports whether r reaches its end (cleanly or not) within waitFor.
// On failure the reading goroutine ends when the test closes the body.
func ends(r io.Reader) bool {
	done := make(chan struct{})
	go func() {
		_, _ = io.Copy(io.Discard, r)
		close(done)
	}()
	select {
	case <-done:
		return true
	case <-time.After(waitFor):
		return false
	}
}

// releaseOnCleanup closes release at the test's end if the test did not,
// so the backend's handler never outlives the test.
func releaseOnCleanup(t *testing.T) (release chan struct{}, closeRelease func()) {
	release = make(chan struct{})
	var once sync.Once
	closeRelease = func() { once.Do(func() { close(release) }) }
	t.Cleanup(closeRelease)
	return release, closeRelease
}

// SIGTERM to the real process while a tool call streams (README,
// Operations): /readyz turns 503, new connections are refused, the client's
// listening stream (GET) ends so it cannot hold the shutdown up, the tool
// call in flight still delivers its result intact, and then the process
// exits 0.
func TestSIGTERM_FinishesAStreamInFlight(t *testing.T) {
	release, closeRelease := releaseOnCleanup(t)
	// Far beyond every wait below, so whatever ends here ends because of
	// the drain, not because the deadline cut it.
	const shutdownTimeout = 2 * waitFor
	g := startGateway(t, streamingBackend(t, release), shutdownTimeout)
	token := g.signIn(t)
	listening := openListeningStream(t, g, token)
	events := startToolCall(t, g, token)

	require.NoError(t, g.cmd.Process.Signal(syscall.SIGTERM))

	// The drain is visible on the metrics listener, which serves until the
	// public one has finished its requests.
	require.Eventually(t, func() bool {
		resp, err := g.client.Get(g.metrics + "/readyz")
		if err != nil {
			return false
		}
		resp.Body.Close()
		return resp.StatusCode == http.StatusServiceUnavailable
	}, waitFor, tick, "/readyz answers 503 while draining")
	require.Eventually(t, func() bool {
		conn, err := net.Dial("tcp", g.addr)
		if err == nil {
			conn.Close()
			return false
		}
		return errors.Is(err, syscall.ECONNREFUSED)
	}, waitFor, tick, "the public listener refuses new connections while draining")
	require.True(t, ends(listening), "the listening stream ends when the drain begins")
	select {
	case <-g.exited:
		t.Fatalf("the gateway exited with a stream in flight: %s", g.cmd.ProcessState)
	default:
	}

	closeRelease()
	rest, err := io.ReadAll(events)
	require.NoError(t, err, "the stream ends cleanly, not cut")
	assert.Equal(t, resultEvent, string(rest), "the result arrives intact")

	state := g.waitExit(t, shutdownTimeout+waitFor)
	assert.Equal(t, 0, state.ExitCode(), "a drained shutdown exits 0")
	assert.False(t, strings.Contains(g.logs.String(), "were cut"), "nothing was cut")
	// README, Operations: one log line per request, streams ended by the
	// drain included.
	assert.Equal(t, []string{"200 aborted"}, g.requestLogs(t, http.MethodGet, "/mcp"), "the listening stream is logged, as aborted")
	assert.Equal(t, []string{"200"}, g.requestLogs(t, http.MethodPost, "/mcp"), "the tool call is logged")
}

// SIGTERM while a tool call streams that never ends: at shutdown_timeout
// the gateway cuts the stream and the process exits on its own instead of
// hanging.
func TestSIGTERM_CutsAStreamAtTheShutdownTimeout(t *testing.T) {
	release, _ := releaseOnCleanup(t)
	const shutdownTimeout = 2 * time.Second
	g := startGateway(t, streamingBackend(t, release), shutdownTimeout)
	events := startToolCall(t, g, g.signIn(t))

	require.NoError(t, g.cmd.Process.Signal(syscall.SIGTERM))

	state := g.waitExit(t, shutdownTimeout+waitFor)
	assert.True(t, state.Exited(), "the process exits by itself, not by the signal: %s", state)
	assert.Equal(t, 0, state.ExitCode(), "a shutdown that had to cut exits 0 too (README, Operations)")
	rest, err := io.ReadAll(events)
	assert.Error(t, err, "the client sees the stream cut, not a clean end")
	assert.NotContains(t, string(rest), "result")
	assert.True(t, strings.Contains(g.logs.String(), "requests still running at the shutdown deadline were cut"), "the log says what was cut")
}
