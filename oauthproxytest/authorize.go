package oauthproxytest

import (
	"net/http"
	"net/url"
	"time"
)

// authRequest is an authorization request that passed validation (RFC 6749 §4.1.1).
type authRequest struct {
	redirectURI *url.URL
	redirectRaw string // as sent, for the exact match RFC 6749 §4.1.3 requires
	state       string
	scope       string
	nonce       string
	challenge   string // S256 code_challenge, or "" when the client sent none
	accessType  string // Google's access_type, for GoogleOfflineAccess
	prompt      string // OpenID Connect Core §3.1.2.1 prompt
}

// authCode is an issued authorization code and what it is bound to.
type authCode struct {
	redirectURI string
	scope       string
	nonce       string
	challenge   string
	accessType  string
	prompt      string
	user        User
	authTime    time.Time
	expiresAt   time.Time
}

// oauthError is an RFC 6749 error code with a human-readable description.
type oauthError struct {
	code        string
	description string
}

func errorf(code, description string) *oauthError {
	return &oauthError{code: code, description: description}
}

// handleAuthorize serves the authorization endpoint (RFC 6749 §4.1.1).
func (s *Server) handleAuthorize(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	s.mu.Lock()
	s.lastAuthorize = cloneValues(q)
	s.mu.Unlock()

	// RFC 6749 §4.1.2.1: a bad client_id or redirect_uri is shown to the user and
	// never redirected, so the endpoint cannot be used as an open redirector.
	redirectURI, msg := s.checkClient(q)
	if msg != "" {
		renderErrorPage(w, http.StatusBadRequest, msg)
		return
	}
	req, oerr := s.parseAuthorize(q)
	if oerr != nil {
		s.redirectError(w, r, redirectURI, q.Get("state"), oerr, http.StatusFound)
		return
	}
	req.redirectURI, req.redirectRaw = redirectURI, q.Get("redirect_uri")
	switch {
	case s.opts.DenyAuthorization:
		s.redirectError(w, r, redirectURI, req.state, errorf("access_denied", "the user denied the request"), http.StatusFound)
	case s.opts.LoginPage && q.Get("prompt") == "none":
		// OpenID Connect Core §3.1.2.6: no UI may be shown, and a login is needed.
		s.redirectError(w, r, redirectURI, req.state, errorf("login_required", "the user must sign in"), http.StatusFound)
	case s.opts.LoginPage:
		s.renderLoginPage(w, req)
	default:
		s.redirectCode(w, r, req, http.StatusFound)
	}
}

// checkClient validates client_id and redirect_uri, returning the parsed
// redirect URI or a message for the error page.
func (s *Server) checkClient(q url.Values) (*url.URL, string) {
	// RFC 6749 §3.1: parameters MUST NOT be included more than once.
	if len(q["client_id"]) > 1 || len(q["redirect_uri"]) > 1 {
		return nil, "client_id and redirect_uri must each be sent once."
	}
	if q.Get("client_id") != s.opts.ClientID {
		return nil, "Unknown client_id."
	}
	raw := q.Get("redirect_uri")
	if raw == "" {
		return nil, "redirect_uri is required."
	}
	// RFC 6749 §3.1.2: an absolute URI without a fragment.
	u, err := url.Parse(raw)
	if err != nil || !u.IsAbs() || u.Fragment != "" || u.Opaque != "" {
		return nil, "redirect_uri must be an absolute URI without a fragment."
	}
	return u, ""
}

// parseAuthorize checks the parameters whose errors are redirected to the client.
func (s *Server) parseAuthorize(q url.Values) (authRequest, *oauthError) {
	req := authRequest{state: q.Get("state")}
	for name, values := range q {
		if len(values) > 1 {
			return req, errorf("invalid_request", name+" is repeated")
		}
	}
	switch rt := q.Get("response_type"); rt {
	case "code":
	case "":
		return req, errorf("invalid_request", "response_type is required")
	default:
		return req, errorf("unsupported_response_type", "only response_type=code is supported")
	}
	if !validScope(q.Get("scope")) {
		return req, errorf("invalid_scope", "scope has characters RFC 6749 §3.3 forbids")
	}
	req.scope = normalizeScope(q.Get("scope"))
	req.nonce = q.Get("nonce")
	req.accessType, req.prompt = q.Get("access_type"), q.Get("prompt")

	challenge, method := q.Get("code_challenge"), q.Get("code_challenge_method")
	switch {
	case challenge == "" && method != "":
		return req, errorf("invalid_request", "code_challenge_method without code_challenge")
	case challenge == "" && (s.opts.RequirePKCE || s.opts.AuthMethod == AuthMethodNone):
		return req, errorf("invalid_request", "code_challenge is required")
	case challenge == "":
	case method != "S256":
		// RFC 7636 §4.4.1: a missing method means "plain", which is not supported.
		return req, errorf("invalid_request", "transform algorithm not supported: use code_challenge_method=S256")
	case len(challenge) != 43 || !validPKCEString(challenge):
		return req, errorf("invalid_request", "code_challenge is not a base64url SHA-256 digest")
	}
	req.challenge = challenge
	return req, nil
}

// issueCode records a single-use code bound to the request and the current user.
func (s *Server) issueCode(req authRequest) string {
	code := randomToken()
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.opts.Now()
	s.codes[code] = &authCode{
		redirectURI: req.redirectRaw,
		scope:       req.scope,
		nonce:       req.nonce,
		challenge:   req.challenge,
		accessType:  req.accessType,
		prompt:      req.prompt,
		user:        s.user,
		authTime:    now,
		expiresAt:   now.Add(codeTTL),
	}
	s.stats.Authorizations++
	return code
}

// redirectCode sends the authorization response (RFC 6749 §4.1.2).
func (s *Server) redirectCode(w http.ResponseWriter, r *http.Request, req authRequest, status int) {
	params := url.Values{"code": {s.issueCode(req)}}
	if req.state != "" {
		params.Set("state", req.state)
	}
	s.redirect(w, r, req.redirectURI, params, status)
}

// redirectError sends an error response to the client (RFC 6749 §4.1.2.1).
func (s *Server) redirectError(w http.ResponseWriter, r *http.Request, redirectURI *url.URL, state string, e *oauthError, status int) {
	params := url.Values{"error": {e.code}, "error_description": {e.description}}
	if state != "" {
		params.Set("state", state)
	}
	s.redirect(w, r, redirectURI, params, status)
}

// redirect adds params and iss (RFC 9207) to the redirect URI, keeping its own query
// as RFC 6749 §3.1.2 requires.
func (s *Server) redirect(w http.ResponseWriter, r *http.Request, redirectURI *url.URL, params url.Values, status int) {
	u := *redirectURI
	q := u.Query()
	for k, v := range params {
		q[k] = v
	}
	q.Set("iss", s.Issuer())
	u.RawQuery = q.Encode()
	w.Header().Set("Cache-Control", "no-store")
	http.Redirect(w, r, u.String(), status)
}
