package gateway_test

import (
	"bufio"
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// A tool-call stream the client walks away from still gets its request
// log line and count (README, Operations: one line per request), marked
// aborted, although the reverse proxy ends such a handler by panicking
// with http.ErrAbortHandler.
func TestGateway_LogsAStreamTheClientDropped(t *testing.T) {
	release := make(chan struct{})
	defer close(release)
	h := newHarness(t, sseBackend(release))
	tok := h.signIn(t)

	resp := h.post(t, tok.AccessToken, `{"jsonrpc":"2.0","id":1,"method":"tools/call"}`, nil)
	line, err := bufio.NewReader(resp.Body).ReadString('\n')
	require.NoError(t, err)
	require.Equal(t, "event: message\n", line)
	require.NoError(t, resp.Body.Close())

	require.Eventually(t, func() bool {
		for _, l := range strings.Split(h.logs.String(), "\n") {
			var rec struct {
				Msg, Method, Path string
				Aborted           bool
			}
			if json.Unmarshal([]byte(l), &rec) == nil && rec.Msg == "request" && rec.Method == http.MethodPost && rec.Path == "/mcp" {
				return rec.Aborted
			}
		}
		return false
	}, waitFor, tick, "the dropped stream is logged as aborted:\n%s", h.logs)
}
