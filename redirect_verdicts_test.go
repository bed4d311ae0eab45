package oauthproxy

import (
	"fmt"
	"strings"
	"testing"

	"github.com/oauthproxy-go/oauthproxy/internal/redirecturi"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The cached verdict is the one the patterns give, the first time and every
// time after, for allowed and refused URIs alike.
func TestSecurity_S22_RedirectVerdictsAreThePatterns(t *testing.T) {
	p := newInternalTestProxy(t, func(c *Config) {
		c.AllowedRedirectURIPatterns = []string{"https://app.example.com/cb/*", "http://127.0.0.1/callback"}
	})

	for uri, want := range map[string]bool{
		"https://app.example.com/cb/one":      true,
		"https://app.example.com/other":       false,
		"https://evil.example.com/cb/one":     false,
		"http://127.0.0.1:8123/callback":      true,
		"http://127.0.0.1:8123/callback/x":    false,
		"https://app.example.com/cb/%2e%2e/x": false,
		"not a uri":                           false,
	} {
		for i := range 3 {
			assert.Equal(t, want, p.redirectAllowed(uri), "%s, check %d", uri, i+1)
		}
	}
}

// Registrations are anonymous, so the verdicts they add are bounded.
func TestSecurity_S19_RedirectVerdictsAreBounded(t *testing.T) {
	c := newRedirectVerdicts()
	for i := range 5 * maxRedirectVerdicts {
		uri := fmt.Sprintf("https://app%d.example.com/cb", i)
		c.put(uri, i%2 == 0)
		require.LessOrEqual(t, c.len(), maxRedirectVerdicts)
		allowed, ok := c.get(uri)
		require.True(t, ok, "the newest verdict is kept")
		require.Equal(t, i%2 == 0, allowed)
	}
	long := "https://app.example.com/" + strings.Repeat("a", redirecturi.MaxLength)
	c.put(long, true)
	_, ok := c.get(long)
	assert.False(t, ok, "a URI longer than any registrable one is not kept")
}
