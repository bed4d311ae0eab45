package oauthproxy_test

import (
	"os"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// readmeGoBlock returns the first ```go block after heading in README.md.
func readmeGoBlock(t *testing.T, heading string) string {
	t.Helper()
	readme, err := os.ReadFile("README.md")
	require.NoError(t, err)
	_, after, ok := strings.Cut(string(readme), "\n"+heading+"\n")
	require.True(t, ok, "README.md has no heading %q", heading)
	_, block, ok := strings.Cut(after, "```go\n")
	require.True(t, ok, "no go block after %q", heading)
	block, _, ok = strings.Cut(block, "```")
	require.True(t, ok)
	return block
}

// TestREADME_RateLimitSnippetIsExampleRateLimits: every line of the README's
// rate-limit snippet stands, in order, in ExampleRateLimits, which compiles
// and runs; so the snippet a newcomer copies works.
func TestREADME_RateLimitSnippetIsExampleRateLimits(t *testing.T) {
	requireSnippetIn(t, "## Limits, quotas and rate limits", "example_ratelimit_test.go")
}

// TestREADME_BrowserClientsSnippetIsExampleProxyCORS does the same for the
// "Browser clients" snippet and ExampleProxy_CORS.
func TestREADME_BrowserClientsSnippetIsExampleProxyCORS(t *testing.T) {
	requireSnippetIn(t, "### Browser clients", "example_cors_test.go")
}

// requireSnippetIn checks that every line of the first Go block after
// heading stands, in order, in file.
func requireSnippetIn(t *testing.T, heading, file string) {
	t.Helper()
	src, err := os.ReadFile(file)
	require.NoError(t, err)
	rest := string(src)
	for _, line := range strings.Split(readmeGoBlock(t, heading), "\n") {
		line = strings.TrimSpace(line)
		if line == "" {
			continue
		}
		i := strings.Index(rest, line)
		require.GreaterOrEqual(t, i, 0, "README line %q is not in %s (or not in order)", line, file)
		rest = rest[i+len(line):]
	}
}
