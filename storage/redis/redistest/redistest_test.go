package redistest_test

import (
	"fmt"
	"net"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/oauthproxy-go/oauthproxy/storage/redis/redistest"
)

func TestStartAnswersOnLoopback(t *testing.T) {
	addr := redistest.Start(t)
	host, _, err := net.SplitHostPort(addr)
	require.NoError(t, err)
	assert.Equal(t, "127.0.0.1", host)

	c := redistest.NewClient(t, addr)
	require.NoError(t, c.Ping(t.Context()).Err())
	persistence, err := c.ConfigGet(t.Context(), "appendonly").Result()
	require.NoError(t, err)
	assert.Equal(t, "no", persistence["appendonly"])
}

func TestStopLeavesNoProcess(t *testing.T) {
	s := redistest.StartWithOptions(t, redistest.Options{})
	addr := s.Addr()
	s.Stop()
	s.Stop() // idempotent

	_, err := net.DialTimeout("tcp", addr, time.Second)
	require.Error(t, err, "the port is closed once Stop returns")
}

func TestRestartKeepsPersistentData(t *testing.T) {
	s := redistest.StartWithOptions(t, redistest.Options{Persistent: true})
	addr := s.Addr()
	require.NoError(t, redistest.NewClient(t, addr).Set(t.Context(), "k", "v", 0).Err())

	s.Restart()
	assert.Equal(t, addr, s.Addr(), "same port after Restart")
	got, err := redistest.NewClient(t, addr).Get(t.Context(), "k").Result()
	require.NoError(t, err)
	assert.Equal(t, "v", got)
}

func TestKillKeepsAcknowledgedWrites(t *testing.T) {
	s := redistest.StartWithOptions(t, redistest.Options{Persistent: true})
	require.NoError(t, redistest.NewClient(t, s.Addr()).Set(t.Context(), "k", "v", 0).Err())

	s.Kill()
	s.Start()
	got, err := redistest.NewClient(t, s.Addr()).Get(t.Context(), "k").Result()
	require.NoError(t, err)
	assert.Equal(t, "v", got)
}

func TestExtraArgs(t *testing.T) {
	s := redistest.StartWithOptions(t, redistest.Options{Args: []string{"--maxmemory", "10mb"}})
	got, err := redistest.NewClient(t, s.Addr()).ConfigGet(t.Context(), "maxmemory").Result()
	require.NoError(t, err)
	assert.Equal(t, "10485760", got["maxmemory"])
}

// fakeTB records Skip and Fatalf instead of ending the test, so the missing-binary
// paths can be checked without skipping or failing this test.
type fakeTB struct {
	testing.TB
	skipped, failed string
}

type stopped struct{}

func (f *fakeTB) Skip(args ...any) {
	f.skipped = fmt.Sprint(args...)
	panic(stopped{})
}

func (f *fakeTB) Fatalf(format string, args ...any) {
	f.failed = fmt.Sprintf(format, args...)
	panic(stopped{})
}

func startWithout(t *testing.T) *fakeTB {
	t.Setenv("PATH", t.TempDir()) // no redis-server here
	f := &fakeTB{TB: t}
	func() {
		defer func() {
			if r := recover(); r != nil && r != (stopped{}) {
				panic(r)
			}
		}()
		redistest.Start(f)
	}()
	return f
}

func TestMissingBinarySkips(t *testing.T) {
	t.Setenv(redistest.RequireEnv, "")
	f := startWithout(t)
	assert.Empty(t, f.failed)
	assert.Contains(t, f.skipped, "redis-server not found on PATH")
}

func TestMissingBinaryFailsWhenRequired(t *testing.T) {
	t.Setenv(redistest.RequireEnv, "1")
	f := startWithout(t)
	assert.Empty(t, f.skipped)
	assert.Contains(t, f.failed, "redis-server is required")
}
