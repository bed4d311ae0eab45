package loadtest

import (
	"bytes"
	"io"
	"net/http"
	"sync"
)

// RecordedRequest is one HTTP request as sent: enough to send the same bytes
// again.
type RecordedRequest struct {
	Method   string      `json:"method"`
	Path     string      `json:"path,omitempty"`
	RawQuery string      `json:"raw_query,omitempty"`
	Header   http.Header `json:"header"`
	Body     []byte      `json:"body,omitempty"`
}

// FloorStep is one round trip of a recorded flow: the request to the proxy,
// its answer, and how many requests the proxy made to the upstream meanwhile.
type FloorStep struct {
	Request       RecordedRequest `json:"request"`
	Status        int             `json:"status"`
	Header        http.Header     `json:"header"`
	Body          []byte          `json:"body,omitempty"`
	UpstreamCalls int             `json:"upstream_calls,omitempty"`
}

// recording is a RoundTripper that keeps every round trip to the target host
// (the proxy) of one flow, with the upstream token requests each one caused.
type recording struct {
	next     http.RoundTripper
	host     string
	upstream *Upstream

	mu    sync.Mutex
	steps []FloorStep
}

func (rc *recording) RoundTrip(req *http.Request) (*http.Response, error) {
	if req.URL.Host != rc.host {
		return rc.next.RoundTrip(req)
	}
	step := FloorStep{Request: RecordedRequest{
		Method: req.Method, Path: req.URL.Path, RawQuery: req.URL.RawQuery, Header: req.Header.Clone(),
	}}
	if req.Body != nil {
		body, err := io.ReadAll(req.Body)
		req.Body.Close()
		if err != nil {
			return nil, err
		}
		step.Request.Body = body
		req.Body = io.NopCloser(bytes.NewReader(body))
	}
	calls0 := rc.upstream.TokenRequests.Load()
	resp, err := rc.next.RoundTrip(req)
	if err != nil {
		return nil, err
	}
	body, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil {
		return nil, err
	}
	resp.Body = io.NopCloser(bytes.NewReader(body))
	step.Status, step.Header, step.Body = resp.StatusCode, resp.Header.Clone(), body
	step.UpstreamCalls = int(rc.upstream.TokenRequests.Load() - calls0)
	rc.mu.Lock()
	rc.steps = append(rc.steps, step)
	rc.mu.Unlock()
	return resp, nil
}
