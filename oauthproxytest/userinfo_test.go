package oauthproxytest_test

import (
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/oauthproxy-go/oauthproxy/oauthproxytest"
)

func TestUserInfo(t *testing.T) {
	clock := newFakeClock()
	s := newIdP(t, oauthproxytest.Options{Now: clock.Now, AccessTokenTTL: 10 * time.Minute})
	token := login(t, s, "read:user").str("access_token")

	resp, claims := userInfo(t, s, token)
	require.Equal(t, http.StatusOK, resp.StatusCode)
	assert.Equal(t, map[string]any{
		"sub": "user-1", "id": "user-1", "name": "Test User", "email": "user@example.com",
		"email_verified": true, "login": "testuser", "preferred_username": "testuser",
	}, claims)

	resp, claims = userInfo(t, s, "")
	assert.Equal(t, http.StatusUnauthorized, resp.StatusCode)
	assert.Equal(t, `Bearer realm="oauthproxytest"`, resp.Header.Get("WWW-Authenticate"))
	assert.Equal(t, "invalid_request", claims["error"])

	resp, _ = userInfo(t, s, "not-a-token")
	assert.Equal(t, http.StatusUnauthorized, resp.StatusCode)
	assert.Contains(t, resp.Header.Get("WWW-Authenticate"), `error="invalid_token"`)

	clock.Advance(10 * time.Minute)
	resp, _ = userInfo(t, s, token)
	assert.Equal(t, http.StatusUnauthorized, resp.StatusCode, "expired by the Now clock")
	assert.Equal(t, 1, s.Stats().UserInfoRequests)
}
