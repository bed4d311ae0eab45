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
		{"nothing set", nil, []string{"GITHUB_CLIENT_ID", "GITHUB_CLIENT_SECRET", "http://127.0.0.1:8080/oauth/callback"}},
		{"no secret", map[string]string{"GITHUB_CLIENT_ID": "id"}, []string{"GITHUB_CLIENT_SECRET"}},
		{"callback URL follows BASE_URL", map[string]string{"BASE_URL": "https://mcp.example.com/"}, []string{"https://mcp.example.com/oauth/callback"}},
		{"public ADDR without BASE_URL", map[string]string{"ADDR": ":8080", "GITHUB_CLIENT_ID": "id", "GITHUB_CLIENT_SECRET": "s"}, []string{"BASE_URL", `":8080"`}},
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
	cfg, addr, err := configFromEnv(env(map[string]string{"GITHUB_CLIENT_ID": "id", "GITHUB_CLIENT_SECRET": "secret"}))
	require.NoError(t, err)
	assert.Equal(t, "127.0.0.1:8080", addr)
	assert.Equal(t, "http://127.0.0.1:8080", cfg.BaseURL)
	assert.Equal(t, "https://github.com/login/oauth/authorize", cfg.UpstreamAuthorizationEndpoint)
	assert.Equal(t, "id", cfg.UpstreamClientID)

	// The config is one New accepts (nothing is fetched), and /mcp asks for a token.
	cfg.Logger = slog.New(slog.DiscardHandler)
	p, err := oauthproxy.New(cfg)
	require.NoError(t, err)
	t.Cleanup(p.Destroy)
	rec := httptest.NewRecorder()
	exampleserver.MCPHandler(p, "github", whoami).ServeHTTP(rec, httptest.NewRequest(http.MethodPost, "/mcp", nil))
	assert.Equal(t, http.StatusUnauthorized, rec.Code)
	assert.Contains(t, rec.Header().Get("WWW-Authenticate"), `resource_metadata="http://127.0.0.1:8080/.well-known/oauth-protected-resource/mcp"`)
}

func TestWhoami(t *testing.T) {
	c := &oauthproxy.Claims{Subject: "1", Extra: map[string]any{"preferred_username": "octocat"}}
	assert.Equal(t, "GitHub user octocat (id 1)", whoami(c))
}
