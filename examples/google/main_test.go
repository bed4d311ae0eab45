package main

import (
	"log/slog"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/oauthproxy-go/oauthproxy"
	"github.com/oauthproxy-go/oauthproxy/examples/internal/exampleserver"
)

func env(vars map[string]string) func(string) string {
	return func(k string) string { return vars[k] }
}

func TestConfigFromEnv_Missing(t *testing.T) {
	tests := []struct {
		name string
		vars map[string]string
		want []string // in the message
	}{
		{"nothing set", nil, []string{"GOOGLE_CLIENT_ID", "GOOGLE_CLIENT_SECRET", "http://127.0.0.1:8080/oauth/callback"}},
		{"no secret", map[string]string{"GOOGLE_CLIENT_ID": "id"}, []string{"GOOGLE_CLIENT_SECRET"}},
		{"redirect URI follows BASE_URL", map[string]string{"BASE_URL": "https://mcp.example.com"}, []string{"https://mcp.example.com/oauth/callback"}},
		{"public ADDR without BASE_URL", map[string]string{"ADDR": "0.0.0.0:8080", "GOOGLE_CLIENT_ID": "id", "GOOGLE_CLIENT_SECRET": "s"}, []string{"BASE_URL"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, _, err := configFromEnv(env(tt.vars))
			require.Error(t, err)
			for _, w := range tt.want {
				assert.Contains(t, err.Error(), w)
			}
		})
	}
}

func TestConfigFromEnv(t *testing.T) {
	cfg, addr, err := configFromEnv(env(map[string]string{
		"GOOGLE_CLIENT_ID": "id.apps.googleusercontent.com", "GOOGLE_CLIENT_SECRET": "secret",
		"GOOGLE_HOSTED_DOMAIN": "example.com", "ADDR": "127.0.0.1:9000",
	}))
	require.NoError(t, err)
	assert.Equal(t, "127.0.0.1:9000", addr)
	assert.Equal(t, "http://127.0.0.1:9000", cfg.BaseURL)
	assert.Equal(t, "https://accounts.google.com/o/oauth2/v2/auth", cfg.UpstreamAuthorizationEndpoint)
	assert.Equal(t, "offline", cfg.ExtraAuthorizationParams["access_type"])
	assert.Equal(t, "example.com", cfg.ExtraAuthorizationParams["hd"])

	// The config is one New accepts (nothing is fetched), and /mcp asks for a token.
	cfg.Logger = slog.New(slog.DiscardHandler)
	p, err := oauthproxy.New(cfg)
	require.NoError(t, err)
	t.Cleanup(p.Destroy)
	rec := httptest.NewRecorder()
	exampleserver.MCPHandler(p, "google", whoami).ServeHTTP(rec, httptest.NewRequest(http.MethodPost, "/mcp", nil))
	assert.Equal(t, http.StatusUnauthorized, rec.Code)
}

func TestWhoami(t *testing.T) {
	c := &oauthproxy.Claims{Subject: "1234", Extra: map[string]any{"email": "ada@example.com"}}
	assert.Equal(t, "Google account ada@example.com (sub 1234)", whoami(c))
}
