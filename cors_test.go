package oauthproxy_test

// CORS of the protected resource (Fetch standard, "CORS protocol"): what a
// browser-based MCP client on another origin needs from RequireBearer and
// Proxy.CORS. e2e/browser_client_test.go runs the same in Chromium.

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/oauthproxy-go/oauthproxy"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

const pageOrigin = "http://localhost:6274" // the MCP Inspector's origin

// corsTarget is a protected endpoint whose handler counts what reaches it.
type corsTarget struct {
	e       *env
	reached atomic.Int32
	mcp     http.Handler // RequireBearer(h)
	admin   http.Handler // RequireBearer(h, "admin")
	plain   http.Handler // p.CORS(h), no bearer check
}

func newCORSTarget(t *testing.T, origins ...string) *corsTarget {
	t.Helper()
	ct := &corsTarget{e: newEnv(t, withConfig(func(c *oauthproxy.Config) { c.ResourceAllowedOrigins = origins }))}
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ct.reached.Add(1)
		w.Header().Set("Mcp-Session-Id", "session-1")
		w.WriteHeader(http.StatusOK)
	})
	ct.mcp = ct.e.proxy.RequireBearer(h)
	ct.admin = ct.e.proxy.RequireBearer(h, "admin")
	ct.plain = ct.e.proxy.CORS(h)
	return ct
}

// accessToken signs in a client and returns its access token.
func (ct *corsTarget) accessToken() string {
	ct.e.t.Helper()
	c := ct.e.register("none")
	code, verifier := ct.e.code(c)
	res := ct.e.exchange(c, code, verifier)
	require.Equal(ct.e.t, http.StatusOK, res.Status, res.Body)
	return res.str("access_token")
}

func serve(h http.Handler, method, origin, token string, header ...string) *httptest.ResponseRecorder {
	r := httptest.NewRequest(method, "http://127.0.0.1/mcp", strings.NewReader(`{}`))
	if origin != "" {
		r.Header.Set("Origin", origin)
	}
	if token != "" {
		r.Header.Set("Authorization", "Bearer "+token)
	}
	for i := 0; i+1 < len(header); i += 2 {
		r.Header.Set(header[i], header[i+1])
	}
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	return w
}

// preflight is the OPTIONS request a browser sends before a POST with a
// bearer token and JSON (Fetch §3.2.2); it never carries the token.
func preflight(h http.Handler, origin string) *httptest.ResponseRecorder {
	return serve(h, http.MethodOptions, origin, "",
		"Access-Control-Request-Method", "POST",
		"Access-Control-Request-Headers", "authorization,content-type,mcp-protocol-version,mcp-session-id")
}

// requireCORSAnswer checks that allowOrigin may read the answer and the
// headers an MCP client reads, and that credentials are never allowed.
func requireCORSAnswer(t *testing.T, w *httptest.ResponseRecorder, allowOrigin string) {
	t.Helper()
	assert.Equal(t, allowOrigin, w.Header().Get("Access-Control-Allow-Origin"))
	expose := w.Header().Get("Access-Control-Expose-Headers")
	for _, name := range []string{"WWW-Authenticate", "Mcp-Session-Id", "Mcp-Protocol-Version"} {
		assert.Contains(t, expose, name, "exposed to the page")
	}
	assert.Empty(t, w.Header().Values("Access-Control-Allow-Credentials"), "bearer tokens need no credentials")
}

func TestResourceCORS_PreflightNeedsNoTokenAndNeverReachesTheHandler(t *testing.T) {
	for _, tc := range []struct {
		name    string
		origins []string
		want    string
	}{
		{"any origin", nil, "*"},
		{"listed origin", []string{"https://app.example.com", pageOrigin}, pageOrigin},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ct := newCORSTarget(t, tc.origins...)
			for name, h := range map[string]http.Handler{"RequireBearer": ct.mcp, "RequireBearer with scope": ct.admin, "CORS": ct.plain} {
				w := preflight(h, pageOrigin)
				require.Equal(t, http.StatusNoContent, w.Code, name)
				requireCORSAnswer(t, w, tc.want)
				assert.Equal(t, "GET, POST, DELETE", w.Header().Get("Access-Control-Allow-Methods"), name)
				allowed := w.Header().Get("Access-Control-Allow-Headers")
				for _, hdr := range []string{"Authorization", "Content-Type", "Mcp-Protocol-Version", "Mcp-Session-Id", "Last-Event-ID"} {
					assert.Contains(t, allowed, hdr, name)
				}
				assert.Empty(t, w.Header().Get("WWW-Authenticate"), "%s: a preflight is not challenged", name)
			}
			assert.Zero(t, ct.reached.Load(), "no preflight reached the MCP handler")

			// An OPTIONS without Access-Control-Request-Method is no
			// preflight: it is an ordinary request, and needs a token.
			w := serve(ct.mcp, http.MethodOptions, pageOrigin, "")
			assert.Equal(t, http.StatusUnauthorized, w.Code)
			requireCORSAnswer(t, w, tc.want)
		})
	}
}

