package oauthproxy

import "net/http"

// exactRoutes is the proxy's router: an http.ServeMux, with the requests it
// would route by an exact match of a clean path and a method sent straight
// to their handler. Every route of the proxy is such a path, so the common
// request skips the mux's pattern walk (issue 16: eight requests a sign-in);
// anything else — HEAD, an unknown path or method, a path the mux would
// clean or redirect, one with escapes (RawPath set) — goes to the mux, which
// answers it as it always has (TestExactRoutes_RouteAsTheMuxDoes).
type exactRoutes struct {
	mux    *http.ServeMux
	byPath map[string]*methodHandlers
}

// methodHandlers are one path's handlers by method.
type methodHandlers struct{ get, post, options http.Handler }

func newExactRoutes() *exactRoutes {
	return &exactRoutes{mux: http.NewServeMux(), byPath: map[string]*methodHandlers{}}
}

// handle routes method and path (a clean path without wildcards) to h.
func (rt *exactRoutes) handle(method, path string, h http.Handler) {
	rt.mux.Handle(method+" "+path, h)
	m := rt.byPath[path]
	if m == nil {
		m = &methodHandlers{}
		rt.byPath[path] = m
	}
	switch method {
	case http.MethodGet:
		m.get = h
	case http.MethodPost:
		m.post = h
	case http.MethodOptions:
		m.options = h
	}
}

func (rt *exactRoutes) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	// RawPath is set only when the path has escapes that Path decodes
	// (%2F among them), which the mux matches segment by segment.
	if r.URL.RawPath == "" {
		if m := rt.byPath[r.URL.Path]; m != nil {
			var h http.Handler
			switch r.Method {
			case http.MethodGet:
				h = m.get
			case http.MethodPost:
				h = m.post
			case http.MethodOptions:
				h = m.options
			}
			if h != nil {
				h.ServeHTTP(w, r)
				return
			}
		}
	}
	rt.mux.ServeHTTP(w, r)
}
