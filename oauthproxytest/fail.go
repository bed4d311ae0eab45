package oauthproxytest

import (
	"fmt"
	"net/http"
)

// cannedResponse is a token endpoint reply queued by FailNext.
type cannedResponse struct {
	status      int
	body        string
	contentType string
}

// hang is a token request stall queued by HangNext.
type hang struct{ release <-chan struct{} }

// FailNext queues a canned response that the next token request gets instead of
// being processed; each call covers one request. An empty contentType means
// "application/json". It panics on an invalid status code.
func (s *Server) FailNext(status int, body string, contentType string) {
	if status < 100 || status > 999 {
		panic(fmt.Sprintf("oauthproxytest: invalid status code %d", status))
	}
	if contentType == "" {
		contentType = "application/json"
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.failures = append(s.failures, cannedResponse{status, body, contentType})
}

// HangNext makes the next token request wait until release is closed (or sends),
// the client gives up, or the server is closed; calls queue up, one per request.
// A released request is then answered as usual, or by FailNext if one is queued;
// with a nil release it waits for the client or Close, which answers it with 503.
func (s *Server) HangNext(release <-chan struct{}) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.hangs = append(s.hangs, hang{release})
}

// waitIfHung applies a queued HangNext and reports whether to go on answering;
// a request released by Close gets 503.
func (s *Server) waitIfHung(w http.ResponseWriter, r *http.Request) bool {
	s.mu.Lock()
	if len(s.hangs) == 0 {
		s.mu.Unlock()
		return true
	}
	h := s.hangs[0]
	s.hangs = s.hangs[1:]
	s.mu.Unlock()
	select {
	case <-h.release:
		return true
	case <-r.Context().Done():
	case <-s.done:
		writeNoStore(w, http.StatusServiceUnavailable, "application/json",
			`{"error":"temporarily_unavailable","error_description":"the server is shutting down"}`)
	}
	return false
}

// writeCanned answers with a queued FailNext response, if any.
func (s *Server) writeCanned(w http.ResponseWriter) bool {
	s.mu.Lock()
	if len(s.failures) == 0 {
		s.mu.Unlock()
		return false
	}
	c := s.failures[0]
	s.failures = s.failures[1:]
	s.stats.FailedTokenRequests++
	s.mu.Unlock()
	writeNoStore(w, c.status, c.contentType, c.body)
	return true
}