func TestResourceCORS_AnswersCarryTheHeaders(t *testing.T) {
	ct := newCORSTarget(t)
	token := ct.accessToken()

	w := serve(ct.mcp, http.MethodPost, pageOrigin, "")
	require.Equal(t, http.StatusUnauthorized, w.Code)
	assert.Contains(t, w.Header().Get("WWW-Authenticate"), `resource_metadata="`)
	requireCORSAnswer(t, w, "*")

	w = serve(ct.mcp, http.MethodPost, pageOrigin, "not-a-token")
	require.Equal(t, http.StatusUnauthorized, w.Code)
	assert.Contains(t, w.Header().Get("WWW-Authenticate"), `error="invalid_token"`)
	requireCORSAnswer(t, w, "*")

	w = serve(ct.admin, http.MethodPost, pageOrigin, token)
	require.Equal(t, http.StatusForbidden, w.Code)
	assert.Contains(t, w.Header().Get("WWW-Authenticate"), `error="insufficient_scope"`)
	requireCORSAnswer(t, w, "*")

	for _, method := range []string{http.MethodPost, http.MethodGet, http.MethodDelete} {
		w = serve(ct.mcp, method, pageOrigin, token)
		require.Equal(t, http.StatusOK, w.Code, method)
		requireCORSAnswer(t, w, "*")
	}
	assert.EqualValues(t, 3, ct.reached.Load())
	assert.Empty(t, w.Header().Values("Vary"), "with any origin the answer does not depend on Origin")

	// Proxy.CORS alone gives the same headers.
	w = serve(ct.plain, http.MethodPost, pageOrigin, "")
	require.Equal(t, http.StatusOK, w.Code)
	requireCORSAnswer(t, w, "*")
}

func TestResourceCORS_OriginList(t *testing.T) {
	ct := newCORSTarget(t, pageOrigin)
	token := ct.accessToken()

	t.Run("listed origin is echoed", func(t *testing.T) {
		for _, w := range []*httptest.ResponseRecorder{
			serve(ct.mcp, http.MethodPost, pageOrigin, ""),
			serve(ct.admin, http.MethodPost, pageOrigin, token),
			serve(ct.mcp, http.MethodPost, pageOrigin, token),
		} {
			requireCORSAnswer(t, w, pageOrigin)
			assert.Equal(t, []string{"Origin"}, w.Header().Values("Vary"))
		}
	})

	t.Run("other origins cannot read", func(t *testing.T) {
		before := ct.reached.Load()
		for _, origin := range []string{"http://evil.example", "http://localhost:6275", "http://LOCALHOST:6274", "null"} {
			w := preflight(ct.mcp, origin)
			assert.Equal(t, http.StatusForbidden, w.Code, origin)
			for name := range w.Header() {
				assert.False(t, strings.HasPrefix(name, "Access-Control-"), "%s: %s sent to a refused origin", origin, name)
			}
			assert.Equal(t, []string{"Origin"}, w.Header().Values("Vary"))
			assert.Equal(t, before, ct.reached.Load(), "%s: the refused preflight never reached the handler", origin)

			// A request without preflight still gets its answer, which the
			// browser keeps from the page: no Access-Control-Allow-Origin.
			w = serve(ct.mcp, http.MethodPost, origin, "")
			assert.Equal(t, http.StatusUnauthorized, w.Code)
			assert.Empty(t, w.Header().Get("Access-Control-Allow-Origin"), origin)
			assert.Equal(t, []string{"Origin"}, w.Header().Values("Vary"))
		}
	})

	t.Run("no Origin, no CORS", func(t *testing.T) {
		w := serve(ct.mcp, http.MethodPost, "", token)
		assert.Equal(t, http.StatusOK, w.Code, "server-to-server clients send no Origin")
		assert.Empty(t, w.Header().Get("Access-Control-Allow-Origin"))
		assert.Equal(t, []string{"Origin"}, w.Header().Values("Vary"))
	})

	t.Run("wrapped twice, said once", func(t *testing.T) {
		w := serve(ct.e.proxy.CORS(ct.mcp), http.MethodPost, pageOrigin, token)
		requireCORSAnswer(t, w, pageOrigin)
		assert.Equal(t, []string{"Origin"}, w.Header().Values("Vary"))
	})
}

func TestNew_ResourceAllowedOriginsValidated(t *testing.T) {
	cfg := validConfig()
	cfg.ResourceAllowedOrigins = []string{"https://app.example.com", "http://localhost:6274", "http://[::1]:8080"}
	p, err := oauthproxy.New(cfg)
	require.NoError(t, err)
	p.Destroy()

	bad := []string{
		"app.example.com",              // no scheme
		"https://app.example.com/",     // path
		"https://app.example.com/mcp",  // path
		"https://app.example.com?x=1",  // query
		"https://app.example.com#top",  // fragment
		"ftp://app.example.com",        // not http(s)
		"https://user@app.example.com", // userinfo
		"https://App.example.com",      // browsers send lower case
		"https://app.example.com:443",  // browsers omit the default port
		"*",                            // leave the list empty for any origin
		"https://",                     // no host
	}
	cfg.ResourceAllowedOrigins = bad
	cfg.UpstreamClientID = "" // a second, unrelated problem
	_, err = oauthproxy.New(cfg)
	require.Error(t, err)
	for _, o := range bad {
		assert.Contains(t, err.Error(), `"`+o+`"`, "every bad origin is reported at once")
	}
	assert.Contains(t, err.Error(), "UpstreamClientID is required")
}

// New keeps its own copy of ResourceAllowedOrigins: changing the caller's
// slice afterwards changes nothing.
func TestResourceCORS_OriginListIsCopied(t *testing.T) {
	origins := []string{pageOrigin}
	ct := newCORSTarget(t, origins...)
	origins[0] = "http://evil.example"
	assert.Equal(t, pageOrigin, preflight(ct.mcp, pageOrigin).Header().Get("Access-Control-Allow-Origin"))
	assert.Equal(t, http.StatusForbidden, preflight(ct.mcp, "http://evil.example").Code)
}
