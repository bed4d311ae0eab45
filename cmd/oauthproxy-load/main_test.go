package main

import (
	"os"
	"os/exec"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/oauthproxy-go/oauthproxy/internal/loadtest"
)

// childForTest runs this test binary as the proxy's process.
func childForTest(args ...string) (*exec.Cmd, error) {
	cmd := exec.Command(os.Args[0], args...)
	cmd.Env = append(os.Environ(), childEnv+"=1")
	return cmd, nil
}

// A tiny run through every phase, the proxy in its own process as make load
// runs it: the tool works end to end, every request succeeds, and the floor
// replays the recorded flow (eight round trips, one upstream call) so the
// report has a ratio. No timing is asserted.
func TestRunWithFloor(t *testing.T) {
	up := loadtest.NewUpstream()
	c, err := startChild(t.Context(), up, profiles{}, childForTest)
	require.NoError(t, err)
	defer c.close()

	rep, err := loadtest.Run(t.Context(), loadtest.Config{
		URL: c.proxyURL, Upstream: up, Flows: 3, Codes: 8, Concurrency: 2,
		StormTime: 100 * time.Millisecond, MaxTime: time.Minute,
		Floor: &loadtest.FloorConfig{URL: c.floorURL, Upstream: up, UpstreamTokenURL: c.upstreamTokenURL},
	})
	require.NoError(t, err)
	assert.Zero(t, rep.Errors())
	var names []string
	for _, p := range rep.Phases {
		names = append(names, p.Name)
		assert.NotZero(t, p.Requests, p.Name)
		assert.NotNil(t, p.Server, "%s: the proxy process's usage was read", p.Name)
	}
	assert.Equal(t, []string{"flows", "floor", "logins", "token burst", "refresh storm", "bearer storm"}, names)
	assert.Equal(t, 3, rep.Phases[0].Units, "three complete flows")
	assert.Equal(t, 3, rep.Phases[1].Units, "three flows on the floor")
	assert.Equal(t, 8, rep.Phases[3].Units, "every code redeemed")
	require.NotNil(t, rep.Floor)
	assert.Equal(t, 8, rep.Floor.Steps, "register, authorize, consent page, approval, callback, token, refresh, protected call")
	assert.Equal(t, 1, rep.Floor.UpstreamCalls, "the callback's code exchange")
	assert.Positive(t, rep.Floor.Proxy)
	assert.Positive(t, rep.Floor.Floor)
	// 1 recorded flow + 3 flows + 3 floor flows + 8 logins: one code exchange each.
	assert.EqualValues(t, 15, up.TokenRequests.Load(), "the proxy and the floor called the upstream over HTTP")
}

func TestRefusesNonLoopbackTargets(t *testing.T) {
	for _, u := range []string{"http://example.com", "https://10.0.0.1:8080", "http://[2001:db8::1]/", "ftp://127.0.0.1", "127.0.0.1:8080"} {
		_, err := loadtest.Run(t.Context(), loadtest.Config{URL: u})
		assert.Error(t, err, u)
	}
	_, err := startProxy("0.0.0.0:0", loadtest.UpstreamTokenEndpoint, nil)
	assert.Error(t, err, "-serve binds loopback only")
	assert.Error(t, serverChild("http://10.0.0.1/token", profiles{}, nil, nil), "the upstream is on loopback")
	for _, u := range []string{"http://127.0.0.1:1", "http://localhost:8080", "http://[::1]:8080"} {
		_, err := loadtest.CheckLoopbackURL(u)
		assert.NoError(t, err, u)
	}
}
