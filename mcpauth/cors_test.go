package mcpauth_test

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/modelcontextprotocol/go-sdk/auth"
	"github.com/oauthproxy-go/oauthproxy/mcpauth"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// Both documented go-sdk stacks give browser clients the protected
// resource's CORS answers (Fetch standard CORS protocol): p.RequireBearer
// outside has them built in; the go-sdk middleware alone gets them from
// p.CORS around it.
func TestCORS_GoSDKStacks(t *testing.T) {
	e := newEnv(t, nil)
	tok, _ := e.issueToken(t)
	var reached atomic.Int32
	h := http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { reached.Add(1) })
	verify := auth.RequireBearerToken(mcpauth.TokenVerifier(e.proxy), mcpauth.RequireBearerTokenOptions(e.proxy))
	stacks := map[string]http.Handler{
		"RequireBearer outside":   e.proxy.RequireBearer(verify(h)),
		"go-sdk middleware alone": e.proxy.CORS(verify(h)),
	}
	for name, stack := range stacks {
		t.Run(name, func(t *testing.T) {
			reached.Store(0)
			do := func(method, token string, header ...string) *httptest.ResponseRecorder {
				r := httptest.NewRequest(method, e.url+"/mcp", strings.NewReader(`{}`))
				r.Header.Set("Origin", "http://localhost:6274")
				if token != "" {
					r.Header.Set("Authorization", "Bearer "+token)
				}
				for i := 0; i+1 < len(header); i += 2 {
					r.Header.Set(header[i], header[i+1])
				}
				w := httptest.NewRecorder()
				stack.ServeHTTP(w, r)
				assert.Equal(t, "*", w.Header().Get("Access-Control-Allow-Origin"), "%s %d", method, w.Code)
				assert.Contains(t, w.Header().Get("Access-Control-Expose-Headers"), "WWW-Authenticate")
				assert.Contains(t, w.Header().Get("Access-Control-Expose-Headers"), "Mcp-Session-Id")
				assert.Empty(t, w.Header().Get("Access-Control-Allow-Credentials"))
				return w
			}
			w := do(http.MethodOptions, "", "Access-Control-Request-Method", "POST", "Access-Control-Request-Headers", "authorization")
			require.Equal(t, http.StatusNoContent, w.Code, "the preflight needs no token")
			assert.Zero(t, reached.Load(), "the preflight never reaches the MCP handler")

			w = do(http.MethodPost, "")
			require.Equal(t, http.StatusUnauthorized, w.Code)
			assert.Contains(t, w.Header().Get("WWW-Authenticate"), "resource_metadata=")

			w = do(http.MethodPost, tok)
			require.Equal(t, http.StatusOK, w.Code)
			assert.EqualValues(t, 1, reached.Load())
		})
	}
}
