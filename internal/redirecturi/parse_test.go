package redirecturi

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestParse_Accepts(t *testing.T) {
	tests := []struct {
		name, raw, wantHost string
	}{
		{"localhost with port", "http://localhost:8080/callback", "localhost"},
		{"localhost without port or path", "http://localhost", "localhost"},
		{"127.0.0.1", "http://127.0.0.1:8080/callback", "127.0.0.1"},
		{"other 127/8 address", "http://127.1.2.3/cb", "127.1.2.3"},
		{"ipv6 loopback", "http://[::1]:33418/cb", "::1"},
		{"uppercase scheme and host", "HTTP://LOCALHOST/cb", "LOCALHOST"},
		{"https", "https://app.example.com/oauth/callback", "app.example.com"},
		{"https with query", "https://app.example.com/cb?x=1&y=2", "app.example.com"},
		{"https with port", "https://app.example.com:8443/cb", "app.example.com"},
		{"https canonical ip", "https://192.0.2.1/cb", "192.0.2.1"},
		{"custom scheme with host", "cursor://anysphere.cursor-retrieval/oauth/user-x/callback", "anysphere.cursor-retrieval"},
		{"vscode", "vscode://vscode.github-authentication/did-authenticate", "vscode.github-authentication"},
		{"RFC 8252 §7.1 private-use scheme", "com.example.app:/oauth2redirect/example-provider", ""},
		{"underscore in label", "https://my_host.example.com/cb", "my_host.example.com"},
		{"maximum length", "https://example.com/" + strings.Repeat("a", MaxLength-len("https://example.com/")), "example.com"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			u, err := Parse(tt.raw)
			require.NoError(t, err)
			assert.Equal(t, tt.wantHost, u.Hostname())
		})
	}
}

func TestParse_Rejects(t *testing.T) {
	tests := []struct {
		name, raw string
		want      error
	}{
		{"empty", "", errEmpty},
		{"too long", "https://example.com/" + strings.Repeat("a", MaxLength), errTooLong},
		{"relative", "/callback", errNotAbsolute},
		{"no scheme", "localhost:8080/cb", errOpaque},
		{"no scheme, no colon", "example.com/cb", errNotAbsolute},
		{"userinfo with empty password", "http://localhost:@evil.com/cb", errUserinfo},
		{"user on loopback", "http://user@localhost/cb", errUserinfo},
		{"empty userinfo", "http://@localhost/cb", errUserinfo},
		{"fragment", "http://localhost/cb#frag", errFragment},
		{"bare trailing #", "http://localhost/cb#", errFragment},
		{"javascript", "javascript:alert(1)", errScheme},
		{"javascript uppercase", "JavaScript:alert(1)", errScheme},
		{"javascript with slashes", "javascript://localhost/%0aalert(1)", errScheme},
		{"data", "data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==", errScheme},
		{"data with markup", "data:text/html,<script>alert(1)</script>", errUnencoded},
		{"data base64", "data:text/html;base64,PHNjcmlwdD4=", errScheme},
		{"file", "file:///etc/passwd", errScheme},
		{"vbscript", "VBSCRIPT:msgbox", errScheme},
		{"blob", "blob:https://example.com/uuid", errScheme},
		{"about", "about:blank", errScheme},
		{"opaque custom scheme", "myapp:callback", errOpaque},
		{"custom scheme without host or path", "myapp:", errEmptyURI},
		{"http non-loopback", "http://example.com/cb", errHTTPLoopback},
		{"http private address", "http://192.168.1.1/cb", errHTTPLoopback},
		{"http empty host", "http:///cb", errHTTPLoopback},
		{"https empty host", "https:///cb", errHTTPSHost},
		{"https no authority", "https:/cb", errHTTPSHost},
		{"space", "http://localhost/c b", errCharacters},
		{"tab", "http://local\thost/cb", errCharacters},
		{"newline", "http://localhost/cb\n", errCharacters},
		{"nul", "http://localhost/\x00", errCharacters},
		{"DEL", "http://localhost/\x7f", errCharacters},
		{"raw angle brackets", "http://127.0.0.1/cb?<img/src=x/onerror=alert(1)>", errUnencoded},
		{"raw quote", `http://127.0.0.1/cb?x="y"`, errUnencoded},
		{"raw braces", "http://127.0.0.1/{cb}", errUnencoded},
		{"raw pipe", "http://127.0.0.1/a|b", errUnencoded},
		{"raw caret", "http://127.0.0.1/a^b", errUnencoded},
		{"raw backtick", "http://127.0.0.1/a`b", errUnencoded},
		{"non-ASCII host", "https://exämple.com/cb", errCharacters},
		{"backslash", `http://localhost\cb`, errBackslash},
		{"percent-encoded host", "https://ex%C3%A4mple.com/cb", errPercentHost},
		{"percent-encoded ascii host", "https://ex%61mple.com/cb", errSyntax},
		{"percent-encoded ipv6 zone", "http://[fe80::1%25en0]/cb", errPercentHost},
		{"invalid host character", "https://exa!mple.com/cb", errHost},
		{"empty label", "https://example..com/cb", errHost},
		{"trailing dot", "http://localhost./cb", errHost},
		{"non-canonical ipv6", "http://[0:0:0:0:0:0:0:1]/cb", errIPLiteral},
		{"ipv6 with zone", "http://[::1%eth0]/cb", errSyntax},
		{"decimal ipv4", "https://2130706433/cb", errIPLiteral},
		{"short ipv4", "https://127.1/cb", errIPLiteral},
		{"octal ipv4", "https://0177.0.0.1/cb", errIPLiteral},
		{"empty port", "http://localhost:/cb", errPort},
		{"port zero", "http://localhost:0/cb", errPort},
		{"port too large", "http://localhost:65536/cb", errPort},
		{"dot-dot segment", "http://localhost/cb/../admin", errDotSegment},
		{"encoded dot-dot segment", "http://localhost/cb/%2e%2E/admin", errDotSegment},
		{"dot segment", "https://example.com/./cb", errDotSegment},
		{"bad escape", "https://example.com/%zz", errSyntax},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			u, err := Parse(tt.raw)
			require.ErrorIs(t, err, tt.want)
			assert.Nil(t, u)
		})
	}
}

