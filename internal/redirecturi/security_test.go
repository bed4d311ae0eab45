package redirecturi

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestSecurity_S01_DefaultPatternBypasses pins known bypasses of redirect-URI checks that
// compare raw strings (SECURITY.md S01). Each URI must be refused by Parse or by the default
// loopback patterns.
func TestSecurity_S01_DefaultPatternBypasses(t *testing.T) {
	tests := []struct {
		name, uri string
		want      error // the Parse error; nil when Parse accepts and the patterns must refuse
	}{
		{"userinfo hides the real host", "http://localhost:@evil.com/cb", errUserinfo},
		{"user on loopback", "http://user@localhost/cb", errUserinfo},
		{"loopback name as a subdomain", "http://localhost.evil.com/cb", errHTTPLoopback},
		{"loopback ip as a subdomain", "http://127.0.0.1.nip.io/cb", errHTTPLoopback},
		{"fragment hides the real host", "http://evil.com#@localhost/", errFragment},
		{"backslash hides the real host", `http://evil.com\@localhost`, errBackslash},
		{"encoded slash in userinfo", "http://localhost%2f@evil.com", errUserinfo},
		{"loopback in the query", "https://evil.com/?x=http://localhost", nil},
		{"hex ipv4", "http://0x7f000001/", errIPLiteral},
		{"decimal ipv4", "http://2130706433/", errIPLiteral},
		{"short ipv4", "http://127.1/", errIPLiteral},
		{"ipv4-mapped ipv6 is not loopback", "http://[::ffff:127.0.0.1]/", errHTTPLoopback},
		{"javascript", "javascript:alert(1)", errScheme},
		{"data", "data:text/html,x", errScheme},
		{"file", "file:///etc/passwd", errScheme},
		{"https on loopback is not in the defaults", "https://localhost/cb", nil},
		{"dot segments", "http://localhost/cb/../../evil", errDotSegment},
		{"trailing dot", "http://localhost./cb", errHost},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			u, err := Parse(tt.uri)
			if tt.want != nil {
				require.ErrorIs(t, err, tt.want)
				return
			}
			require.NoError(t, err)
			assert.False(t, Allowed(u, DefaultPatterns()))
		})
	}
}

func TestSecurity_S01_DefaultPatternsAdmitLoopback(t *testing.T) {
	for _, uri := range []string{
		"HTTP://LOCALHOST/cb",
		"http://localhost:8080/callback",
		"http://127.0.0.1:8080/callback",
		"http://[::1]:33418/cb",
	} {
		t.Run(uri, func(t *testing.T) {
			assert.True(t, Allowed(mustParse(t, uri), DefaultPatterns()))
		})
	}
}

