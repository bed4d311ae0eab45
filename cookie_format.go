package oauthproxy

import (
	"net/http"
	"strconv"
	"strings"
	"time"
)

// setCookie sets the proxy's cookie name=value (newCookie's attributes).
// The proxy's names and values are base64url, hex and '-' characters, for
// which Set-Cookie is written here directly, the bytes http.Cookie.String
// writes without its validation and sanitizing passes (issue 16: two cookies
// a sign-in); anything else goes through http.SetCookie.
func (p *Proxy) setCookie(w http.ResponseWriter, name, value string, maxAge time.Duration) {
	c := p.newCookie(name, value, maxAge)
	if !plainCookieToken(c.Name) || !plainCookieToken(c.Value) {
		http.SetCookie(w, c)
		return
	}
	var b strings.Builder
	b.Grow(len(c.Name) + len(c.Value) + 64)
	b.WriteString(c.Name)
	b.WriteByte('=')
	b.WriteString(c.Value)
	b.WriteString("; Path=/")
	switch {
	case c.MaxAge > 0:
		b.WriteString("; Max-Age=")
		b.WriteString(strconv.Itoa(c.MaxAge))
	case c.MaxAge < 0:
		b.WriteString("; Max-Age=0")
	}
	b.WriteString("; HttpOnly")
	if c.Secure {
		b.WriteString("; Secure")
	}
	b.WriteString("; SameSite=Lax")
	w.Header().Add("Set-Cookie", b.String())
}

// plainCookieToken reports whether s is non-empty and only letters, digits,
// '-' and '_': a cookie name or value net/http writes unchanged and unquoted.
func plainCookieToken(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '-' || c == '_') {
			return false
		}
	}
	return true
}
