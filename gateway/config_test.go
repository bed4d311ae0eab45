package gateway_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/oauthproxy-go/oauthproxy/gateway"
	"github.com/oauthproxy-go/oauthproxy/ratelimit"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// envOf is an environment made of vars only.
func envOf(vars map[string]string) func(string) (string, bool) {
	return func(name string) (string, bool) {
		v, ok := vars[name]
		return v, ok
	}
}

const minimalYAML = `
base_url: http://127.0.0.1:8080
backend:
  url: http://127.0.0.1:3000/mcp
provider:
  name: github
  client_id: gh-client
`

func TestParseConfig_UnknownKeyIsAnError(t *testing.T) {
	_, err := gateway.ParseConfig([]byte(minimalYAML+"backend_url: http://typo\n"), envOf(nil))
	require.ErrorContains(t, err, "backend_url")

	_, err = gateway.ParseConfig([]byte(strings.Replace(minimalYAML, "  url:", "  ulr:", 1)), envOf(nil))
	require.ErrorContains(t, err, "ulr")
}

// A secret written into the file is refused, not used: secrets come only
// from the environment or files named there.
func TestParseConfig_SecretInTheFileIsRefused(t *testing.T) {
	for _, key := range []string{"upstream_client_secret", "secrets", "encryption_key"} {
		_, err := gateway.ParseConfig([]byte(minimalYAML+key+": hunter2hunter2\n"), envOf(nil))
		require.Error(t, err, key)
		assert.NotContains(t, err.Error(), "hunter2", "the error does not echo the value")
	}
}

func TestParseConfig_TwoDocumentsAreAnError(t *testing.T) {
	_, err := gateway.ParseConfig([]byte(minimalYAML+"---\nlisten: :1\n"), envOf(nil))
	require.ErrorContains(t, err, "more than one YAML document")
}

func TestParseConfig_EnvironmentOverridesTheFile(t *testing.T) {
	cfg, err := gateway.ParseConfig([]byte(minimalYAML+"scopes: [a]\naccess_token_ttl: 1h\n"), envOf(map[string]string{
		"OAUTHPROXY_BACKEND_URL":                         "http://127.0.0.1:4000/mcp",
		"OAUTHPROXY_PROVIDER_CLIENT_ID":                  "from-env",
		"OAUTHPROXY_SCOPES":                              "read:user, user:email",
		"OAUTHPROXY_ACCESS_TOKEN_TTL":                    "15m",
		"OAUTHPROXY_DISABLE_CONSENT":                     "true",
		"OAUTHPROXY_MAX_CLIENTS":                         "50",
		"OAUTHPROXY_BACKEND_MAX_REQUEST_BYTES":           "1024",
		"OAUTHPROXY_BACKEND_HEADERS_USER":                "X-User",
		"OAUTHPROXY_RATE_LIMITS_TOKEN":                   "5/s burst 10",
		"OAUTHPROXY_BACKEND_RESPONSE_HEADER_TIMEOUT":     "3s",
		"OAUTHPROXY_UPSTREAM_CLIENT_SECRET":              "s3cret",
		"OAUTHPROXY_PROVIDER_EXTRA_AUTHORIZATION_PARAMS": "", // unset-able only in the file
	}))
	require.ErrorContains(t, err, "OAUTHPROXY_PROVIDER_EXTRA_AUTHORIZATION_PARAMS", "a map has no environment form")
	require.Nil(t, cfg)

	cfg, err = gateway.ParseConfig([]byte(minimalYAML+"scopes: [a]\naccess_token_ttl: 1h\n"), envOf(map[string]string{
		"OAUTHPROXY_BACKEND_URL":                     "http://127.0.0.1:4000/mcp",
		"OAUTHPROXY_PROVIDER_CLIENT_ID":              "from-env",
		"OAUTHPROXY_SCOPES":                          "read:user, user:email",
		"OAUTHPROXY_ACCESS_TOKEN_TTL":                "15m",
		"OAUTHPROXY_DISABLE_CONSENT":                 "true",
		"OAUTHPROXY_MAX_CLIENTS":                     "50",
		"OAUTHPROXY_BACKEND_MAX_REQUEST_BYTES":       "1024",
		"OAUTHPROXY_BACKEND_HEADERS_USER":            "X-User",
		"OAUTHPROXY_RATE_LIMITS_TOKEN":               "5/s burst 10",
		"OAUTHPROXY_BACKEND_RESPONSE_HEADER_TIMEOUT": "3s",
		"OAUTHPROXY_UPSTREAM_CLIENT_SECRET":          "s3cret",
	}))
	require.NoError(t, err)
	assert.Equal(t, "http://127.0.0.1:4000/mcp", cfg.Backend.URL)
	assert.Equal(t, "from-env", cfg.Provider.ClientID)
	assert.Equal(t, []string{"read:user", "user:email"}, cfg.Scopes)
	assert.Equal(t, 15*time.Minute, cfg.AccessTokenTTL)
	assert.True(t, cfg.DisableConsent)
	assert.Equal(t, 50, cfg.MaxClients)
	assert.Equal(t, int64(1024), cfg.Backend.MaxRequestBytes)
	assert.Equal(t, "X-User", cfg.Backend.Headers.User)
	assert.Equal(t, ratelimit.Limit{Rate: 5, Per: time.Second, Burst: 10}, cfg.RateLimits.Token.Limit)
	assert.Equal(t, 3*time.Second, cfg.Backend.ResponseHeaderTimeout)
	assert.Equal(t, "s3cret", cfg.Secrets.UpstreamClientSecret)
}

