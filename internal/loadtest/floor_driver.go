package loadtest

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
)

// FloorConfig says where a run measures the proxy's floor (Floor).
type FloorConfig struct {
	// URL is a Floor served by the proxy's process. Every phase also reads
	// that process's Usage from it: the proxy's own CPU and allocations.
	URL string
	// Upstream answers the proxy's token requests over HTTP at
	// UpstreamTokenURL; the floor makes the same requests to it.
	Upstream         *Upstream
	UpstreamTokenURL string
}

// FloorResult compares the proxy's CPU per flow with the floor's, both read
// from the proxy's process over the same number of flows.
type FloorResult struct {
	Steps, UpstreamCalls int     // round trips to the proxy per flow, and its calls to the upstream
	Proxy, Floor         float64 // process CPU per flow, µs
	ProxyAllocs          float64 // allocations per flow in the proxy's process
	FloorAllocs          float64
	ProxySyscalls        float64 // read and write system calls per flow in the proxy's process
	FloorSyscalls        float64
	ProxyBytes           float64 // bytes allocated per flow in the proxy's process
	FloorBytes           float64
}

// Ratio is the proxy's CPU per flow over the floor's.
func (f FloorResult) Ratio() float64 { return f.Proxy / f.Floor }

// recordFlow runs one complete flow and keeps its round trips to the proxy.
func (r *runner) recordFlow(ctx context.Context) (*FloorScript, error) {
	rc := &recording{next: r.rt, host: r.target.Host, upstream: r.cfg.Floor.Upstream}
	rr := *r
	rr.rt = rc
	rr.http = &http.Client{Transport: rc, Timeout: r.http.Timeout, CheckRedirect: noRedirects}
	rec := &recorder{}
	if !rr.flow(ctx, rec.shard(), rec) {
		return nil, rec.err(errors.New("the flow to record failed"))
	}
	up := r.cfg.Floor.Upstream.TokenRequestSample()
	if up == nil {
		return nil, errors.New("the proxy made no token request to the HTTP upstream")
	}
	return &FloorScript{Steps: rc.steps, UpstreamTokenURL: r.cfg.Floor.UpstreamTokenURL, UpstreamRequest: up}, nil
}

// uploadScript gives the floor the flow to replay.
func (r *runner) uploadScript(ctx context.Context, s *FloorScript) error {
	body, err := json.Marshal(s)
	if err != nil {
		return err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, r.cfg.Floor.URL+"/_script", bytes.NewReader(body))
	if err != nil {
		return err
	}
	resp, err := r.http.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	msg, _ := io.ReadAll(io.LimitReader(resp.Body, 1024))
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("floor script: HTTP %d: %s", resp.StatusCode, msg)
	}
	return nil
}

// floorFlow replays the recorded flow against the floor: the same requests,
// byte for byte but for the path, which keeps its length.
func (r *runner) floorFlow(ctx context.Context, sh *shard, rec *recorder, s *FloorScript) bool {
	for i, st := range s.Steps {
		prefix := fmt.Sprintf("/s/%d/", i)
		u := r.cfg.Floor.URL + prefix + strings.Repeat("x", max(0, len(st.Request.Path)-len(prefix)))
		if st.Request.RawQuery != "" {
			u += "?" + st.Request.RawQuery
		}
		req, err := http.NewRequestWithContext(ctx, st.Request.Method, u, bytes.NewReader(st.Request.Body))
		if err != nil {
			return false
		}
		req.Header = st.Request.Header.Clone()
		req.Header.Del("Content-Length")
		if len(st.Request.Body) == 0 {
			req.Body, req.ContentLength = http.NoBody, 0
		}
		label := "floor " + st.Request.Method + " " + st.Request.Path
		if _, _, ok := r.callAs(label, r.http, sh, rec, req, status(st.Status)); !ok {
			return false
		}
	}
	return true
}

// serverUsage reads the proxy process's Usage from the floor.
func (r *runner) serverUsage(ctx context.Context) (Usage, error) {
	var u Usage
	err := r.getJSON(ctx, r.cfg.Floor.URL+"/_usage", &u)
	return u, err
}

// floorResult compares the flows phase with the floor phase.
func floorResult(s *FloorScript, flows, floor PhaseReport) *FloorResult {
	if flows.Server == nil || floor.Server == nil || flows.Units == 0 || floor.Units == 0 {
		return nil
	}
	res := &FloorResult{
		Steps:       len(s.Steps),
		Proxy:       float64(flows.Server.CPU.Microseconds()) / float64(flows.Units),
		Floor:       float64(floor.Server.CPU.Microseconds()) / float64(floor.Units),
		ProxyAllocs: float64(flows.Server.Mallocs) / float64(flows.Units),
		FloorAllocs: float64(floor.Server.Mallocs) / float64(floor.Units),

		ProxySyscalls: float64(flows.Server.Syscalls) / float64(flows.Units),
		FloorSyscalls: float64(floor.Server.Syscalls) / float64(floor.Units),
		ProxyBytes:    float64(flows.Server.Bytes) / float64(flows.Units),
		FloorBytes:    float64(floor.Server.Bytes) / float64(floor.Units),
	}
	for _, st := range s.Steps {
		res.UpstreamCalls += st.UpstreamCalls
	}
	return res
}
