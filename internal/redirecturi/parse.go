// Package redirecturi validates OAuth redirect URIs for RFC 7591 registration and /authorize.
// Every check works on the parsed URL (SECURITY.md S01), never on the raw string.
package redirecturi

import (
	"errors"
	"fmt"
	"net/netip"
	"net/url"
	"strconv"
	"strings"
)

// MaxLength is the longest redirect URI accepted, in bytes.
const MaxLength = 2048

// Errors returned by Parse. Their text names the rule that failed and is safe to send as an
// error_description (RFC 6749 §5.2 allows only printable ASCII without '"' and '\').
var (
	errEmpty        = errors.New("redirect URI is empty")
	errTooLong      = fmt.Errorf("redirect URI is longer than %d bytes", MaxLength)
	errCharacters   = errors.New("redirect URI contains whitespace, control or non-ASCII characters (RFC 3986 section 2)")
	errBackslash    = errors.New("redirect URI contains a backslash (RFC 3986 section 2)")
	errUnencoded    = errors.New("redirect URI contains a character that must be percent-encoded (RFC 3986 section 2)")
	errSyntax       = errors.New("redirect URI is not a valid URI (RFC 3986 section 3)")
	errNotAbsolute  = errors.New("redirect URI must be absolute (OAuth 2.1 section 2.3.1)")
	errOpaque       = errors.New("redirect URI must be hierarchical, as scheme:/path or scheme://host/path (RFC 8252 section 7.1)")
	errFragment     = errors.New("redirect URI must not contain a fragment (OAuth 2.1 section 2.3.1)")
	errUserinfo     = errors.New("redirect URI must not contain userinfo (RFC 9700 section 2.1)")
	errScheme       = errors.New("redirect URI scheme is not allowed (RFC 9700 section 4.1)")
	errHTTPLoopback = errors.New("http redirect URIs are allowed only for loopback hosts (OAuth 2.1 section 2.3.1, RFC 8252 section 7.3)")
	errHTTPSHost    = errors.New("https redirect URI must have a host (RFC 3986 section 3.2.2)")
	errEmptyURI     = errors.New("redirect URI must have a host or a path (RFC 8252 section 7.1)")
	errPercentHost  = errors.New("redirect URI host must not be percent-encoded")
	errHost         = errors.New("redirect URI host contains invalid characters (RFC 3986 section 3.2.2)")
	errIPLiteral    = errors.New("redirect URI host is not a canonical IP address")
	errPort         = errors.New("redirect URI port must be a number from 1 to 65535 (RFC 3986 section 3.2.3)")
	errDotSegment   = errors.New("redirect URI path must not contain . or .. segments (RFC 3986 section 5.2.4)")
)

// dangerousSchemes run code or read local data in the browser instead of navigating (RFC 9700 §4.1).
var dangerousSchemes = map[string]bool{
	"javascript": true, "data": true, "file": true, "vbscript": true, "blob": true, "about": true,
}

// Parse checks the rules every redirect URI must pass (OAuth 2.1 §2.3.1, RFC 9700 §2.1,
// RFC 8252) and returns the parsed URL; whether its scheme and host are allowed is up to Allowed.
func Parse(raw string) (*url.URL, error) {
	if raw == "" {
		return nil, errEmpty
	}
	if len(raw) > MaxLength {
		return nil, errTooLong
	}
	if err := checkCharacters(raw); err != nil {
		return nil, err
	}
	// RFC 3986 §3.5: '#' can only start a fragment, so a bare trailing '#' is one too.
	if strings.Contains(raw, "#") {
		return nil, errFragment
	}
	u, err := url.Parse(raw)
	if err != nil {
		return nil, errSyntax
	}
	if u.Scheme == "" {
		return nil, errNotAbsolute
	}
	if dangerousSchemes[u.Scheme] { // url.Parse lowercases the scheme
		return nil, errScheme
	}
	if u.Opaque != "" {
		return nil, errOpaque
	}
	if u.User != nil {
		return nil, errUserinfo
	}
	if err := checkAuthority(raw, u); err != nil {
		return nil, err
	}
	if err := checkPath(u); err != nil {
		return nil, err
	}
	switch u.Scheme {
	case "http":
		if !IsLoopbackHost(u.Hostname()) {
			return nil, errHTTPLoopback
		}
	case "https":
		if u.Host == "" {
			return nil, errHTTPSHost
		}
	default:
		if u.Host == "" && u.Path == "" {
			return nil, errEmptyURI
		}
	}
	return u, nil
}

