package redirecturi

import (
	"errors"
	"net/url"
	"strings"
)

// Pattern is an allowed-redirect-URI pattern matched component by component on a parsed URL
// (DESIGN.md "Redirect-URI patterns"). Build one with ParsePattern; the zero value matches nothing.
//
//   - Scheme: equal, case-insensitive.
//   - Host: equal, case-insensitive; "*.example.com" matches exactly one extra leading label.
//   - Port: ":*" matches any port and ":8080" that port; with no port, a loopback pattern
//     matches any port and any other pattern only the scheme's default port.
//   - Path: equal, except that a "*" segment matches exactly one non-empty segment and a "*"
//     at the very end matches any rest ("/cb*" matches "/cb" and "/cb/x"). A loopback pattern
//     without a path matches any path; every other pattern must have one.
//   - Query: not constrained.
type Pattern struct {
	raw          string
	scheme       string
	host         string // lowercase, no brackets; for a wildcard host, the suffix after "*."
	wildcardHost bool
	port         string // "" when the pattern names none
	anyPort      bool
	segments     []string // the path split on "/"; nil when the pattern has no path
	prefixTail   bool     // the last segment ends in "*": a prefix of the rest of the path
	pathStar     bool     // the path has a wildcard of either kind
}

var (
	errPatternQuery    = errors.New("redirect URI pattern must not contain a query")
	errPatternHostStar = errors.New("redirect URI pattern may use * in the authority only as the whole port or as a leading host label followed by at least two more")
	errPatternPathStar = errors.New("redirect URI pattern may use * in the path only as a whole segment or at the very end")
	errPatternNoPath   = errors.New("redirect URI pattern needs a path unless its host is loopback; end it with /* to allow any path")
)

// ParsePattern parses an allowed-redirect-URI pattern. Apart from its wildcards it must pass
// the same rules as Parse (no userinfo, fragment or dangerous scheme, RFC 9700 §2.1).
func ParsePattern(s string) (Pattern, error) {
	if s == "" {
		return Pattern{}, errEmpty
	}
	if strings.Contains(s, "?") {
		return Pattern{}, errPatternQuery
	}
	p := Pattern{raw: s}
	scheme, rest, _ := strings.Cut(s, ":")
	authority, path := "", rest
	hasAuthority := strings.HasPrefix(rest, "//")
	if hasAuthority {
		authority, path = rest[2:], ""
		if i := strings.IndexByte(authority, '/'); i >= 0 {
			authority, path = authority[:i], authority[i:]
		}
	}

	// Replace each wildcard with a literal so Parse can check what remains.
	if host, ok := strings.CutSuffix(authority, ":*"); ok {
		authority, p.anyPort = host, true
	}
	if host, ok := strings.CutPrefix(authority, "*."); ok {
		authority, p.wildcardHost = "x."+host, true
	}
	if strings.Contains(authority, "*") {
		return Pattern{}, errPatternHostStar
	}
	concretePath, err := p.parsePath(path)
	if err != nil {
		return Pattern{}, err
	}
	concrete := scheme + ":" + concretePath
	if hasAuthority {
		concrete = scheme + "://" + authority + concretePath
	}
	u, err := Parse(concrete)
	if err != nil {
		return Pattern{}, err
	}

	p.scheme = u.Scheme
	p.host = strings.ToLower(u.Hostname())
	p.port = u.Port()
	if p.wildcardHost {
		p.host = strings.TrimPrefix(p.host, "x.")
		if !strings.Contains(p.host, ".") {
			return Pattern{}, errPatternHostStar
		}
	}
	if p.segments == nil && !IsLoopbackHost(p.host) {
		return Pattern{}, errPatternNoPath
	}
	return p, nil
}

