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
// patterns cannot be stretched past what they name.
func TestSecurity_S01_WildcardPatternsHoldTheirLine(t *testing.T) {
	tests := []struct{ pattern, uri string }{
		{"https://*.example.com/cb", "https://evil.com/cb?x=.example.com"},
		{"https://*.example.com/cb", "https://a.b.example.com/cb"},
		{"https://*.example.com/cb", "https://a.example.com.evil.com/cb"},
		{"https://app.example.com/cb*", "https://app.example.com.evil.com/cb"},
		{"https://app.example.com/cb*", "https://app.example.com/cb%2Fadmin"},
		{"https://app.example.com/oauth/*/callback", "https://app.example.com/oauth/a%2F..%2Fb/callback"},
	}
	for _, tt := range tests {
		t.Run(tt.pattern+" "+tt.uri, func(t *testing.T) {
			p, err := ParsePattern(tt.pattern)
			require.NoError(t, err)
			u, err := Parse(tt.uri)
			if err != nil {
				return // refused before matching: also fine
			}
			assert.False(t, p.Match(u))
		})
	}
}

// TestSecurity_S01_AuthorizeExactMatch pins the /authorize rule: exact match, loopback port only.
func TestSecurity_S01_AuthorizeExactMatch(t *testing.T) {
	assert.True(t, Equal("http://127.0.0.1/cb", "http://127.0.0.1:49152/cb"))
	assert.False(t, Equal("http://localhost/cb", "http://localhost:@evil.com/cb"))
	assert.False(t, Equal("http://localhost/cb", "http://localhost/cb/../admin"))
	assert.False(t, Equal("https://app.example.com/cb", "https://app.example.com/cb?next=evil"))
	assert.False(t, Equal("https://app.example.com/cb", "https://app.example.com:444/cb"))
}
