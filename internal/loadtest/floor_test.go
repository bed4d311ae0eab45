package loadtest

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The floor answers a replayed step with the recorded bytes after making the
// recorded number of upstream calls with the recorded request.
func TestFloorReplaysRecordedStep(t *testing.T) {
	up := NewUpstream()
	upSrv := httptest.NewServer(up)
	defer upSrv.Close()
	f := NewFloor()
	defer f.Close()
	floor := httptest.NewServer(f)
	defer floor.Close()

	script := FloorScript{
		UpstreamTokenURL: upSrv.URL + "/token",
		UpstreamRequest: &RecordedRequest{Method: http.MethodPost, Body: []byte("grant_type=authorization_code&code=c"),
			Header: http.Header{"Content-Type": {"application/x-www-form-urlencoded"}}},
		Steps: []FloorStep{{
			Request: RecordedRequest{Method: http.MethodGet, Path: "/oauth/callback"},
			Status:  http.StatusFound, Header: http.Header{"Location": {"http://127.0.0.1:9/cb?code=x"}, "Cache-Control": {"no-store"}},
			Body: []byte("moved"), UpstreamCalls: 1,
		}},
	}
	body, _ := json.Marshal(script)
	resp, err := http.Post(floor.URL+"/_script", "application/json", bytes.NewReader(body))
	require.NoError(t, err)
	resp.Body.Close()
	require.Equal(t, http.StatusOK, resp.StatusCode)

	client := &http.Client{CheckRedirect: noRedirects}
	resp, err = client.Get(floor.URL + "/s/0/xxxxxx?state=1")
	require.NoError(t, err)
	got, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	assert.Equal(t, http.StatusFound, resp.StatusCode)
	assert.Equal(t, "http://127.0.0.1:9/cb?code=x", resp.Header.Get("Location"))
	assert.Equal(t, "no-store", resp.Header.Get("Cache-Control"))
	assert.Equal(t, "moved", string(got))
	assert.EqualValues(t, 1, up.TokenRequests.Load(), "one upstream call")
	assert.Equal(t, "grant_type=authorization_code&code=c", string(up.TokenRequestSample().Body))

	resp, err = http.Get(floor.URL + "/s/1/")
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, http.StatusNotFound, resp.StatusCode, "no such step")
}

// The floor calls no upstream but one on 127.0.0.1: the load tool stays on
// loopback.
func TestFloorRefusesUpstreamOffLoopback(t *testing.T) {
	f := NewFloor()
	defer f.Close()
	floor := httptest.NewServer(f)
	defer floor.Close()
	resp, err := http.Post(floor.URL+"/_script", "application/json",
		strings.NewReader(`{"upstream_token_url":"http://example.com/token","steps":[]}`))
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, http.StatusBadRequest, resp.StatusCode)
	assert.Nil(t, f.script.Load())
}
