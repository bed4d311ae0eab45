package oauthproxytest_test

import (
	"fmt"
	"net/http"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/oauthproxy-go/oauthproxy/oauthproxytest"
)

func TestEndpoints(t *testing.T) {
	s := newIdP(t, oauthproxytest.Options{})
	assert.Equal(t, s.URL(), s.Issuer())
	assert.Regexp(t, `^http://127\.0\.0\.1:\d+$`, s.URL())
	assert.Equal(t, s.URL()+"/authorize", s.AuthorizationEndpoint())
	assert.Equal(t, s.URL()+"/token", s.TokenEndpoint())
	assert.Equal(t, s.URL()+"/userinfo", s.UserInfoEndpoint())
	assert.Equal(t, s.URL()+"/jwks", s.JWKSURL())
	assert.Nil(t, s.LastAuthorizeQuery())
}

// Run under -race: flows from many goroutines share one server.
func TestConcurrentFlows(t *testing.T) {
	const n = 16
	s := newIdP(t, oauthproxytest.Options{RotateRefreshTokens: true, IssueIDToken: true})
	t.Run("group", func(t *testing.T) {
		for i := range n {
			t.Run(fmt.Sprint(i), func(t *testing.T) {
				t.Parallel()
				res := login(t, s, "openid read:user")
				again := refresh(t, s, res.str("refresh_token"), nil)
				require.Equal(t, http.StatusOK, again.status, again.body)
				resp, _ := userInfo(t, s, again.str("access_token"))
				assert.Equal(t, http.StatusOK, resp.StatusCode)
				_ = s.Stats()
				_ = s.LastTokenRequest()
			})
		}
	})
	assert.Equal(t, oauthproxytest.Stats{Authorizations: n, CodeExchanges: n, Refreshes: n, UserInfoRequests: n}, s.Stats())
}
