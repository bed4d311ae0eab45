package oauthproxytest

import (
	"encoding/json"
	"net/http"
	"strconv"
	"strings"
)

// gitHubRoutes serves GitHub's OAuth paths and the REST API calls a relying
// party makes for identity (docs.github.com, "Authorizing OAuth apps",
// "REST API endpoints for users" and "for emails").
func (s *Server) gitHubRoutes(mux *http.ServeMux) {
	mux.HandleFunc("GET /login/oauth/authorize", s.handleAuthorize)
	mux.HandleFunc("POST /login/oauth/access_token", s.handleToken)
	for _, root := range []string{"", "/api/v3"} {
		mux.HandleFunc("GET "+root+"/user", s.handleGitHubUser)
		mux.HandleFunc("GET "+root+"/user/emails", s.handleGitHubEmails)
	}
}

// gitHubUser is the part of GitHub's "get the authenticated user" answer that
// identity needs. Email is the public email, null when there is none.
type gitHubUser struct {
	Login     string  `json:"login"`
	ID        any     `json:"id"`
	Name      string  `json:"name"`
	Email     *string `json:"email"`
	AvatarURL string  `json:"avatar_url"`
	HTMLURL   string  `json:"html_url"`
	Type      string  `json:"type"`
}

// gitHubEmail is one entry of GitHub's /user/emails list.
type gitHubEmail struct {
	Email      string  `json:"email"`
	Primary    bool    `json:"primary"`
	Verified   bool    `json:"verified"`
	Visibility *string `json:"visibility"`
}

func (s *Server) handleGitHubUser(w http.ResponseWriter, r *http.Request) {
	at, ok := s.gitHubAuth(w, r)
	if !ok {
		return
	}
	u := at.grant.user
	out := gitHubUser{
		Login:     u.Login,
		ID:        u.Subject,
		Name:      u.Name,
		AvatarURL: s.ts.URL + "/avatars/" + u.Login,
		HTMLURL:   s.ts.URL + "/" + u.Login,
		Type:      "User",
	}
	// GitHub's ids are numbers.
	if n, err := strconv.ParseInt(u.Subject, 10, 64); err == nil && strconv.FormatInt(n, 10) == u.Subject {
		out.ID = n
	}
	if u.Email != "" && !s.opts.GitHubPrivateEmail {
		out.Email = &u.Email
	}
	s.mu.Lock()
	s.stats.UserInfoRequests++
	s.mu.Unlock()
	writeGitHubJSON(w, http.StatusOK, out)
}

// handleGitHubEmails lists the user's addresses: a verified noreply address
// first, then the primary one. Without the user:email or user scope GitHub
// answers 404.
func (s *Server) handleGitHubEmails(w http.ResponseWriter, r *http.Request) {
	at, ok := s.gitHubAuth(w, r)
	if !ok {
		return
	}
	if !hasScope(at.scope, "user:email") && !hasScope(at.scope, "user") {
		writeGitHubJSON(w, http.StatusNotFound, map[string]string{"message": "Not Found"})
		return
	}
	u := at.grant.user
	list := []gitHubEmail{{Email: u.Login + "@users.noreply.github.com", Verified: true}}
	if u.Email != "" {
		visibility := "private"
		if !s.opts.GitHubPrivateEmail {
			visibility = "public"
		}
		list = append(list, gitHubEmail{Email: u.Email, Primary: true, Verified: true, Visibility: &visibility})
	}
	writeGitHubJSON(w, http.StatusOK, list)
}

// gitHubAuth checks what GitHub's API checks first: a User-Agent header, then
// a valid access token as "Authorization: Bearer" or "Authorization: token".
func (s *Server) gitHubAuth(w http.ResponseWriter, r *http.Request) (*accessToken, bool) {
	if r.UserAgent() == "" {
		writeGitHubJSON(w, http.StatusForbidden, map[string]string{
			"message": "Request forbidden by administrative rules. Please make sure your request has a User-Agent header",
		})
		return nil, false
	}
	scheme, tok, _ := strings.Cut(r.Header.Get("Authorization"), " ")
	tok = strings.TrimSpace(tok)
	var at *accessToken
	if (strings.EqualFold(scheme, "Bearer") || strings.EqualFold(scheme, "token")) && tok != "" {
		s.mu.Lock()
		found := s.accessTokens[tok]
		if found != nil && !found.grant.revoked && s.opts.Now().Before(found.expiresAt) {
			at = found
		}
		s.mu.Unlock()
	}
	if at == nil {
		writeGitHubJSON(w, http.StatusUnauthorized, map[string]string{"message": "Bad credentials"})
		return nil, false
	}
	return at, true
}

func writeGitHubJSON(w http.ResponseWriter, status int, v any) {
	b, _ := json.Marshal(v)
	writeNoStore(w, status, "application/json; charset=utf-8", string(b))
}
