package redirecturi

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestParsePattern_Rejects(t *testing.T) {
	tests := []struct {
		name, pattern string
		want          error
	}{
		{"empty", "", errEmpty},
		{"scheme only", "myapp:", errEmptyURI},
		{"userinfo", "https://user@example.com/cb", errUserinfo},
		{"fragment", "https://example.com/cb#x", errFragment},
		{"query", "https://example.com/cb?x=1", errPatternQuery},
		{"javascript", "javascript:alert(1)", errScheme},
		{"data", "data:text/html,x", errScheme},
		{"file", "file:///tmp/*", errScheme},
		{"http non-loopback", "http://example.com/cb", errHTTPLoopback},
		{"http wildcard host", "http://*.localhost/cb", errHTTPLoopback},
		{"star host", "https://*/cb", errPatternHostStar},
		{"star inside label", "https://a*.example.com/cb", errPatternHostStar},
		{"star in later label", "https://a.*.example.com/cb", errPatternHostStar},
		{"two leading stars", "https://*.*.example.com/cb", errPatternHostStar},
		{"star before TLD", "https://*.com/cb", errPatternHostStar},
		{"star in scheme", "*://example.com/cb", errSyntax},
		{"partial port star", "http://localhost:8*/cb", errPatternHostStar},
		{"star in userinfo", "https://*@example.com/cb", errPatternHostStar},
		{"star inside segment", "https://example.com/a*b/cb", errPatternPathStar},
		{"star prefix of middle segment", "https://example.com/cb*/x", errPatternPathStar},
		{"double trailing star", "https://example.com/cb**", errPatternPathStar},
		{"leading star in last segment", "https://example.com/*cb", errPatternPathStar},
		{"non-loopback without path", "https://example.com", errPatternNoPath},
		{"custom scheme without path", "cursor://anysphere.cursor-retrieval", errPatternNoPath},
		{"dot segment", "https://example.com/cb/../*", errDotSegment},
		{"backslash", `https://example.com\@evil.com/*`, errBackslash},
		{"bad port", "http://localhost:0", errPort},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := ParsePattern(tt.pattern)
			require.ErrorIs(t, err, tt.want)
		})
	}
}

func TestPattern_Match(t *testing.T) {
	tests := []struct {
		pattern string
		uri     string
		want    bool
	}{
		// Loopback patterns without port or path: any port, any path (RFC 8252 §7.3).
		{"http://localhost", "http://localhost/cb", true},
		{"http://localhost", "http://localhost:51004/oauth/callback?x=1", true},
		{"http://localhost", "http://localhost", true},
		{"http://localhost", "HTTP://LOCALHOST:8080/cb", true},
		{"http://localhost", "http://127.0.0.1/cb", false},
		{"http://localhost", "https://localhost/cb", false},
		{"http://127.0.0.1", "http://127.0.0.1:8080/callback", true},
		{"http://127.0.0.1", "http://127.0.0.2/callback", false},
		{"http://[::1]", "http://[::1]:33418/cb", true},
		{"http://[::1]", "http://localhost/cb", false},

		// Explicit ports.
		{"http://localhost:8080/cb", "http://localhost:8080/cb", true},
		{"http://localhost:8080/cb", "http://localhost:8081/cb", false},
		{"http://localhost:8080/cb", "http://localhost/cb", false},
		{"http://localhost:*/cb", "http://localhost:1234/cb", true},
		{"https://example.com:*/cb", "https://example.com:8443/cb", true},
		{"https://example.com:*/cb", "https://example.com/cb", true},
		{"https://example.com/cb", "https://example.com/cb", true},
		{"https://example.com/cb", "https://example.com:443/cb", true},
		{"https://example.com/cb", "https://example.com:8443/cb", false},
		{"https://example.com:443/cb", "https://example.com/cb", true},
		{"https://example.com:8443/cb", "https://example.com:8443/cb", true},
		{"https://example.com:8443/cb", "https://example.com/cb", false},

		// Hosts.
		{"https://Example.COM/cb", "https://example.com/cb", true},
		{"https://example.com/cb", "https://EXAMPLE.com/cb", true},
		{"https://example.com/cb", "https://example.com.evil.com/cb", false},
		{"https://example.com/cb", "https://evilexample.com/cb", false},
		{"https://*.example.com/cb", "https://a.example.com/cb", true},
		{"https://*.example.com/cb", "https://A.Example.com/cb", true},
		{"https://*.example.com/cb", "https://a.b.example.com/cb", false},
		{"https://*.example.com/cb", "https://example.com/cb", false},
		{"https://*.example.com/cb", "https://aexample.com/cb", false},
		{"https://*.example.com/cb", "https://a.example.com.evil.com/cb", false},
		{"https://*.example.com/cb", "https://a.example.com:8443/cb", false},

		// Paths.
		{"https://example.com/cb", "https://example.com/cb?state=x", true},
		{"https://example.com/cb", "https://example.com/cb/", false},
		{"https://example.com/cb", "https://example.com/CB", false},
		{"https://example.com/cb", "https://example.com/cb2", false},
		{"https://example.com/", "https://example.com", true},
		{"https://example.com/", "https://example.com/", true},
		{"https://example.com/", "https://example.com/cb", false},
		{"https://example.com/cb*", "https://example.com/cb", true},
		{"https://example.com/cb*", "https://example.com/cb2", true},
		{"https://example.com/cb*", "https://example.com/cb/x/y", true},
		{"https://example.com/cb*", "https://example.com/c", false},
		{"https://example.com/cb*", "https://example.com/admin", false},
		{"https://example.com/cb*", "https://example.com/cb%2Fadmin", false},
		{"https://example.com/cb*", "https://example.com/cb%5cadmin", false},
		{"https://example.com/cb/*", "https://example.com/cb/a%2fb", false},
		{"https://example.com/*", "https://example.com/anything/at/all", true},
		{"https://example.com/*", "https://example.com", true},
		{"https://example.com/oauth/*", "https://example.com/oauth/", true},
		{"https://example.com/oauth/*", "https://example.com/oauth", false},
		{"https://example.com/cb", "https://example.com/c%62", false},

		// Custom schemes.
		{"cursor://anysphere.cursor-retrieval/oauth/*/callback", "cursor://anysphere.cursor-retrieval/oauth/user-abc/callback", true},
		{"cursor://anysphere.cursor-retrieval/oauth/*/callback", "cursor://anysphere.cursor-retrieval/oauth//callback", false},
		{"cursor://anysphere.cursor-retrieval/oauth/*/callback", "cursor://anysphere.cursor-retrieval/oauth/a/b/callback", false},
		{"cursor://anysphere.cursor-retrieval/oauth/*/callback", "cursor://anysphere.cursor-retrieval/oauth/a%2Fb/callback", false},
		{"cursor://anysphere.cursor-retrieval/oauth/*/callback", "cursor://anysphere.cursor-retrieval/oauth/x/callback/more", false},
		{"cursor://anysphere.cursor-retrieval/oauth/*/callback", "vscode://anysphere.cursor-retrieval/oauth/x/callback", false},
		{"cursor://anysphere.cursor-retrieval/oauth/*/callback", "cursor://evil/oauth/x/callback", false},
		{"cursor://x/*", "CURSOR://x/cb", true},
		{"vscode://vscode.github-authentication/did-authenticate", "vscode://vscode.github-authentication/did-authenticate?windowId=1", true},
		{"com.example.app:/oauth2redirect/*", "com.example.app:/oauth2redirect/example-provider", true},
		{"com.example.app:/oauth2redirect/*", "com.example.app://evil/oauth2redirect/x", false},
		{"com.example.app:/oauth2redirect/*", "com.example.app:/other", false},
	}
	for _, tt := range tests {
		t.Run(tt.pattern+" "+tt.uri, func(t *testing.T) {
			p, err := ParsePattern(tt.pattern)
			require.NoError(t, err)
			u, err := Parse(tt.uri)
			require.NoError(t, err)
			assert.Equal(t, tt.want, p.Match(u))
		})
	}
}

