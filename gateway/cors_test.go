package gateway_test

import (
	"net/http"
	"testing"

	"github.com/oauthproxy-go/oauthproxy/gateway"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// corsBackend answers like an MCP server that does its own CORS, so the test
// can see the gateway keep exactly one Access-Control-Allow-Origin.
type corsBackend struct{ seenRequests }

func (b *corsBackend) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Access-Control-Allow-Origin", "*")
	w.Header().Set("Access-Control-Expose-Headers", "X-Backend")
	b.seenRequests.ServeHTTP(w, r)
}

// Browser-based MCP clients (issue 17) reach a backend behind the gateway
// as they reach a Go server behind RequireBearer: the preflight is answered
// without a token and never forwarded, the 401 carries CORS headers so the
// page can read resource_metadata, and a forwarded answer carries the
// gateway's CORS headers only.
func TestGateway_CORSForBrowserClients(t *testing.T) {
	const page = "http://127.0.0.1:6274"
	backend := &corsBackend{}
	h := newHarness(t, backend, func(c *gateway.Config) { c.ResourceAllowedOrigins = []string{page} })
	tok := h.signIn(t)

	preflight, err := http.NewRequest(http.MethodOptions, h.mcpURL, nil)
	require.NoError(t, err)
	preflight.Header.Set("Origin", page)
	preflight.Header.Set("Access-Control-Request-Method", "POST")
	preflight.Header.Set("Access-Control-Request-Headers", "authorization,content-type,mcp-protocol-version")
	resp, err := http.DefaultClient.Do(preflight)
	require.NoError(t, err)
	resp.Body.Close()
	assert.Less(t, resp.StatusCode, 300, "a preflight carries no token and must not be refused")
	assert.Equal(t, page, resp.Header.Get("Access-Control-Allow-Origin"))
	assert.Contains(t, resp.Header.Get("Access-Control-Allow-Headers"), "Authorization")
	assert.Zero(t, backend.count(), "a preflight never reaches the backend")

	origin := http.Header{"Origin": {page}}
	unauth := h.post(t, "", `{"jsonrpc":"2.0","id":1,"method":"tools/list"}`, origin)
	assert.Equal(t, http.StatusUnauthorized, unauth.StatusCode)
	assert.Equal(t, page, unauth.Header.Get("Access-Control-Allow-Origin"))
	assert.Contains(t, unauth.Header.Get("Access-Control-Expose-Headers"), "WWW-Authenticate")

	ok := h.post(t, tok.AccessToken, `{"jsonrpc":"2.0","id":1,"method":"tools/list"}`, origin)
	require.Equal(t, http.StatusOK, ok.StatusCode, readAll(t, ok.Body))
	assert.Equal(t, []string{page}, ok.Header.Values("Access-Control-Allow-Origin"), "one Allow-Origin, the gateway's")
	assert.Contains(t, ok.Header.Get("Access-Control-Expose-Headers"), "Mcp-Session-Id")
	assert.NotContains(t, ok.Header.Get("Access-Control-Expose-Headers"), "X-Backend")

	other := h.post(t, tok.AccessToken, `{"jsonrpc":"2.0","id":1,"method":"tools/list"}`, http.Header{"Origin": {"http://127.0.0.1:9999"}})
	assert.Empty(t, other.Header.Get("Access-Control-Allow-Origin"), "an unlisted origin gets no CORS answer")
}
