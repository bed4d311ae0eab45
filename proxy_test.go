package oauthproxy_test

import (
	"context"
	"fmt"
	"net/http"
	"testing"

	"github.com/oauthproxy-go/oauthproxy"
	"github.com/oauthproxy-go/oauthproxy/oauthproxytest"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestEndToEnd runs the whole flow through Handler with a cookie-keeping
// browser: register, authorize, consent, upstream login, callback, code
// exchange, a call to the protected endpoint, refresh, and a call with the
// refreshed token; in every combination of consent and token swap.
func TestEndToEnd(t *testing.T) {
	for _, consent := range []bool{true, false} {
		for _, swap := range []bool{true, false} {
			for _, auth := range []string{"none", "client_secret_basic", "client_secret_post"} {
				name := fmt.Sprintf("consent=%v/swap=%v/auth=%s", consent, swap, auth)
				t.Run(name, func(t *testing.T) {
					e := newEnv(t, withConfig(func(c *oauthproxy.Config) {
						c.DisableConsent = !consent
						c.DisableTokenSwap = !swap
					}), withIdP(func(o *oauthproxytest.Options) { o.RotateRefreshTokens = true }))
					c := e.register(auth)
					code, verifier := e.code(c)

					tok := e.exchange(c, code, verifier)
					require.Equal(t, http.StatusOK, tok.Status, "%v", tok.Body)
					assert.Equal(t, "no-store", tok.Header.Get("Cache-Control"))
					assert.Equal(t, "Bearer", tok.str("token_type"))
					require.NotEmpty(t, tok.str("refresh_token"))
					access := tok.str("access_token")

					resp, claims := e.callMCP(access)
					require.Equal(t, http.StatusOK, resp.StatusCode)
					assert.Equal(t, "user-1", claims["Subject"])
					assert.Equal(t, c.ID, claims["ClientID"])

					upstream, err := e.proxy.LoadUpstreamTokens(context.Background(), access)
					require.NoError(t, err)
					assert.NotEmpty(t, upstream.AccessToken)
					if swap {
						assert.NotEqual(t, upstream.AccessToken, access, "swap mode must not hand out the upstream token (S11)")
					} else {
						assert.Equal(t, upstream.AccessToken, access)
					}

					ref := e.refresh(c, tok.str("refresh_token"))
					require.Equal(t, http.StatusOK, ref.Status, "%v", ref.Body)
					require.NotEqual(t, tok.str("refresh_token"), ref.str("refresh_token"), "refresh tokens rotate")
					resp, _ = e.callMCP(ref.str("access_token"))
					assert.Equal(t, http.StatusOK, resp.StatusCode)

					// The rotated refresh token is spent.
					again := e.refresh(c, tok.str("refresh_token"))
					assert.Equal(t, http.StatusBadRequest, again.Status)
					assert.Equal(t, "invalid_grant", again.str("error"))
				})
			}
		}
	}
}