func TestParseConfig_BadEnvironmentValuesAreAllReported(t *testing.T) {
	_, err := gateway.ParseConfig([]byte(minimalYAML), envOf(map[string]string{
		"OAUTHPROXY_DISABLE_CONSENT":   "maybe",
		"OAUTHPROXY_ACCESS_TOKEN_TTL":  "forever",
		"OAUTHPROXY_RATE_LIMITS_TOKEN": "lots",
		"OAUTHPROXY_ENCRYPTION_KEY":    "not base64!",
	}))
	require.Error(t, err)
	for _, name := range []string{"OAUTHPROXY_DISABLE_CONSENT", "OAUTHPROXY_ACCESS_TOKEN_TTL", "OAUTHPROXY_RATE_LIMITS_TOKEN", "OAUTHPROXY_ENCRYPTION_KEY"} {
		assert.ErrorContains(t, err, name)
	}
	assert.NotContains(t, err.Error(), "not base64!", "a secret's value is never echoed")
}

func TestParseConfig_SecretFromFile(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "secret")
	require.NoError(t, os.WriteFile(path, []byte("from-file\n"), 0o600))
	cfg, err := gateway.ParseConfig([]byte(minimalYAML), envOf(map[string]string{"OAUTHPROXY_UPSTREAM_CLIENT_SECRET_FILE": path}))
	require.NoError(t, err)
	assert.Equal(t, "from-file", cfg.Secrets.UpstreamClientSecret, "the trailing newline is dropped")

	_, err = gateway.ParseConfig([]byte(minimalYAML), envOf(map[string]string{
		"OAUTHPROXY_UPSTREAM_CLIENT_SECRET_FILE": path, "OAUTHPROXY_UPSTREAM_CLIENT_SECRET": "inline",
	}))
	require.ErrorContains(t, err, "both set")

	_, err = gateway.ParseConfig([]byte(minimalYAML), envOf(map[string]string{"OAUTHPROXY_UPSTREAM_CLIENT_SECRET_FILE": filepath.Join(dir, "missing")}))
	require.ErrorContains(t, err, "OAUTHPROXY_UPSTREAM_CLIENT_SECRET_FILE")
}

// Secrets never reach a log line or a printed Config.
func TestSecrets_NeverPrintedOrLogged(t *testing.T) {
	key := bytes.Repeat([]byte{0xAB}, 32)
	cfg, err := gateway.ParseConfig([]byte(minimalYAML), envOf(map[string]string{
		"OAUTHPROXY_UPSTREAM_CLIENT_SECRET": "very-secret-value",
		"OAUTHPROXY_REDIS_PASSWORD":         "redis-secret-value",
		"OAUTHPROXY_ENCRYPTION_KEY":         "q6urq6urq6urq6urq6urq6urq6urq6urq6urq6urq6s=",
	}))
	require.NoError(t, err)
	require.Equal(t, [][]byte{key}, cfg.Secrets.EncryptionKeys)
	var logged bytes.Buffer
	slog.New(slog.NewJSONHandler(&logged, nil)).Info("config", "secrets", cfg.Secrets, "config", cfg)
	for _, out := range []string{fmt.Sprintf("%v", cfg), fmt.Sprintf("%+v", cfg), fmt.Sprintf("%#v", cfg), logged.String()} {
		assert.NotContains(t, out, "very-secret-value")
		assert.NotContains(t, out, "redis-secret-value")
		assert.NotContains(t, out, "q6urq6ur")
		assert.NotContains(t, out, "171, 171") // the key's bytes
	}
	var line map[string]any
	require.NoError(t, json.Unmarshal(logged.Bytes(), &line))
	assert.Equal(t, true, line["secrets"].(map[string]any)["upstream_client_secret"], "the log says which secrets are set")
}

