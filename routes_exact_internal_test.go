package oauthproxy

import (
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/stretchr/testify/require"
)

// Every request must reach the handler, or get the answer (404, 405 with
// Allow, a redirect to the clean path), that a plain ServeMux with the same
// routes gives it.
func TestExactRoutes_RouteAsTheMuxDoes(t *testing.T) {
	routes := []struct{ method, path string }{
		{http.MethodGet, "/.well-known/oauth-authorization-server"},
		{http.MethodOptions, "/.well-known/oauth-authorization-server"},
		{http.MethodPost, "/oauth/token"},
		{http.MethodOptions, "/oauth/token"},
		{http.MethodGet, "/oauth/consent"},
		{http.MethodPost, "/oauth/consent"},
		{http.MethodGet, "/oauth/callback"},
		{http.MethodGet, "/base/oauth/authorize"},
	}
	exact, plain := newExactRoutes(), http.NewServeMux()
	for _, rt := range routes {
		name := rt.method + " " + rt.path
		h := http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { w.Header().Set("X-Route", name) })
		exact.handle(rt.method, rt.path, h)
		plain.Handle(name, h)
	}
	targets := []string{
		"/oauth/token", "/oauth/token/", "//oauth/token", "/oauth/./token", "/oauth/../oauth/token",
		"/oauth%2Ftoken", "/oauth/%74oken", "/OAUTH/token", "/oauth/consent", "/oauth/callback?code=1&state=2",
		"/base/oauth/authorize?x=1", "/oauth/authorize", "/.well-known/oauth-authorization-server",
		"/.well-known/oauth-authorization-server/base", "/", "/nope", "/oauth/token?x=%zz",
	}
	methods := []string{http.MethodGet, http.MethodHead, http.MethodPost, http.MethodPut, http.MethodOptions, http.MethodDelete}
	for _, target := range targets {
		for _, method := range methods {
			want, got := httptest.NewRecorder(), httptest.NewRecorder()
			plain.ServeHTTP(want, httptest.NewRequest(method, target, nil))
			exact.ServeHTTP(got, httptest.NewRequest(method, target, nil))
			require.Equal(t, want.Code, got.Code, "%s %s", method, target)
			for _, h := range []string{"X-Route", "Allow", "Location"} {
				require.Equal(t, want.Header().Get(h), got.Header().Get(h), "%s %s: %s", method, target, h)
			}
		}
	}
}