// Match must hold its line even for URLs that did not come from Parse.
func TestPattern_MatchRejectsUnparsedURLs(t *testing.T) {
	p, err := ParsePattern("http://localhost:*/cb*")
	require.NoError(t, err)
	for _, raw := range []string{
		"http://user@localhost/cb",
		"http://localhost/cb#frag",
		"http://localhost/cb/../admin",
		"http://localhost/cb%2F..%2Fadmin",
	} {
		t.Run(raw, func(t *testing.T) {
			u := mustURL(t, raw)
			assert.False(t, p.Match(u))
		})
	}
	assert.False(t, p.Match(nil))
	assert.False(t, Pattern{}.Match(mustURL(t, "http://localhost/cb")))
}

func TestPattern_String(t *testing.T) {
	for _, s := range []string{"http://localhost", "https://*.example.com:*/cb*", "cursor://x/oauth/*/callback"} {
		p, err := ParsePattern(s)
		require.NoError(t, err)
		assert.Equal(t, s, p.String())
	}
}

func TestDefaultPatterns(t *testing.T) {
	ps := DefaultPatterns()
	var names []string
	for _, p := range ps {
		names = append(names, p.String())
	}
	assert.Equal(t, []string{"http://localhost", "http://127.0.0.1", "http://[::1]"}, names)

	tests := []struct {
		uri  string
		want bool
	}{
		{"http://localhost:8080/callback", true},
		{"http://127.0.0.1:33418/oauth/callback", true},
		{"http://[::1]/cb", true},
		{"https://localhost/cb", false},
		{"https://example.com/cb", false},
		{"cursor://anysphere.cursor-retrieval/oauth/x/callback", false},
		{"com.example.app:/cb", false},
	}
	for _, tt := range tests {
		t.Run(tt.uri, func(t *testing.T) {
			assert.Equal(t, tt.want, Allowed(mustParse(t, tt.uri), ps))
		})
	}
}

func TestAllowed(t *testing.T) {
	var ps []Pattern
	for _, s := range []string{"https://app.example.com/cb", "cursor://anysphere.cursor-retrieval/oauth/*/callback"} {
		p, err := ParsePattern(s)
		require.NoError(t, err)
		ps = append(ps, p)
	}
	assert.True(t, Allowed(mustParse(t, "https://app.example.com/cb"), ps))
	assert.True(t, Allowed(mustParse(t, "cursor://anysphere.cursor-retrieval/oauth/u/callback"), ps))
	assert.False(t, Allowed(mustParse(t, "http://localhost/cb"), ps))
	assert.False(t, Allowed(mustParse(t, "https://app.example.com/cb"), nil))
}
