package oauthproxytest_test

import (
	"net/http"
	"net/url"
	"runtime"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/oauthproxy-go/oauthproxy/oauthproxytest"
)

func TestFailNext(t *testing.T) {
	s := newIdP(t, oauthproxytest.Options{})
	code := authorizeCode(t, s, authParams())
	s.FailNext(http.StatusServiceUnavailable, "upstream down", "text/plain")
	s.FailNext(http.StatusBadRequest, `{"error":"invalid_grant"}`, "")

	first := exchange(t, s, code, nil)
	assert.Equal(t, http.StatusServiceUnavailable, first.status)
	assert.Equal(t, "text/plain", first.header.Get("Content-Type"))
	assert.Equal(t, "upstream down", first.str("raw"))

	second := exchange(t, s, code, nil)
	assert.Equal(t, http.StatusBadRequest, second.status)
	assert.Equal(t, "invalid_grant", second.str("error"))

	// The canned responses did not consume the code.
	assert.Equal(t, http.StatusOK, exchange(t, s, code, nil).status)
	assert.Equal(t, 2, s.Stats().FailedTokenRequests)
	assert.Panics(t, func() { s.FailNext(0, "", "") })
}

func TestHangNext(t *testing.T) {
	s := newIdP(t, oauthproxytest.Options{})
	code := authorizeCode(t, s, authParams())
	release := make(chan struct{})
	s.HangNext(release)

	done := make(chan tokenResult, 1)
	go func() { done <- exchange(t, s, code, nil) }()
	select {
	case <-done:
		t.Fatal("the token request was answered before release")
	case <-time.After(100 * time.Millisecond):
	}
	close(release)
	select {
	case res := <-done:
		assert.Equal(t, http.StatusOK, res.status)
	case <-time.After(5 * time.Second):
		t.Fatal("the token request was not answered after release")
	}
}

func TestCloseReleasesHungRequest(t *testing.T) {
	s := oauthproxytest.NewServer(oauthproxytest.Options{ClientID: testClientID, ClientSecret: testSecret})
	s.HangNext(nil)
	done := make(chan int, 1)
	go func() {
		resp, err := http.PostForm(s.TokenEndpoint(), url.Values{"grant_type": {"refresh_token"}})
		if err != nil {
			done <- 0
			return
		}
		resp.Body.Close()
		done <- resp.StatusCode
	}()
	require.Eventually(t, func() bool { return s.LastTokenRequest() != nil }, 5*time.Second, 5*time.Millisecond)

	closed := make(chan struct{})
	go func() { s.Close(); close(closed) }()
	select {
	case <-closed:
	case <-time.After(5 * time.Second):
		t.Fatal("Close blocked on a hung request")
	}
	assert.Equal(t, http.StatusServiceUnavailable, <-done)
	s.Close() // idempotent
}

// The server leaves no goroutine behind once closed and its clients are idle.
func TestCloseLeavesNoGoroutines(t *testing.T) {
	before := runtime.NumGoroutine()
	s := oauthproxytest.NewServer(oauthproxytest.Options{ClientID: testClientID, ClientSecret: testSecret, LoginPage: true})
	c := &http.Client{}
	resp, err := c.Get(s.AuthorizationEndpoint() + "?" + authParams().Encode())
	require.NoError(t, err)
	resp.Body.Close()
	c.CloseIdleConnections()
	s.Close()
	// Poll by hand: assert.Eventually runs goroutines of its own.
	deadline := time.Now().Add(5 * time.Second)
	for runtime.NumGoroutine() > before && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	assert.LessOrEqual(t, runtime.NumGoroutine(), before)
}