// checkCharacters rejects anything outside printable ASCII: RFC 3986 §2 URIs are ASCII, and
// browsers strip or reinterpret whitespace and control characters.
func checkCharacters(raw string) error {
	for i := 0; i < len(raw); i++ {
		c := raw[i]
		if c <= ' ' || c >= 0x7f {
			return errCharacters
		}
		if c == '\\' { // browsers read '\' as '/' in http(s) URLs (WHATWG URL)
			return errBackslash
		}
		// RFC 3986 §2 has no place for these unencoded; raw, they are markup
		// or quoting wherever the URI is echoed (S21).
		if strings.IndexByte(`"<>^{|}`+"`", c) >= 0 {
			return errUnencoded
		}
	}
	return nil
}

// checkAuthority validates host and port: plain DNS-style labels or a canonical IP literal,
// never percent-encoded (RFC 3986 §3.2.2), and a port from 1 to 65535 (§3.2.3).
func checkAuthority(raw string, u *url.URL) error {
	if strings.Contains(rawAuthority(raw), "%") {
		return errPercentHost
	}
	if u.Host == "" {
		return nil
	}
	if err := checkHost(u.Host, u.Hostname()); err != nil {
		return err
	}
	if strings.HasSuffix(u.Host, ":") {
		return errPort
	}
	if p := u.Port(); p != "" {
		n, err := strconv.Atoi(p)
		if err != nil || n < 1 || n > 65535 {
			return errPort
		}
	}
	return nil
}

// rawAuthority returns the authority component as written, before url.Parse decodes it.
func rawAuthority(raw string) string {
	_, rest, _ := strings.Cut(raw, ":")
	rest, ok := strings.CutPrefix(rest, "//")
	if !ok {
		return ""
	}
	if i := strings.IndexAny(rest, "/?#"); i >= 0 {
		rest = rest[:i]
	}
	return rest
}

// checkHost accepts a bracketed canonical IPv6 address, a canonical dotted-quad IPv4 address,
// or dot-separated labels of letters, digits, '-' and '_' (RFC 3986 §3.2.2 reg-name, ASCII).
func checkHost(hostport, host string) error {
	if strings.HasPrefix(hostport, "[") {
		a, err := netip.ParseAddr(host)
		if err != nil || !a.Is6() || a.Zone() != "" || a.String() != strings.ToLower(host) {
			return errIPLiteral
		}
		return nil
	}
	labels := strings.Split(host, ".")
	for _, l := range labels {
		if l == "" {
			return errHost
		}
		for i := 0; i < len(l); i++ {
			if c := l[i]; !isAlnum(c) && c != '-' && c != '_' {
				return errHost
			}
		}
	}
	// A browser reads a host whose last label is a number as IPv4 (WHATWG URL "ends in a
	// number"), so 2130706433, 0x7f000001 and 127.1 all mean 127.0.0.1: allow one spelling only.
	if looksNumeric(labels[len(labels)-1]) {
		a, err := netip.ParseAddr(host)
		if err != nil || !a.Is4() {
			return errIPLiteral
		}
	}
	return nil
}

func looksNumeric(label string) bool {
	digits, isHex := label, false
	if len(label) >= 2 && label[0] == '0' && (label[1] == 'x' || label[1] == 'X') {
		digits, isHex = label[2:], true
	}
	for i := 0; i < len(digits); i++ {
		c := digits[i]
		isDigit := c >= '0' && c <= '9'
		isHexLetter := isHex && (c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F')
		if !isDigit && !isHexLetter {
			return false
		}
	}
	return true
}

func isAlnum(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9'
}

// checkPath rejects dot segments, plain or percent-encoded: the browser removes them
// (RFC 3986 §5.2.4), so the URI would lead somewhere other than what was checked.
func checkPath(u *url.URL) error {
	for _, seg := range strings.Split(u.Path, "/") {
		if seg == "." || seg == ".." {
			return errDotSegment
		}
	}
	return nil
}

// IsLoopbackHost reports whether host (without port; IPv6 with or without brackets) is
// "localhost", a canonical 127.0.0.0/8 address or ::1 (RFC 8252 §7.3, §8.3). IPv4-mapped
// IPv6 forms such as ::ffff:127.0.0.1 are not loopback here: one spelling per address.
func IsLoopbackHost(host string) bool {
	if strings.HasPrefix(host, "[") && strings.HasSuffix(host, "]") {
		return host == "[::1]"
	}
	if host == "::1" || strings.EqualFold(host, "localhost") {
		return true
	}
	a, err := netip.ParseAddr(host)
	return err == nil && a.Is4() && a.IsLoopback()
}
