package httpx

import (
	"net/http"
	"strings"

	"github.com/oauthproxy-go/oauthproxy/internal/bufpool"
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
		// The body http.Redirect writes, made in a reused buffer and
		// escaped as html.EscapeString does, without its strings.Replacer
		// (issue 16: the URLs are long and full of '&').
		buf := redirectBufs.Get()
		defer redirectBufs.Put(buf)
		b := append((*buf)[:0], `<a href="`...)
		b = appendHTMLEscaped(b, url)
		b = append(b, `">`...)
		b = append(b, http.StatusText(code)...)
		b = append(b, "</a>.\n\n"...)
		*buf = b
		_, _ = w.Write(b)
	}
}

// redirectBufs are Redirect's body buffers.
var redirectBufs = bufpool.New(16 << 10)

// appendHTMLEscaped appends s escaped as html.EscapeString escapes it.
func appendHTMLEscaped(b []byte, s string) []byte {
	for i := 0; i < len(s); i++ {
		switch c := s[i]; c {
		case '<':
			b = append(b, "&lt;"...)
		case '>':
			b = append(b, "&gt;"...)
		case '&':
			b = append(b, "&amp;"...)
		case '\'':
			b = append(b, "&#39;"...)
		case '"':
			b = append(b, "&#34;"...)
		default:
			b = append(b, c)
		}
	}
	return b
}

func ascii(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= 0x80 {
			return false
		}
	}
	return true
}
