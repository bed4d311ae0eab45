package abuse

import (
	"context"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/oauthproxy-go/oauthproxy/internal/httpx"
)

// Every kind builds requests the proxy reads whole — a request line under
// Go's 1 MiB header limit, a body under the 1 MiB cap unless the request
// is meant to exceed it — and the kinds that are about size come close to
// those limits: a run that silently sent small requests would measure
// nothing.
func TestKindsBuildMaxSizeRequests(t *testing.T) {
	a := newAttack(context.Background(), "http://127.0.0.1:1", "client-id", "https://127.0.0.1:2")
	a.noteTxn("http://127.0.0.1:1/oauth/consent?txn=real-transaction")
	biggest := map[string]int{}
	for _, k := range Kinds {
		for n := range 12 { // every variant of every kind
			req, err := k.build(a, n)
			require.NoError(t, err, k.Name)
			size := len(req.URL.String())
			if req.Body != nil {
				body, err := io.ReadAll(req.Body)
				require.NoError(t, err)
				size = len(body)
				if k.Name == "register-oversize" && n%6 == 5 {
					assert.Greater(t, size, httpx.MaxBodySize, "%s/%d is past the body cap", k.Name, n)
					continue
				}
				assert.LessOrEqual(t, size, httpx.MaxBodySize, "%s/%d", k.Name, n)
			} else {
				assert.Less(t, size, http.DefaultMaxHeaderBytes, "%s/%d", k.Name, n)
			}
			biggest[k.Name] = max(biggest[k.Name], size)
			assert.Equal(t, "127.0.0.1:1", req.URL.Host, "%s/%d stays on the target", k.Name, n)
			assert.True(t, strings.HasPrefix(req.URL.Path, "/oauth/"), "%s/%d: %s", k.Name, n, req.URL.Path)
		}
	}
	for _, name := range []string{"authorize-state", "authorize-scope", "authorize-resource", "authorize-junk", "consent-get", "callback"} {
		assert.Greater(t, biggest[name], 900_000, "%s sends a ~1 MB request line", name)
	}
	for _, name := range []string{"consent-post", "token", "revoke"} {
		assert.Greater(t, biggest[name], httpx.MaxBodySize-8<<10, "%s fills the body cap", name)
	}
	assert.Greater(t, biggest["register-max"], 25_000, "the largest registration accepted today is ~26 KB")
}
