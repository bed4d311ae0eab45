package httpx

import (
	"net/http"
	"slices"
	"strings"
)

// CORSPolicy is one set of CORS answers (Fetch standard, "CORS protocol",
// §3.2): which origins may read responses, what a preflight allows and
// which response headers a page may read. Credentials are never allowed
// (no Access-Control-Allow-Credentials): the callers send bearer tokens,
// and no cookie of the proxy is meant for another origin.
type CORSPolicy struct {
	// Origins may read responses; empty means any origin ("*").
	Origins []string
	// Methods and Headers answer Access-Control-Allow-Methods and
	// Access-Control-Allow-Headers in a preflight.
	Methods, Headers string
	// Expose answers Access-Control-Expose-Headers.
	Expose string
	// AnswerAllOptions answers every OPTIONS request here, preflight or
	// not; otherwise only preflights are answered and other OPTIONS
	// requests reach the handler.
	AnswerAllOptions bool
}

// OAuthCORS is the policy of the metadata, registration, token and
// revocation endpoints: any origin, every OPTIONS answered here (an OPTIONS
// that reached the endpoint would run it, by-passing whatever guards only
// the POST route, such as rate limits, S20).
var OAuthCORS = CORSPolicy{
	Methods:          "GET, POST, OPTIONS",
	Headers:          "Authorization, Content-Type, MCP-Protocol-Version",
	Expose:           "WWW-Authenticate",
	AnswerAllOptions: true,
}

// CORS applies OAuthCORS to h, so browser-based MCP clients can discover,
// register and redeem tokens. No cookies are involved on these endpoints, so
// a wildcard is safe.
func CORS(h http.Handler) http.Handler { return OAuthCORS.Handler(h) }

// Handler answers CORS preflights for h and adds the CORS response headers
// to what h writes. A preflight (an OPTIONS request with
// Access-Control-Request-Method, Fetch §3.2.2) never reaches h; one from an
// origin not in Origins gets 403 without any Access-Control-Allow-* header,
// so the browser refuses the request it announced.
func (c CORSPolicy) Handler(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hd := w.Header()
		preflight := r.Method == http.MethodOptions && r.Header.Get("Access-Control-Request-Method") != ""
		allowed := c.allow(hd, r.Header.Get("Origin"))
		if preflight && !allowed {
			w.WriteHeader(http.StatusForbidden)
			return
		}
		if preflight || (c.AnswerAllOptions && r.Method == http.MethodOptions) {
			hd.Set("Allow", c.Methods)
			hd.Set("Access-Control-Allow-Methods", c.Methods)
			hd.Set("Access-Control-Allow-Headers", c.Headers)
			hd.Set("Access-Control-Max-Age", "86400")
			w.WriteHeader(http.StatusNoContent)
			return
		}
		h.ServeHTTP(w, r)
	})
}

// allow sets Access-Control-Allow-Origin and Access-Control-Expose-Headers
// when origin may read the response, and reports whether it may. With an
// origin list, the answer depends on Origin, so caches are told (Vary,
// Fetch §3.2.5 "CORS protocol and HTTP caches").
func (c CORSPolicy) allow(hd http.Header, origin string) bool {
	allowOrigin := "*"
	if len(c.Origins) > 0 {
		addVary(hd, "Origin")
		if origin == "" || !slices.Contains(c.Origins, origin) {
			return false
		}
		allowOrigin = origin
	}
	SetHeaders(hd, "Access-Control-Allow-Origin", allowOrigin, "Access-Control-Expose-Headers", c.Expose)
	return true
}

// addVary adds name to the Vary header once, whatever else it lists.
func addVary(hd http.Header, name string) {
	for _, v := range hd.Values("Vary") {
		for f := range strings.SplitSeq(v, ",") {
			if strings.EqualFold(strings.TrimSpace(f), name) {
				return
			}
		}
	}
	hd.Add("Vary", name)
}
