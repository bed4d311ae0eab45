package main

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/oauthproxy-go/oauthproxy/internal/loadtest"
)

// A tiny run through every phase: the tool works end to end and every request
// succeeds. No timing is asserted.
func TestRunInProcess(t *testing.T) {
	up := loadtest.NewUpstream()
	srv, err := startProxy("127.0.0.1:0", up)
	require.NoError(t, err)
	defer srv.close()

	rep, err := loadtest.Run(t.Context(), loadtest.Config{
		URL: srv.url, Upstream: up, Flows: 3, Codes: 8, Concurrency: 2,
		StormTime: 100 * time.Millisecond, MaxTime: time.Minute,
	})
	require.NoError(t, err)
	assert.Zero(t, rep.Errors())
	var names []string
	for _, p := range rep.Phases {
		names = append(names, p.Name)
		assert.NotZero(t, p.Requests, p.Name)
	}
	assert.Equal(t, []string{"flows", "logins", "token burst", "refresh storm", "bearer storm"}, names)
	assert.Equal(t, 3, rep.Phases[0].Units, "three complete flows")
	assert.Equal(t, 8, rep.Phases[2].Units, "every code redeemed")
	assert.NotZero(t, up.TokenRequests.Load(), "the proxy redeemed upstream codes in process")
}

func TestRefusesNonLoopbackTargets(t *testing.T) {
	for _, u := range []string{"http://example.com", "https://10.0.0.1:8080", "http://[2001:db8::1]/", "ftp://127.0.0.1", "127.0.0.1:8080"} {
		_, err := loadtest.Run(t.Context(), loadtest.Config{URL: u})
		assert.Error(t, err, u)
	}
	_, err := startProxy("0.0.0.0:0", loadtest.NewUpstream())
	assert.Error(t, err, "-serve binds loopback only")
	for _, u := range []string{"http://127.0.0.1:1", "http://localhost:8080", "http://[::1]:8080"} {
		_, err := loadtest.CheckLoopbackURL(u)
		assert.NoError(t, err, u)
	}
}
