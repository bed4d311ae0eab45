package oauthproxytest

import (
	"encoding/json"
	"net/http"
	"strconv"
)

// handleUserInfo returns the user's claims for a valid bearer access token
// (OpenID Connect Core §5.3, RFC 6750 §3).
func (s *Server) handleUserInfo(w http.ResponseWriter, r *http.Request) {
	tok, ok := bearerToken(r)
	if !ok {
		w.Header().Set("WWW-Authenticate", `Bearer realm="oauthproxytest"`)
		writeNoStore(w, http.StatusUnauthorized, "application/json", `{"error":"invalid_request","error_description":"a bearer access token is required"}`)
		return
	}
	s.mu.Lock()
	at, found := s.accessTokens[tok]
	valid := found && !at.grant.revoked && s.opts.Now().Before(at.expiresAt)
	if found && !valid {
		delete(s.accessTokens, tok)
	}
	if valid {
		s.stats.UserInfoRequests++
	}
	s.mu.Unlock()
	if !valid {
		w.Header().Set("WWW-Authenticate", `Bearer realm="oauthproxytest", error="invalid_token", error_description="the access token is invalid, expired or revoked"`)
		writeNoStore(w, http.StatusUnauthorized, "application/json", `{"error":"invalid_token","error_description":"the access token is invalid, expired or revoked"}`)
		return
	}
	b, _ := json.Marshal(userClaims(at.grant.user))
	writeNoStore(w, http.StatusOK, "application/json", string(b))
}

// userClaims is the /userinfo document: OIDC standard claims plus GitHub's login
// and id. id is the subject, as a JSON number when it is all digits, as GitHub's is.
func userClaims(u User) map[string]any {
	var id any = u.Subject
	if n, err := strconv.ParseInt(u.Subject, 10, 64); err == nil && strconv.FormatInt(n, 10) == u.Subject {
		id = n
	}
	return map[string]any{
		"sub":                u.Subject,
		"id":                 id,
		"name":               u.Name,
		"email":              u.Email,
		"email_verified":     u.Email != "",
		"login":              u.Login,
		"preferred_username": u.Login,
	}
}
