package redirecturi

import "strings"

// Equal reports whether requested, the redirect_uri sent to /authorize, matches registered.
// Both must pass Parse. They must be byte-identical (OAuth 2.1 §4.1.1, RFC 3986 §6.2.1),
// except that the port of an http loopback URI may differ (RFC 8252 §7.3).
func Equal(registered, requested string) bool {
	reg, err := Parse(registered)
	if err != nil {
		return false
	}
	req, err := Parse(requested)
	if err != nil {
		return false
	}
	if registered == requested {
		return true
	}
	// Parse admits http only with a loopback host, so both are loopback here.
	if reg.Scheme != "http" || req.Scheme != "http" {
		return false
	}
	return withoutPort(registered) == withoutPort(requested)
}

// withoutPort removes the port from raw, a URI that passed Parse with a host, so its
// userinfo is empty and its authority is not percent-encoded.
func withoutPort(raw string) string {
	authority := rawAuthority(raw)
	start := strings.Index(raw, "//") + 2
	host := authority
	if i := strings.LastIndexByte(authority, ':'); i > strings.LastIndexByte(authority, ']') {
		host = authority[:i]
	}
	return raw[:start] + host + raw[start+len(authority):]
}
