package redistest

import (
	"testing"

	goredis "github.com/redis/go-redis/v9"
)

// NewClient returns a go-redis client for addr, closed when the test ends. It
// honours context deadlines (ContextTimeoutEnabled), dials once and never retries
// a command, so a stopped server fails a command at once instead of after a backoff.
func NewClient(tb testing.TB, addr string) *goredis.Client {
	tb.Helper()
	c := goredis.NewClient(&goredis.Options{
		Addr:                  addr,
		ContextTimeoutEnabled: true,
		MaxRetries:            -1,
		DialerRetries:         1,
	})
	tb.Cleanup(func() { _ = c.Close() }) // closing a client that failed to connect is harmless
	return c
}