func TestLimit_UnmarshalText(t *testing.T) {
	for in, want := range map[string]ratelimit.Limit{
		"":              {},
		"30/m":          {Rate: 30, Per: time.Minute},
		"5/s burst 10":  {Rate: 5, Per: time.Second, Burst: 10},
		"100/h":         {Rate: 100, Per: time.Hour},
		"10/30s":        {Rate: 10, Per: 30 * time.Second},
		" 2/m burst 1 ": {Rate: 2, Per: time.Minute, Burst: 1},
	} {
		var l gateway.Limit
		require.NoError(t, l.UnmarshalText([]byte(in)), in)
		assert.Equal(t, want, l.Limit, in)
	}
	for _, in := range []string{"30", "x/m", "0/m", "-1/s", "5/fortnight", "5/-1s", "5/s burst x", "5/s burst 0"} {
		var l gateway.Limit
		assert.Error(t, l.UnmarshalText([]byte(in)), in)
	}
}

// check-config reports every problem at once: the gateway's own and every
// one oauthproxy.New finds.
func TestCheck_ReportsEveryProblem(t *testing.T) {
	cfg, err := gateway.ParseConfig([]byte(`
listen: nonsense
base_url: http://example.com
mcp_path: /oauth/mcp
access_token_ttl: -1s
max_clients: -5
allowed_redirect_uri_patterns: ["javascript:alert(1)"]
scopes: ["bad scope"]
backend:
  url: ftp://backend
  headers:
    user: X-Forwarded-Email
    assertion: Authorization
  sign_assertion: true
provider:
  name: github
storage:
  type: bolt
rate_limits:
  shared: true
`), envOf(nil))
	require.NoError(t, err)
	err = cfg.Check(context.Background(), gateway.Options{})
	require.Error(t, err)
	for _, want := range []string{
		"listen", "mcp_path", "backend.url", "backend.headers.email", "backend.headers.assertion",
		"OAUTHPROXY_ASSERTION_KEY", "storage.path", "rate_limits.shared", // the gateway's
		"BaseURL", "UpstreamClientID", "UpstreamClientSecret", "AccessTokenTTL", "MaxClients",
		"AllowedRedirectURIPatterns", "bad scope", // oauthproxy.New's
	} {
		assert.ErrorContains(t, err, want)
	}
}

func TestCheck_PersistentStorageNeedsKeys(t *testing.T) {
	cfg, err := gateway.ParseConfig([]byte(minimalYAML+"storage: {type: bolt, path: x.db}\n"),
		envOf(map[string]string{"OAUTHPROXY_UPSTREAM_CLIENT_SECRET": "s"}))
	require.NoError(t, err)
	err = cfg.Check(context.Background(), gateway.Options{})
	require.ErrorContains(t, err, "JWTSigningKey")
	assert.NoFileExists(t, "x.db", "check-config opens no storage")
}

// The output of WriteKeys, used as the environment, is a complete set of
// keys: a persistent configuration with them checks clean.
func TestWriteKeys_AreAValidEnvironment(t *testing.T) {
	var out bytes.Buffer
	require.NoError(t, gateway.WriteKeys(&out))
	env := map[string]string{"OAUTHPROXY_UPSTREAM_CLIENT_SECRET": "s"}
	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	require.Len(t, lines, 4)
	for _, l := range lines {
		name, value, ok := strings.Cut(l, "=")
		require.True(t, ok, l)
		env[name] = value
	}
	var again bytes.Buffer
	require.NoError(t, gateway.WriteKeys(&again))
	assert.NotEqual(t, out.String(), again.String(), "fresh keys each time")

	yml := strings.Replace(minimalYAML, "backend:\n", "backend:\n  sign_assertion: true\n", 1) + "storage: {type: bolt, path: x.db}\n"
	cfg, err := gateway.ParseConfig([]byte(yml), envOf(env))
	require.NoError(t, err)
	require.NoError(t, cfg.Check(context.Background(), gateway.Options{}))
}
