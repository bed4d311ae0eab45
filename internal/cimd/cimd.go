// Package cimd fetches and validates OAuth Client ID Metadata Documents
// (draft-ietf-oauth-client-id-metadata-document; MCP 2025-11-25 "Client ID Metadata
// Documents"): a client whose client_id is an https URL is not registered; the
// authorization server fetches that URL to learn the client's metadata.
//
// Fetching a URL chosen by an unauthenticated client is a server-side request forgery risk,
// so Fetcher follows no redirects, bounds time and size, and refuses to connect to loopback,
// private, link-local and other non-public addresses. The address check runs on the address
// actually dialed, after DNS resolution, so DNS rebinding cannot slip past it (SECURITY.md S17).
//
// So that a stream of client_ids cannot turn the server into a fetch amplifier, Fetcher also
// remembers failures for a while, shares one fetch among concurrent callers for the same URL,
// and caps the fetches in flight in total and per host (SECURITY.md S20).
//
// Every error this package returns wraps ErrInvalidDocument or ErrFetch, and its text is plain
// printable ASCII without quotes or backslashes, safe to send as an OAuth error_description
// (RFC 6749 section 5.2). Nothing from the fetched response is ever quoted in it.
package cimd

import (
	"errors"
	"fmt"
	"net/netip"
	"net/url"
	"strconv"
	"strings"
)

// maxURLLength is the longest client_id URL accepted, in bytes.
const maxURLLength = 2048

var (
	// ErrInvalidDocument wraps every problem with the client's own metadata: a client_id URL
	// that breaks the draft's rules, or a fetched document that is malformed or not allowed.
	// It is a permanent client error (invalid_client).
	ErrInvalidDocument = errors.New("invalid client metadata document")
	// ErrFetch wraps every failure to retrieve the document under this package's policy:
	// network and TLS errors, timeouts, refused addresses, redirects, non-200 statuses,
	// wrong content types and oversized bodies.
	ErrFetch = errors.New("client metadata document could not be fetched")
	// ErrBusy is wrapped, together with ErrFetch, when no fetch was attempted because too
	// many were already running (Fetcher.MaxConcurrentFetches, Fetcher.MaxFetchesPerHost).
	// It says nothing about the client and is never cached: retry after Fetcher.RetryAfter.
	ErrBusy = errors.New("too many client metadata document fetches")
)

// cimdError carries a message safe for error_description, the sentinel it belongs to and,
// for fetch failures, the underlying cause (reachable with errors.Is and errors.As, but never
// part of Error, since it may name addresses or echo remote data).
type cimdError struct {
	kind  error
	msg   string
	cause error
}

func (e *cimdError) Error() string { return e.msg }

func (e *cimdError) Unwrap() []error {
	if e.cause == nil {
		return []error{e.kind}
	}
	return []error{e.kind, e.cause}
}

func invalid(format string, args ...any) error {
	return &cimdError{kind: ErrInvalidDocument, msg: fmt.Sprintf(format, args...)}
}

func fetchFailed(cause error, format string, args ...any) error {
	return &cimdError{kind: ErrFetch, msg: fmt.Sprintf(format, args...), cause: cause}
}

// Errors returned by ValidateClientIDURL.
var (
	errURLScheme     = invalid("client_id URL must use the https scheme")
	errURLTooLong    = invalid("client_id URL is longer than %d bytes", maxURLLength)
	errURLCharacters = invalid("client_id URL contains whitespace, control or non-ASCII characters")
	errURLBackslash  = invalid("client_id URL contains a backslash")
	errURLSyntax     = invalid("client_id URL is not a valid URL")
	errURLFragment   = invalid("client_id URL must not contain a fragment")
	errURLUserinfo   = invalid("client_id URL must not contain a username or password")
	errURLHost       = invalid("client_id URL must have a valid host name or IP address")
	errURLPort       = invalid("client_id URL port must be a number from 1 to 65535")
	errURLPath       = invalid("client_id URL must have a path component other than /")
	errURLDotSegment = invalid("client_id URL path must not contain . or .. segments")
	errURLQuery      = invalid("client_id URL must not contain a query")
)

// IsClientIDURL reports whether clientID looks like a CIMD URL (an https URL) — cheap, no fetch.
// It does not validate the URL: a true result means "treat this client_id as a metadata
// document URL", and ValidateClientIDURL (or Fetch) then decides whether it is acceptable.
func IsClientIDURL(clientID string) bool {
	const prefix = "https://"
	return len(clientID) > len(prefix) && strings.EqualFold(clientID[:len(prefix)], prefix)
}

