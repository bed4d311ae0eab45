package loadtest

import (
	"bytes"
	"io"
	"net/http"
	"sync/atomic"
)

// ServeHTTP answers over a real socket what RoundTrip answers in process, so
// the proxy's token requests cross loopback HTTP as they would to a real
// provider, through the proxy's own HTTP client. The first token request is
// kept (TokenRequestSample): the floor replays it.
func (u *Upstream) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(io.LimitReader(r.Body, 1<<20))
	if err != nil {
		http.Error(w, "unreadable body", http.StatusBadRequest)
		return
	}
	if r.Method == http.MethodPost && r.URL.Path == "/token" && u.sample.Load() == nil {
		u.sample.CompareAndSwap(nil, &RecordedRequest{Method: r.Method, Header: r.Header.Clone(), Body: body})
	}
	r.Body = io.NopCloser(bytes.NewReader(body))
	resp, _ := u.RoundTrip(r)
	for k, v := range resp.Header {
		w.Header()[k] = v
	}
	w.WriteHeader(resp.StatusCode)
	_, _ = io.Copy(w, resp.Body)
}

// TokenRequestSample is the first token request ServeHTTP answered, as the
// upstream saw it, or nil.
func (u *Upstream) TokenRequestSample() *RecordedRequest { return u.sample.Load() }

// upstreamSample is embedded in Upstream: the request the floor replays.
type upstreamSample = atomic.Pointer[RecordedRequest]
