package oauthproxy

import (
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"

	"github.com/oauthproxy-go/oauthproxy/internal/httpx"
)

// The CORS answers of the protected resource (Fetch standard, "CORS
// protocol"): what a browser-based MCP client sends with the streamable HTTP
// transport, and what it must read back — the RFC 6750 §3 / RFC 9728 §5.1
// challenge for discovery, the session and the negotiated version.
const (
	resourceCORSMethods = "GET, POST, DELETE"
	resourceCORSHeaders = "Authorization, Content-Type, Mcp-Protocol-Version, Mcp-Session-Id, Last-Event-ID, Mcp-Method, Mcp-Name"
	resourceCORSExpose  = "WWW-Authenticate, Mcp-Session-Id, Mcp-Protocol-Version"
)

// CORS lets browser-based MCP clients on other origins call h, the protected
// MCP endpoint, with the CORS answers RequireBearer already gives: a preflight
// (OPTIONS with Access-Control-Request-Method) is answered here without a
// token and never reaches h; every other answer, 2xx, 401 or 403, carries
// Access-Control-Allow-Origin and exposes WWW-Authenticate, Mcp-Session-Id
// and Mcp-Protocol-Version. Origins are those of ResourceAllowedOrigins (any
// by default); credentials are never allowed, bearer tokens need no cookies.
//
// Use it where RequireBearer is not the outermost handler, for instance
// around the go-sdk's auth.RequireBearerToken used alone.
func (p *Proxy) CORS(h http.Handler) http.Handler {
	return p.cfg.resourceCORS.Handler(h)
}

// resourceCORSDefaults checks ResourceAllowedOrigins and builds the
// protected resource's CORS policy. An origin is compared with the request's
// Origin header as a string (Fetch §3.2.5), so it must be written as a
// browser serializes it: scheme://host[:port], lower case, no path and no
// default port.
func (s *settings) resourceCORSDefaults() error {
	s.ResourceAllowedOrigins = slices.Clone(s.ResourceAllowedOrigins)
	var errs []error
	for _, o := range s.ResourceAllowedOrigins {
		if err := checkOrigin(o); err != nil {
			errs = append(errs, fmt.Errorf("ResourceAllowedOrigins: %w", err))
		}
	}
	s.resourceCORS = httpx.CORSPolicy{
		Origins: s.ResourceAllowedOrigins,
		Methods: resourceCORSMethods,
		Headers: resourceCORSHeaders,
		Expose:  resourceCORSExpose,
	}
	return errors.Join(errs...)
}

// checkOrigin accepts a serialized origin (RFC 6454 §6.1): http or https,
// a host, an optional port, nothing else.
func checkOrigin(o string) error {
	u, err := url.Parse(o)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.Hostname() == "" {
		return fmt.Errorf("%q is not an origin (scheme://host[:port])", o)
	}
	if u.User != nil || u.Path != "" || u.RawQuery != "" || u.ForceQuery || u.Fragment != "" || strings.HasSuffix(o, "#") {
		return fmt.Errorf("origin %q must be only scheme://host[:port], without path, query or fragment", o)
	}
	if o != strings.ToLower(o) || strings.HasSuffix(o, ":") ||
		(u.Scheme == "http" && u.Port() == "80") || (u.Scheme == "https" && u.Port() == "443") {
		return fmt.Errorf("origin %q must be written as browsers send it: lower case, without the default port", o)
	}
	return nil
}