// Errors go out as error_description, which RFC 6749 §5.2 limits to %x20-21 / %x23-5B / %x5D-7E.
func TestParse_ErrorTextIsValidErrorDescription(t *testing.T) {
	for _, err := range []error{
		errEmpty, errTooLong, errCharacters, errBackslash, errSyntax, errNotAbsolute, errOpaque,
		errFragment, errUserinfo, errScheme, errHTTPLoopback, errHTTPSHost, errEmptyURI,
		errPercentHost, errHost, errIPLiteral, errPort, errDotSegment,
		errPatternQuery, errPatternHostStar, errPatternPathStar, errPatternNoPath,
	} {
		msg := err.Error()
		for i := 0; i < len(msg); i++ {
			c := msg[i]
			ok := c == 0x20 || c == 0x21 || (c >= 0x23 && c <= 0x5b) || (c >= 0x5d && c <= 0x7e)
			assert.Truef(t, ok, "%q has byte %#x", msg, c)
		}
	}
}

func TestIsLoopbackHost(t *testing.T) {
	tests := []struct {
		host string
		want bool
	}{
		{"localhost", true},
		{"LocalHost", true},
		{"127.0.0.1", true},
		{"127.255.255.254", true},
		{"::1", true},
		{"[::1]", true},
		{"", false},
		{"[127.0.0.1]", false},
		{"localhost.", false},
		{"localhost.evil.com", false},
		{"127.0.0.1.nip.io", false},
		{"0x7f000001", false},
		{"2130706433", false},
		{"127.1", false},
		{"127.000.0.1", false},
		{"::ffff:127.0.0.1", false},
		{"[::ffff:127.0.0.1]", false},
		{"0:0:0:0:0:0:0:1", false},
		{"::1%eth0", false},
		{"128.0.0.1", false},
		{"0.0.0.0", false},
		{"::", false},
	}
	for _, tt := range tests {
		t.Run(tt.host, func(t *testing.T) {
			assert.Equal(t, tt.want, IsLoopbackHost(tt.host))
		})
	}
}

// TestParse_Edges pins each end of the ranges Parse checks: the lowest and
// highest port, the first and last letters and digits of a host label, an
// empty authority before a percent-encoded path, and every spelling of a
// host whose last label a browser reads as an IPv4 number (WHATWG URL "ends
// in a number": decimal with any digit, 0x or 0X hex with any hex digit, a
// bare 0x).
func TestParse_Edges(t *testing.T) {
	for _, raw := range []string{
		"http://localhost:1/cb",
		"http://localhost:65535/cb",
		"https://z.example/cb",
		"https://Z.example/cb",
		"https://a.example/cb",
		"https://A.example/cb",
		"https://host09.example/cb",
		"myapp:///call%20back",
	} {
		_, err := Parse(raw)
		assert.NoError(t, err, raw)
	}
	for _, raw := range []string{
		"https://example.10/cb",
		"https://example.0/cb",
		"https://example.9/cb",
		"https://example.0x/cb",
		"https://example.0xa/cb",
		"https://example.0xf/cb",
		"https://example.0xA/cb",
		"https://example.0xF/cb",
		"https://example.0X7F/cb",
		"https://0X7F000001/cb",
	} {
		_, err := Parse(raw)
		assert.ErrorIs(t, err, errIPLiteral, raw)
	}
	_, err := Parse("http://localhost:65536/cb")
	assert.ErrorIs(t, err, errPort)
}