// parsePath records the pattern's path segments and returns the path with its wildcards
// replaced by literals.
func (p *Pattern) parsePath(path string) (string, error) {
	if path == "" {
		return "", nil
	}
	p.segments = strings.Split(path, "/")
	concrete := make([]string, len(p.segments))
	last := len(p.segments) - 1
	for i, seg := range p.segments {
		switch n := strings.Count(seg, "*"); {
		case n == 0:
			concrete[i] = seg
		case seg == "*" && i < last:
			p.pathStar = true
			concrete[i] = "x"
		case n == 1 && i == last && strings.HasSuffix(seg, "*"):
			p.prefixTail, p.pathStar = true, true
			concrete[i] = strings.TrimSuffix(seg, "*")
		default:
			return "", errPatternPathStar
		}
	}
	return strings.Join(concrete, "/"), nil
}

// String returns the pattern as it was written.
func (p Pattern) String() string { return p.raw }

// Match reports whether u, a URL returned by Parse, matches the pattern.
func (p Pattern) Match(u *url.URL) bool {
	if p.raw == "" || u == nil || u.User != nil || u.Opaque != "" || u.Fragment != "" {
		return false
	}
	if !strings.EqualFold(u.Scheme, p.scheme) {
		return false
	}
	host := strings.ToLower(u.Hostname())
	if !p.matchHost(host) || !p.matchPort(u, host) {
		return false
	}
	return p.matchPath(u)
}

func (p Pattern) matchHost(host string) bool {
	if !p.wildcardHost {
		return host == p.host
	}
	label, ok := strings.CutSuffix(host, "."+p.host)
	return ok && label != "" && !strings.Contains(label, ".")
}

// matchPort compares effective ports, so "https://h/cb" and "https://h:443/cb" are the same
// URI (RFC 3986 §6.2.3).
func (p Pattern) matchPort(u *url.URL, host string) bool {
	switch {
	case p.anyPort:
		return true
	case p.port == "" && IsLoopbackHost(host):
		return true // RFC 8252 §7.3: the client picks its loopback port at run time
	}
	return effectivePort(p.scheme, p.port) == effectivePort(u.Scheme, u.Port())
}

func effectivePort(scheme, port string) string {
	if port != "" {
		return port
	}
	switch strings.ToLower(scheme) {
	case "http":
		return "80"
	case "https":
		return "443"
	}
	return ""
}

// matchPath compares the escaped path segment by segment. Dot segments and encoded slashes
// or backslashes never match a wildcard, so "/cb*" cannot be escaped with "/cb/../admin".
func (p Pattern) matchPath(u *url.URL) bool {
	if checkPath(u) != nil {
		return false
	}
	if p.segments == nil {
		return true // only loopback patterns may omit the path (ParsePattern)
	}
	path := u.EscapedPath()
	if path == "" {
		path = "/" // RFC 3986 §6.2.3: an empty path is "/" for http(s)
	}
	if p.pathStar && hasEncodedSeparator(path) {
		return false
	}
	segs := strings.Split(path, "/")
	fixed := len(p.segments)
	if p.prefixTail {
		fixed--
	}
	if len(segs) < len(p.segments) || (!p.prefixTail && len(segs) != len(p.segments)) {
		return false
	}
	for i := 0; i < fixed; i++ {
		want, got := p.segments[i], segs[i]
		if got != want && (want != "*" || got == "") {
			return false
		}
	}
	if !p.prefixTail {
		return true
	}
	rest := strings.Join(segs[fixed:], "/")
	return strings.HasPrefix(rest, strings.TrimSuffix(p.segments[fixed], "*"))
}

func hasEncodedSeparator(path string) bool {
	lower := strings.ToLower(path)
	return strings.Contains(lower, "%2f") || strings.Contains(lower, "%5c")
}

// DefaultPatterns returns the patterns used when none are configured: loopback only, any port
// and any path (RFC 8252 §7.3).
func DefaultPatterns() []Pattern {
	var ps []Pattern
	for _, s := range []string{"http://localhost", "http://127.0.0.1", "http://[::1]"} {
		p, err := ParsePattern(s)
		if err != nil {
			panic("redirecturi: bad default pattern " + s + ": " + err.Error())
		}
		ps = append(ps, p)
	}
	return ps
}

// Allowed reports whether u, a URL returned by Parse, matches any of patterns.
func Allowed(u *url.URL, patterns []Pattern) bool {
	for _, p := range patterns {
		if p.Match(u) {
			return true
		}
	}
	return false
}