// TestSecurity_S01_WildcardPatternsHoldTheirLine checks that the wildcards of configured
// patterns cannot be stretched past what they name. Every URI reaches the matcher: one that
// Parse refuses is also matched as net/url reads it, so the matcher holds the line on its own
// and not only behind Parse. Each pattern also matches what it does name, so a matcher that
// refuses everything fails here too.
func TestSecurity_S01_WildcardPatternsHoldTheirLine(t *testing.T) {
	tests := []struct {
		pattern, uri string
		parseErr     error // what Parse says of uri; nil when it accepts it
	}{
		{"https://*.example.com/cb", "https://evil.com/cb?x=.example.com", nil},
		{"https://*.example.com/cb", "https://a.b.example.com/cb", nil},
		{"https://*.example.com/cb", "https://a.example.com.evil.com/cb", nil},
		{"https://*.example.com/cb", "https://example.com/cb", nil},
		{"https://*.example.com/cb", "https://.example.com/cb", errHost},
		{"https://*.example.com/cb", "https://a.example.com/cb/x", nil},
		{"https://app.example.com/cb*", "https://app.example.com.evil.com/cb", nil},
		{"https://app.example.com/cb*", "https://app.example.com/cb%2Fadmin", nil},
		{"https://app.example.com/cb*", "https://app.example.com/cb%5Cadmin", nil},
		{"https://app.example.com/cb*", "https://app.example.com/cb/../admin", errDotSegment},
		{"https://app.example.com/cb*", "https://app.example.com/c", nil},
		{"https://app.example.com/cb*", "https://app.example.com/admin/cb", nil},
		{"https://app.example.com/oauth/*/callback", "https://app.example.com/oauth/a%2F..%2Fb/callback", errDotSegment},
		{"https://app.example.com/oauth/*/callback", "https://app.example.com/oauth/a%2Fb/callback", nil},
		{"https://app.example.com/oauth/*/callback", "https://app.example.com/oauth/a/b/callback", nil},
		{"https://app.example.com/oauth/*/callback", "https://app.example.com/oauth//callback", nil},
		{"https://app.example.com/oauth/*/callback", "https://app.example.com/oauth/callback", nil},
		{"https://app.example.com/oauth/*/callback", "https://app.example.com/oauth/a/callback/x", nil},
		{"https://app.example.com/oauth/*/callback", "https://app.example.com/oauth/a/callbackx", nil},
		{"https://app.example.com/oauth/*/callback", "https://app.example.com/other/a/callback", nil},
	}
	for _, tt := range tests {
		t.Run(tt.pattern+" "+tt.uri, func(t *testing.T) {
			p, err := ParsePattern(tt.pattern)
			require.NoError(t, err)
			u, err := Parse(tt.uri)
			if tt.parseErr != nil {
				require.ErrorIs(t, err, tt.parseErr)
				u = mustURL(t, tt.uri)
			} else {
				require.NoError(t, err)
			}
			assert.False(t, p.Match(u))
		})
	}

	for pattern, uris := range map[string][]string{
		"https://*.example.com/cb":                 {"https://a.example.com/cb", "https://A-1.Example.COM/cb?x=1"},
		"https://app.example.com/cb*":              {"https://app.example.com/cb", "https://app.example.com/cbx", "https://app.example.com/cb/x/y"},
		"https://app.example.com/oauth/*/callback": {"https://app.example.com/oauth/a/callback", "https://app.example.com/oauth/a-b/callback?x=1"},
	} {
		p, err := ParsePattern(pattern)
		require.NoError(t, err)
		for _, uri := range uris {
			assert.True(t, p.Match(mustParse(t, uri)), "%s matches %s", pattern, uri)
		}
	}
}

// TestSecurity_S01_AuthorizeExactMatch pins the /authorize rule: exact match, loopback port
// only. The path and query of a loopback URI must match exactly even when the port may vary,
// so neither a prefix match nor a host-and-port comparison passes.
func TestSecurity_S01_AuthorizeExactMatch(t *testing.T) {
	for _, tt := range []struct {
		registered, requested string
		want                  bool
	}{
		{"http://127.0.0.1/cb", "http://127.0.0.1:49152/cb", true},
		{"http://127.0.0.1:8080/cb", "http://127.0.0.1:9090/cb", true},
		{"http://127.0.0.1:8080/cb", "http://127.0.0.1/cb", true},
		{"http://[::1]/cb", "http://[::1]:8080/cb", true},
		{"http://localhost/cb?app=1", "http://localhost:3000/cb?app=1", true},
		{"https://app.example.com/cb", "https://app.example.com/cb", true},

		{"http://localhost/cb", "http://localhost:@evil.com/cb", false},
		{"http://localhost/cb", "http://localhost/cb/../admin", false},
		{"https://app.example.com/cb", "https://app.example.com/cb?next=evil", false},
		{"https://app.example.com/cb", "https://app.example.com:444/cb", false},
		{"https://app.example.com/cb", "https://app.example.com/cb/x", false},
		// Loopback: the port may vary, the path and query may not.
		{"http://127.0.0.1/cb", "http://127.0.0.1:49152/cb/x", false},
		{"http://127.0.0.1/cb", "http://127.0.0.1:49152/cbx", false},
		{"http://127.0.0.1/cb", "http://127.0.0.1:49152/CB", false},
		{"http://127.0.0.1/cb/x", "http://127.0.0.1:49152/cb", false},
		{"http://127.0.0.1/cb", "http://127.0.0.1:49152/", false},
		{"http://127.0.0.1/cb", "http://127.0.0.1/cb?next=evil", false},
		{"http://127.0.0.1/cb", "http://127.0.0.1:49152/cb?next=evil", false},
		{"http://localhost/cb?app=1", "http://localhost:3000/cb?app=2", false},
		{"http://localhost/cb?app=1", "http://localhost:3000/cb", false},
		{"http://[::1]/cb", "http://[::1]:8080/cb/", false},
		// Nor may the host: each loopback spelling is its own URI.
		{"http://localhost/cb", "http://127.0.0.1/cb", false},
		{"http://127.0.0.1/cb", "http://127.0.0.2:8080/cb", false},
	} {
		assert.Equal(t, tt.want, Equal(tt.registered, tt.requested), "Equal(%q, %q)", tt.registered, tt.requested)
	}
}
