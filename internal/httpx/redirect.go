package httpx

import (
	"html"
	"io"
	"net/http"
	"strings"
)

// Redirect is http.Redirect, writing the same status, headers and body. For
// an absolute http(s) URL in ASCII, which every redirect of the proxy's
// flow is, it skips http.Redirect's parse of the URL (needed only to resolve
// a relative one) and its general escaping (issue 16: three redirects a
// sign-in); anything else goes to http.Redirect.
func Redirect(w http.ResponseWriter, r *http.Request, url string, code int) {
	if !(strings.HasPrefix(url, "https://") || strings.HasPrefix(url, "http://")) || !ascii(url) {
		http.Redirect(w, r, url, code)
		return
	}
	h := w.Header()
	// RFC 9110 §15.4: a short HTML body for old user agents, only when the
	// handler set no Content-Type, and never for POST or HEAD.
	_, hadCT := h["Content-Type"]
	h.Set("Location", url)
	if !hadCT && (r.Method == http.MethodGet || r.Method == http.MethodHead) {
		h.Set("Content-Type", "text/html; charset=utf-8")
	}
	w.WriteHeader(code)
	if !hadCT && r.Method == http.MethodGet {
		_, _ = io.WriteString(w, "<a href=\""+html.EscapeString(url)+"\">"+http.StatusText(code)+"</a>.\n\n")
	}
}

func ascii(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= 0x80 {
			return false
		}
	}
	return true
}
