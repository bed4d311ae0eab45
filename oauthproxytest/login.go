package oauthproxytest

import (
	"html/template"
	"net/http"
	"time"
)

// pendingLogin is an authorization request waiting for the login page's POST.
type pendingLogin struct {
	req       authRequest
	expiresAt time.Time
}

var loginPage = template.Must(template.New("login").Parse(`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Sign in – oauthproxytest</title>
<style>body{font-family:system-ui,sans-serif;max-width:26rem;margin:4rem auto;padding:0 1rem}
button{font-size:1rem;padding:.5rem 1rem;margin-right:.5rem}</style></head>
<body><h1>Sign in</h1>
<p><b>{{.ClientID}}</b> wants to access your account{{if .Scope}} with scope <code>{{.Scope}}</code>{{end}}.</p>
<form method="post" action="/login">
<input type="hidden" name="login" value="{{.LoginID}}">
<button type="submit" name="action" value="approve">Sign in as {{.Name}}</button>
<button type="submit" name="action" value="deny">Cancel</button>
</form>
<p><small>oauthproxytest fake identity provider: {{.Email}}</small></p>
</body></html>
`))

var errorPage = template.Must(template.New("error").Parse(`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Error – oauthproxytest</title></head>
<body><h1>Authorization error</h1><p>{{.}}</p></body></html>
`))

// renderLoginPage stores req and shows the page whose POST to /login completes it.
func (s *Server) renderLoginPage(w http.ResponseWriter, req authRequest) {
	id := randomToken()
	s.mu.Lock()
	now := s.opts.Now()
	for k, p := range s.pending {
		if !now.Before(p.expiresAt) {
			delete(s.pending, k)
		}
	}
	s.pending[id] = &pendingLogin{req: req, expiresAt: now.Add(loginTTL)}
	user := s.user
	s.mu.Unlock()
	setPageHeaders(w)
	w.WriteHeader(http.StatusOK)
	_ = loginPage.Execute(w, map[string]string{
		"ClientID": s.opts.ClientID, "Scope": req.scope, "LoginID": id,
		"Name": user.Name, "Email": user.Email,
	})
}

// handleLogin completes or cancels a pending login; it answers 303 See Other so the
// browser follows the redirect with GET.
func (s *Server) handleLogin(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, 1<<16)
	if err := r.ParseForm(); err != nil {
		renderErrorPage(w, http.StatusBadRequest, "Malformed form.")
		return
	}
	id := r.PostForm.Get("login")
	s.mu.Lock()
	p, ok := s.pending[id]
	delete(s.pending, id)
	expired := ok && !s.opts.Now().Before(p.expiresAt)
	s.mu.Unlock()
	if !ok || expired {
		renderErrorPage(w, http.StatusBadRequest, "This sign-in request has expired or was already used.")
		return
	}
	if r.PostForm.Get("action") == "deny" {
		s.redirectError(w, r, p.req.redirectURI, p.req.state, errorf("access_denied", "the user denied the request"), http.StatusSeeOther)
		return
	}
	s.redirectCode(w, r, p.req, http.StatusSeeOther)
}

// renderErrorPage shows an error to the user without redirecting anywhere.
func renderErrorPage(w http.ResponseWriter, status int, msg string) {
	setPageHeaders(w)
	w.WriteHeader(status)
	_ = errorPage.Execute(w, msg)
}

func setPageHeaders(w http.ResponseWriter) {
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Cache-Control", "no-store")
	h.Set("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'")
	// No form-action directive: browsers apply it to the redirect that follows the POST.
	h.Set("X-Frame-Options", "DENY")
}
