package exampleserver

import (
	"log/slog"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/oauthproxy-go/oauthproxy"
)

func env(vars map[string]string) func(string) string {
	return func(k string) string { return vars[k] }
}

func TestListenAndBase(t *testing.T) {
	tests := []struct {
		name       string
		vars       map[string]string
		addr, base string
	}{
		{"defaults", nil, "127.0.0.1:8080", "http://127.0.0.1:8080"},
		{"loopback ADDR", map[string]string{"ADDR": "127.0.0.1:9000"}, "127.0.0.1:9000", "http://127.0.0.1:9000"},
		{"localhost", map[string]string{"ADDR": "localhost:9000"}, "localhost:9000", "http://localhost:9000"},
		{"IPv6 loopback", map[string]string{"ADDR": "[::1]:9000"}, "[::1]:9000", "http://[::1]:9000"},
		{"BASE_URL, trailing slash dropped", map[string]string{"BASE_URL": "https://mcp.example.com/"}, "127.0.0.1:8080", "https://mcp.example.com"},
		{"public ADDR with BASE_URL", map[string]string{"ADDR": ":8080", "BASE_URL": "https://mcp.example.com"}, ":8080", "https://mcp.example.com"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			addr, base, err := ListenAndBase(env(tt.vars))
			require.NoError(t, err)
			assert.Equal(t, tt.addr, addr)
			assert.Equal(t, tt.base, base)
		})
	}
}

func TestListenAndBase_Errors(t *testing.T) {
	tests := []struct {
		name string
		addr string
		want []string // in the message
	}{
		{"all interfaces", ":8080", []string{"BASE_URL", `":8080"`, "not a loopback address"}},
		{"IPv4 any", "0.0.0.0:8080", []string{"BASE_URL"}},
		{"IPv6 any", "[::]:8080", []string{"BASE_URL"}},
		{"host name", "mcp.example.com:8080", []string{"BASE_URL"}},
		{"no port", "127.0.0.1", []string{`ADDR "127.0.0.1"`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, _, err := ListenAndBase(env(map[string]string{"ADDR": tt.addr}))
			require.Error(t, err)
			for _, w := range tt.want {
				assert.Contains(t, err.Error(), w)
			}
		})
	}
}

// /mcp asks for a token, pointing at the protected-resource metadata.
func TestMCPHandler(t *testing.T) {
	p, err := oauthproxy.New(oauthproxy.Config{
		BaseURL:                       "http://127.0.0.1:8080",
		UpstreamAuthorizationEndpoint: "https://idp.example/authorize",
		UpstreamTokenEndpoint:         "https://idp.example/token",
		UpstreamClientID:              "id",
		UpstreamClientSecret:          "secret",
		Logger:                        slog.New(slog.DiscardHandler),
	})
	require.NoError(t, err)
	t.Cleanup(p.Destroy)
	rec := httptest.NewRecorder()
	MCPHandler(p, "test", func(*oauthproxy.Claims) string { return "" }).ServeHTTP(rec, httptest.NewRequest(http.MethodPost, "/mcp", nil))
	assert.Equal(t, http.StatusUnauthorized, rec.Code)
	assert.Contains(t, rec.Header().Get("WWW-Authenticate"), `resource_metadata="http://127.0.0.1:8080/.well-known/oauth-protected-resource/mcp"`)
}
