package oauthproxytest

import "testing"

// Start starts a Server for the test t and closes it when the test and its
// subtests end (t.Cleanup). Bad options fail the test instead of panicking.
func Start(t testing.TB, opts Options) *Server {
	t.Helper()
	if err := validateOptions(opts); err != nil {
		t.Fatal(err)
	}
	s := NewServer(opts)
	t.Cleanup(s.Close)
	return s
}
