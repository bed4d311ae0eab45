package loadtest

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"runtime"
	"strconv"
	"strings"
	"sync/atomic"
	"time"
)

// Floor is the proxy's floor: bare net/http handlers that answer the round
// trips of one recorded flow with the same bytes the proxy answered (status,
// headers, body), after reading the same request bytes, and make the same
// number of token requests to the same upstream with the bytes the proxy sent.
// Served from the proxy's process, the CPU it costs per flow is what net/http,
// the sockets and the upstream call alone cost: what the proxy's own work is
// compared against.
//
// It also reports the process's CPU time and allocations (/_usage), so the
// driver reads the proxy's and the floor's cost the same way.
type Floor struct {
	script atomic.Pointer[FloorScript]
	client *http.Client
}

// FloorScript is what a Floor replays: the round trips of one flow, and the
// token request the proxy sent its upstream.
type FloorScript struct {
	Steps            []FloorStep      `json:"steps"`
	UpstreamTokenURL string           `json:"upstream_token_url"`
	UpstreamRequest  *RecordedRequest `json:"upstream_request"`
}

// Usage is a process's CPU time (user and system), heap allocations and
// read/write system calls so far.
type Usage struct {
	CPU      time.Duration `json:"cpu_ns"`
	Mallocs  uint64        `json:"mallocs"`
	Bytes    uint64        `json:"bytes"`    // allocated on the heap (what the GC's work grows with)
	Syscalls uint64        `json:"syscalls"` // reads and writes (Syscalls)
}

// CurrentUsage is this process's Usage.
func CurrentUsage() Usage {
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return Usage{CPU: CPUTime(), Mallocs: ms.Mallocs, Bytes: ms.TotalAlloc, Syscalls: Syscalls()}
}

// NewFloor returns a Floor whose upstream calls go through a client that keeps
// its connections, as a well-configured server's would.
func NewFloor() *Floor {
	return &Floor{client: &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{
		Proxy:               nil, // loopback only
		MaxIdleConns:        256,
		MaxIdleConnsPerHost: 256,
		IdleConnTimeout:     30 * time.Second,
	}}}
}

// Close closes the Floor's idle upstream connections.
func (f *Floor) Close() { f.client.CloseIdleConnections() }

// ServeHTTP answers /_usage, /_script (POST: the FloorScript to replay) and
// /s/<step>/…, the replayed round trips.
func (f *Floor) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	switch {
	case r.URL.Path == "/_usage":
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(CurrentUsage())
	case r.URL.Path == "/_script" && r.Method == http.MethodPost:
		var s FloorScript
		if err := json.NewDecoder(io.LimitReader(r.Body, 16<<20)).Decode(&s); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		if !strings.HasPrefix(s.UpstreamTokenURL, "http://127.0.0.1:") {
			http.Error(w, "the upstream must be on 127.0.0.1", http.StatusBadRequest)
			return
		}
		f.script.Store(&s)
	case strings.HasPrefix(r.URL.Path, "/s/"):
		f.step(w, r)
	default:
		http.NotFound(w, r)
	}
}

// step replays one round trip: read the request, make the upstream calls,
// answer with the recorded bytes.
func (f *Floor) step(w http.ResponseWriter, r *http.Request) {
	s := f.script.Load()
	num, _, _ := strings.Cut(strings.TrimPrefix(r.URL.Path, "/s/"), "/")
	i, err := strconv.Atoi(num)
	if s == nil || err != nil || i < 0 || i >= len(s.Steps) {
		http.NotFound(w, r)
		return
	}
	_, _ = io.Copy(io.Discard, r.Body)
	st := &s.Steps[i]
	for range st.UpstreamCalls {
		if err := f.callUpstream(r.Context(), s); err != nil {
			http.Error(w, err.Error(), http.StatusBadGateway)
			return
		}
	}
	for k, v := range st.Header {
		if k != "Date" {
			w.Header()[k] = v
		}
	}
	w.WriteHeader(st.Status)
	_, _ = w.Write(st.Body)
}

func (f *Floor) callUpstream(ctx context.Context, s *FloorScript) error {
	up := s.UpstreamRequest
	req, err := http.NewRequestWithContext(ctx, up.Method, s.UpstreamTokenURL, bytes.NewReader(up.Body))
	if err != nil {
		return err
	}
	req.Header = up.Header.Clone()
	req.Header.Del("Content-Length")
	resp, err := f.client.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if _, err := io.Copy(io.Discard, resp.Body); err != nil {
		return err
	}
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("upstream: HTTP %d", resp.StatusCode)
	}
	return nil
}
