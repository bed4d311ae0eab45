package main

import (
	"context"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/oauthproxy-go/oauthproxy"
	"github.com/oauthproxy-go/oauthproxy/examples/internal/exampleserver"
	"github.com/oauthproxy-go/oauthproxy/oauthproxytest"
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
		{"nothing set", nil, []string{"OIDC_ISSUER, OIDC_CLIENT_ID, OIDC_CLIENT_SECRET", "http://127.0.0.1:8080/oauth/callback"}},
		{"no secret", map[string]string{"OIDC_ISSUER": "https://issuer.example", "OIDC_CLIENT_ID": "id"}, []string{"set OIDC_CLIENT_SECRET:"}},
		{"public ADDR without BASE_URL", map[string]string{"ADDR": "[::]:8080"}, []string{"BASE_URL"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, _, err := configFromEnv(context.Background(), env(tt.vars))
			require.Error(t, err)
			for _, w := range tt.want {
				assert.Contains(t, err.Error(), w)
			}
		})
	}
}

// Discovery against a stand-in provider on loopback, shaped like Okta.
func TestConfigFromEnv(t *testing.T) {
	idp := oauthproxytest.Start(t, oauthproxytest.Options{
		ClientID: "proxy", ClientSecret: "secret", IssueIDToken: true, IssuerPath: "/oauth2/default",
	})
	cfg, addr, err := configFromEnv(context.Background(), env(map[string]string{
		"OIDC_ISSUER": idp.Issuer(), "OIDC_CLIENT_ID": "proxy", "OIDC_CLIENT_SECRET": "secret",
		"OIDC_SCOPES": "openid email offline_access", "BASE_URL": "https://mcp.example.com",
	}))
	require.NoError(t, err)
	assert.Equal(t, "127.0.0.1:8080", addr)
	assert.Equal(t, "https://mcp.example.com", cfg.BaseURL)
	assert.Equal(t, idp.AuthorizationEndpoint(), cfg.UpstreamAuthorizationEndpoint)
	assert.Equal(t, idp.TokenEndpoint(), cfg.UpstreamTokenEndpoint)
	assert.Equal(t, []string{"openid", "email", "offline_access"}, cfg.Scopes)

	cfg.Logger = slog.New(slog.DiscardHandler)
	p, err := oauthproxy.New(cfg)
	require.NoError(t, err)
	t.Cleanup(p.Destroy)
	rec := httptest.NewRecorder()
	exampleserver.MCPHandler(p, "oidc", whoami).ServeHTTP(rec, httptest.NewRequest(http.MethodPost, "/mcp", nil))
	assert.Equal(t, http.StatusUnauthorized, rec.Code)
}

func TestConfigFromEnv_DiscoveryFails(t *testing.T) {
	idp := oauthproxytest.Start(t, oauthproxytest.Options{ClientID: "proxy", ClientSecret: "secret"})
	_, _, err := configFromEnv(context.Background(), env(map[string]string{
		"OIDC_ISSUER": idp.URL() + "/no-such-issuer", "OIDC_CLIENT_ID": "proxy", "OIDC_CLIENT_SECRET": "secret",
	}))
	require.Error(t, err)
	assert.Contains(t, err.Error(), "/no-such-issuer/.well-known/openid-configuration")
}

func TestWhoami(t *testing.T) {
	c := &oauthproxy.Claims{Subject: "00u1", Extra: map[string]any{"name": "Ada Lovelace", "email": "ada@example.com"}}
	assert.Equal(t, "Ada Lovelace <ada@example.com> (sub 00u1)", whoami(c))
}