// ValidateClientIDURL applies the draft's URL rules: https scheme, a host, a path component
// (not empty, not "/"), no fragment, no userinfo, no "." or ".." path segments, and at most
// 2048 bytes. The draft says the URL SHOULD NOT include a query; this package refuses one.
//
// The URL must be written exactly as https://host[:port]/path: the scheme in lower case
// (client_id is compared as a string, so one spelling only), printable ASCII, a host that is a
// DNS name or a canonical IP literal (never percent-encoded), and dot segments refused plain
// or percent-encoded. Whether the host's addresses may be contacted is decided at dial time by
// Fetch, not here. Errors wrap ErrInvalidDocument.
func ValidateClientIDURL(clientID string) (*url.URL, error) {
	if !strings.HasPrefix(clientID, "https://") {
		return nil, errURLScheme
	}
	if len(clientID) > maxURLLength {
		return nil, errURLTooLong
	}
	for i := 0; i < len(clientID); i++ {
		c := clientID[i]
		if c <= ' ' || c >= 0x7f {
			return nil, errURLCharacters
		}
		if c == '\\' { // WHATWG URL parsers read '\' as '/' in https URLs
			return nil, errURLBackslash
		}
	}
	// RFC 3986 section 3.5: '#' can only start a fragment, so a bare trailing '#' is one too.
	if strings.Contains(clientID, "#") {
		return nil, errURLFragment
	}
	u, err := url.Parse(clientID)
	if err != nil {
		return nil, errURLSyntax
	}
	if u.Scheme != "https" || u.Opaque != "" {
		return nil, errURLScheme
	}
	if u.User != nil {
		return nil, errURLUserinfo
	}
	if err := checkAuthority(clientID, u); err != nil {
		return nil, err
	}
	if u.RawQuery != "" || u.ForceQuery {
		return nil, errURLQuery
	}
	if u.Path == "" || u.Path == "/" {
		return nil, errURLPath
	}
	// u.Path is decoded, so %2e%2e is caught as "..". Raw segments are checked too, in case
	// an encoded slash (%2F) would otherwise glue a dot segment to its neighbour.
	for _, p := range []string{u.Path, u.EscapedPath()} {
		for _, seg := range strings.Split(p, "/") {
			if seg == "." || seg == ".." {
				return nil, errURLDotSegment
			}
		}
	}
	return u, nil
}

// checkAuthority validates host and port: DNS-style labels or a canonical IP literal, never
// percent-encoded (RFC 3986 section 3.2.2), and a port from 1 to 65535 (section 3.2.3).
func checkAuthority(raw string, u *url.URL) error {
	authority := strings.TrimPrefix(raw, "https://")
	if i := strings.IndexAny(authority, "/?#"); i >= 0 {
		authority = authority[:i]
	}
	if strings.Contains(authority, "%") {
		return errURLHost
	}
	host := u.Hostname()
	if host == "" {
		return errURLHost
	}
	if strings.HasPrefix(u.Host, "[") {
		a, err := netip.ParseAddr(host)
		if err != nil || !a.Is6() || a.Zone() != "" || a.String() != strings.ToLower(host) {
			return errURLHost
		}
	} else if err := checkHostName(host); err != nil {
		return err
	}
	if strings.HasSuffix(u.Host, ":") {
		return errURLPort
	}
	if p := u.Port(); p != "" {
		n, err := strconv.Atoi(p)
		if err != nil || n < 1 || n > 65535 || p[0] == '0' {
			return errURLPort
		}
	}
	return nil
}

// checkHostName accepts dot-separated labels of letters, digits, '-' and '_'. A host whose last
// label is numeric is read as IPv4 by URL parsers (2130706433, 0x7f000001 and 127.1 all mean
// 127.0.0.1), so it must be a canonical dotted quad.
func checkHostName(host string) error {
	labels := strings.Split(host, ".")
	for _, l := range labels {
		if l == "" || len(l) > 63 {
			return errURLHost
		}
		for i := 0; i < len(l); i++ {
			c := l[i]
			if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_') {
				return errURLHost
			}
		}
	}
	if looksNumeric(labels[len(labels)-1]) {
		a, err := netip.ParseAddr(host)
		if err != nil || !a.Is4() {
			return errURLHost
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
		if !(c >= '0' && c <= '9' || isHex && (c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F')) {
			return false
		}
	}
	return true
}
