package main

import (
	"bytes"
	"net"
	"net/http"
	"runtime/pprof"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// A profile splits the proxy's work from its floor's only if the handlers
// run with their server's label: the goroutine profile shows it.
func TestServeLabelled_HandlersCarryTheSideLabel(t *testing.T) {
	inHandler, release := make(chan struct{}), make(chan struct{})
	srv := &http.Server{
		Handler: http.HandlerFunc(func(http.ResponseWriter, *http.Request) {
			close(inHandler)
			<-release
		}),
		ReadHeaderTimeout: 10 * time.Second,
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	go serveLabelled("floor", srv, ln)
	defer srv.Close()

	done := make(chan error, 1)
	go func() {
		resp, err := http.Get("http://" + ln.Addr().String() + "/")
		if err == nil {
			resp.Body.Close()
		}
		done <- err
	}()
	<-inHandler
	var prof bytes.Buffer
	require.NoError(t, pprof.Lookup("goroutine").WriteTo(&prof, 1))
	close(release)
	require.NoError(t, <-done)
	require.Contains(t, prof.String(), `# labels: {"side":"floor"}`)
}
