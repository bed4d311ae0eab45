package main

import (
	"bytes"
	"context"
	"os"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func envOf(vars map[string]string) func(string) (string, bool) {
	return func(name string) (string, bool) {
		v, ok := vars[name]
		return v, ok
	}
}

// The README's GitHub configuration is valid with the secrets it names set
// from `oauthproxy keys`: docs are code.
func TestExampleGitHubConfigChecksClean(t *testing.T) {
	var keys, stderr bytes.Buffer
	require.Equal(t, exitOK, run(context.Background(), []string{"keys"}, &keys, &stderr, envOf(nil)), stderr.String())
	env := map[string]string{"OAUTHPROXY_UPSTREAM_CLIENT_SECRET": "github-client-secret"}
	for _, l := range strings.Split(strings.TrimSpace(keys.String()), "\n") {
		name, value, _ := strings.Cut(l, "=")
		env[name] = value
	}
	var stdout bytes.Buffer
	code := run(context.Background(), []string{"check-config", "examples/github.yaml"}, &stdout, &stderr, envOf(env))
	require.Equal(t, exitOK, code, stderr.String())
	assert.Contains(t, stdout.String(), "examples/github.yaml: ok")
}

func TestCheckConfig_ReportsProblemsAndFails(t *testing.T) {
	var stdout, stderr bytes.Buffer
	code := run(context.Background(), []string{"check-config", "examples/github.yaml"}, &stdout, &stderr, envOf(nil))
	assert.Equal(t, exitFailed, code)
	assert.Contains(t, stderr.String(), "UpstreamClientSecret is required")
	assert.Contains(t, stderr.String(), "JWTSigningKey", "bolt storage needs keys")
}

func TestVersionAndUsage(t *testing.T) {
	var stdout, stderr bytes.Buffer
	require.Equal(t, exitOK, run(context.Background(), []string{"--version"}, &stdout, &stderr, envOf(nil)))
	assert.True(t, strings.HasPrefix(stdout.String(), "oauthproxy "), stdout.String())

	stdout.Reset()
	assert.Equal(t, exitUsage, run(context.Background(), []string{"check-config"}, &stdout, &stderr, envOf(nil)))
	assert.Equal(t, exitUsage, run(context.Background(), []string{"keys", "extra"}, &stdout, &stderr, envOf(nil)))
	assert.Equal(t, exitUsage, run(context.Background(), []string{"-nosuchflag"}, &stdout, &stderr, envOf(nil)))
	assert.Empty(t, stdout.String())
}

// The README shows examples/github.yaml as it is (less its heading
// comments), so the configuration it teaches is the one checked above.
func TestReadmeShowsTheExampleConfig(t *testing.T) {
	readme, err := os.ReadFile("README.md")
	require.NoError(t, err)
	_, rest, ok := strings.Cut(string(readme), "```yaml\n")
	require.True(t, ok, "README has a yaml block")
	block, _, ok := strings.Cut(rest, "```")
	require.True(t, ok)
	file, err := os.ReadFile("examples/github.yaml")
	require.NoError(t, err)
	var body []string
	for _, l := range strings.Split(string(file), "\n") {
		if !strings.HasPrefix(l, "#") {
			body = append(body, l)
		}
	}
	assert.Equal(t, strings.Join(body, "\n"), block)
	assert.Len(t, strings.Split(strings.TrimSpace(block), "\n"), 10, "the ten-line configuration")
}
