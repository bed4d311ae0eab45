// Package redistest starts throwaway redis-server processes for tests, so any
// package's tests can run against a real Redis without a shared or preinstalled
// server. Servers listen on 127.0.0.1 only, keep their files in t.TempDir, and are
// stopped in t.Cleanup.
//
// When redis-server is not on PATH the calling test is skipped, unless the
// environment variable OAUTHPROXY_REQUIRE_REDIS=1 is set (make test sets it), in
// which case it fails: a skip there would hide a broken setup.
package redistest

import (
	"os"
	"os/exec"
	"testing"
)

// RequireEnv names the environment variable that turns a missing redis-server from
// a skip into a failure.
const RequireEnv = "OAUTHPROXY_REQUIRE_REDIS"

// binary is the executable looked up on PATH.
const binary = "redis-server"

// Options configure a server started with StartWithOptions.
type Options struct {
	// Persistent turns on the append-only file with an fsync per write, so data
	// survives Stop, Kill and Restart. Off by default: tests run faster without it.
	Persistent bool
	// Args are extra redis-server arguments, such as "--maxmemory", "1mb".
	Args []string
}

// Start starts a non-persistent redis-server on a free loopback port and returns
// its address ("127.0.0.1:port"). It is stopped when the test ends.
func Start(tb testing.TB) string {
	tb.Helper()
	return StartWithOptions(tb, Options{}).Addr()
}

// StartWithOptions starts a redis-server configured by opts and returns a handle
// that can stop, kill and restart it. It is stopped when the test ends.
func StartWithOptions(tb testing.TB, opts Options) *Server {
	tb.Helper()
	path := lookPath(tb)
	s := &Server{tb: tb, path: path, dir: tb.TempDir(), opts: opts}
	s.startOnFreePort()
	tb.Cleanup(s.Stop)
	return s
}

// lookPath finds redis-server on PATH, skipping or failing the test when it is
// missing, as the package documentation describes.
func lookPath(tb testing.TB) string {
	tb.Helper()
	path, err := exec.LookPath(binary)
	if err == nil {
		return path
	}
	if os.Getenv(RequireEnv) == "1" {
		tb.Fatalf("redis-server is required (%s=1) but not found on PATH: install Debian's redis-server (make test does): %v", RequireEnv, err)
	}
	tb.Skip("redis-server not found on PATH; install Debian's redis-server (make test does) to run the Redis tests")
	return ""
}
