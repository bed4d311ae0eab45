package main

import (
	"context"
	"net"
	"net/http"
	"os"
	"runtime"
	"runtime/pprof"
)

// profiles names the profiles to write of the proxy's process.
type profiles struct{ cpu, mem string }

// start starts the CPU profile; the returned func stops it and writes the
// allocation profile (every allocation since the start, sampled).
func (p profiles) start() (stop func(), err error) {
	var cpuFile *os.File
	if p.cpu != "" {
		if cpuFile, err = os.Create(p.cpu); err != nil {
			return nil, err
		}
		if err := pprof.StartCPUProfile(cpuFile); err != nil {
			cpuFile.Close()
			return nil, err
		}
	}
	return func() {
		if cpuFile != nil {
			pprof.StopCPUProfile()
			cpuFile.Close()
		}
		if p.mem != "" {
			if f, err := os.Create(p.mem); err == nil {
				runtime.GC()
				_ = pprof.Lookup("allocs").WriteTo(f, 0)
				f.Close()
			}
		}
	}, nil
}

// serveLabelled serves srv on ln with the profiler label side=name: every
// connection's goroutine, and the upstream calls made from it, inherit it, so
// a CPU or allocation profile splits the proxy's work from its floor's
// (go tool pprof -tagfocus side=proxy).
func serveLabelled(name string, srv *http.Server, ln net.Listener) {
	pprof.Do(context.Background(), pprof.Labels("side", name), func(context.Context) {
		_ = srv.Serve(ln)
	})
}
