package oauthproxytest

import (
	"crypto/subtle"
	"encoding/json"
	"mime"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// grant is one user's authorization of the client; its tokens point to it, so
// revoking it kills every token issued from it.
type grant struct {
	user     User
	scope    string
	authTime time.Time
	revoked  bool
}

// accessToken is an issued bearer token.
type accessToken struct {
	grant     *grant
	scope     string
	expiresAt time.Time
}

// tokenResponse is the successful token response of RFC 6749 §5.1.
type tokenResponse struct {
	AccessToken  string `json:"access_token"`
	TokenType    string `json:"token_type"`
	ExpiresIn    int64  `json:"expires_in,omitempty"`
	RefreshToken string `json:"refresh_token,omitempty"`
	Scope        string `json:"scope,omitempty"`
	IDToken      string `json:"id_token,omitempty"`
}

// handleToken serves the token endpoint (RFC 6749 §3.2).
func (s *Server) handleToken(w http.ResponseWriter, r *http.Request) {
	form, formErr := parseTokenForm(w, r)
	s.mu.Lock()
	s.lastToken = cloneValues(form)
	s.lastTokenAuth = presentedAuthMethod(r, form)
	s.mu.Unlock()

	if !s.waitIfHung(w, r) {
		return
	}
	if s.writeCanned(w) {
		return
	}
	if formErr != nil {
		s.writeTokenError(w, formErr)
		return
	}
	if e := s.authenticateClient(r, form); e != nil {
		s.writeTokenError(w, e)
		return
	}
	var resp *tokenResponse
	var e *oauthError
	switch gt := form.Get("grant_type"); gt {
	case "authorization_code":
		resp, e = s.exchangeCode(form)
	case "refresh_token":
		resp, e = s.refresh(form)
	case "":
		e = errorf("invalid_request", "grant_type is required")
	default:
		e = errorf("unsupported_grant_type", "grant_type "+gt+" is not supported")
	}
	if e != nil {
		s.writeTokenError(w, e)
		return
	}
	s.writeToken(w, resp)
}

// parseTokenForm reads the form body; RFC 6749 §3.2 requires POST with
// application/x-www-form-urlencoded, and §3.2 forbids repeated parameters.
func parseTokenForm(w http.ResponseWriter, r *http.Request) (url.Values, *oauthError) {
	mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if err != nil || mt != "application/x-www-form-urlencoded" {
		return url.Values{}, errorf("invalid_request", "the body must be application/x-www-form-urlencoded")
	}
	r.Body = http.MaxBytesReader(w, r.Body, 1<<16)
	if err := r.ParseForm(); err != nil {
		return url.Values{}, errorf("invalid_request", "malformed form body")
	}
	for name, values := range r.PostForm {
		if len(values) > 1 {
			return r.PostForm, errorf("invalid_request", name+" is repeated")
		}
	}
	return r.PostForm, nil
}

func presentedAuthMethod(r *http.Request, form url.Values) string {
	if _, _, ok := r.BasicAuth(); ok {
		return AuthMethodBasic
	}
	if form.Has("client_secret") {
		return AuthMethodPost
	}
	return "none"
}

// authenticateClient checks the credentials by the one method the server requires.
func (s *Server) authenticateClient(r *http.Request, form url.Values) *oauthError {
	hasHeader := r.Header.Get("Authorization") != ""
	// RFC 6749 §2.3: a client MUST NOT use more than one authentication method.
	if hasHeader && form.Has("client_secret") {
		return errorf("invalid_request", "more than one client authentication method")
	}
	if s.opts.AuthMethod == AuthMethodNone {
		// RFC 6749 §2.1, §3.2.1: a public client identifies itself by
		// client_id and presents no credentials.
		if hasHeader || form.Has("client_secret") {
			return errorf("invalid_client", "this client is public: it has no credentials to present")
		}
		if subtle.ConstantTimeCompare([]byte(form.Get("client_id")), []byte(s.opts.ClientID)) != 1 {
			return errorf("invalid_client", "client_id is missing or unknown")
		}
		return nil
	}
	var id, secret string
	if s.opts.AuthMethod == AuthMethodBasic {
		user, pass, ok := r.BasicAuth()
		if !ok {
			return errorf("invalid_client", "client_secret_basic authentication is required")
		}
		// RFC 6749 §2.3.1: both parts are form-urlencoded before base64.
		var err1, err2 error
		id, err1 = url.QueryUnescape(user)
		secret, err2 = url.QueryUnescape(pass)
		if err1 != nil || err2 != nil {
			return errorf("invalid_client", "malformed client credentials")
		}
		if form.Has("client_id") && form.Get("client_id") != id {
			return errorf("invalid_client", "client_id does not match the authenticated client")
		}
	} else {
		if hasHeader {
			return errorf("invalid_client", "client_secret_post authentication is required")
		}
		id, secret = form.Get("client_id"), form.Get("client_secret")
	}
	idOK := subtle.ConstantTimeCompare([]byte(id), []byte(s.opts.ClientID)) == 1
	secretOK := subtle.ConstantTimeCompare([]byte(secret), []byte(s.opts.ClientSecret)) == 1
	if !idOK || !secretOK {
		return errorf("invalid_client", "client authentication failed")
	}
	return nil
}

// exchangeCode runs the authorization_code grant (RFC 6749 §4.1.3, RFC 7636 §4.6).
func (s *Server) exchangeCode(form url.Values) (*tokenResponse, *oauthError) {
	code := form.Get("code")
	if code == "" {
		return nil, errorf("invalid_request", "code is required")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	// The first attempt burns the code, successful or not.
	ac, ok := s.codes[code]
	delete(s.codes, code)
	if !ok {
		// RFC 6749 §4.1.2: a code used twice revokes the tokens issued from it.
		if g := s.usedCodes[code]; g != nil {
			g.revoked = true
		}
		return nil, errorf("invalid_grant", "the code is invalid, expired or already used")
	}
	if !s.opts.Now().Before(ac.expiresAt) {
		return nil, errorf("invalid_grant", "the code has expired")
	}
	if form.Get("redirect_uri") != ac.redirectURI {
		return nil, errorf("invalid_grant", "redirect_uri does not match the authorization request")
	}
	verifier := form.Get("code_verifier")
	switch {
	case ac.challenge == "" && verifier != "":
		// RFC 9700 §2.1.1: refuse a verifier when no challenge was sent (PKCE downgrade).
		return nil, errorf("invalid_grant", "code_verifier sent but the authorization request had no code_challenge")
	case ac.challenge == "":
	case verifier == "":
		return nil, errorf("invalid_grant", "code_verifier is required")
	case !validPKCEString(verifier) || !verifyS256(verifier, ac.challenge):
		return nil, errorf("invalid_grant", "code_verifier does not match the code_challenge")
	}
	g := &grant{user: ac.user, scope: ac.scope, authTime: ac.authTime}
	s.usedCodes[code] = g
	resp := s.issueLocked(g, g.scope, ac.nonce)
	if s.issuesRefreshTokenLocked(ac) {
		resp.RefreshToken = randomToken()
		s.refreshTokens[resp.RefreshToken] = g
	}
	s.stats.CodeExchanges++
	return resp, nil
}

// refresh runs the refresh_token grant (RFC 6749 §6).
func (s *Server) refresh(form url.Values) (*tokenResponse, *oauthError) {
	rt := form.Get("refresh_token")
	if rt == "" {
		return nil, errorf("invalid_request", "refresh_token is required")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	g, ok := s.refreshTokens[rt]
	if !ok || g.revoked {
		return nil, errorf("invalid_grant", "the refresh token is invalid or revoked")
	}
	scope := g.scope
	if requested := form.Get("scope"); requested != "" {
		// RFC 6749 §6: the scope MUST NOT include any scope not originally granted.
		if !validScope(requested) || !scopeWithin(requested, g.scope) {
			return nil, errorf("invalid_scope", "the scope exceeds the original grant")
		}
		scope = normalizeScope(requested)
	}
	resp := s.issueLocked(g, scope, "")
	switch {
	case s.opts.RotateRefreshTokens:
		delete(s.refreshTokens, rt)
		resp.RefreshToken = randomToken()
		s.refreshTokens[resp.RefreshToken] = g
	case !s.opts.OmitRefreshTokenOnRefresh:
		resp.RefreshToken = rt
	}
	s.stats.Refreshes++
	return resp, nil
}

// issueLocked makes an access token for g with scope less what the user
// declined, and an id_token when enabled and that scope holds "openid". s.mu
// must be held.
func (s *Server) issueLocked(g *grant, scope, nonce string) *tokenResponse {
	scope = withoutScopes(scope, s.declined)
	now := s.opts.Now()
	tok := randomToken()
	s.accessTokens[tok] = &accessToken{grant: g, scope: scope, expiresAt: now.Add(s.opts.AccessTokenTTL)}
	resp := &tokenResponse{AccessToken: tok, TokenType: "Bearer", Scope: scope}
	if !s.opts.OmitExpiresIn {
		resp.ExpiresIn = int64(s.opts.AccessTokenTTL / time.Second)
	}
	if s.opts.IssueIDToken && hasScope(scope, "openid") {
		resp.IDToken = s.signIDToken(g, nonce, now)
	}
	return resp
}

// writeToken writes a token response as JSON, or form-encoded for the GitHub quirk.
func (s *Server) writeToken(w http.ResponseWriter, resp *tokenResponse) {
	if s.opts.CommaSeparatedScope {
		resp.Scope = strings.Join(strings.Fields(resp.Scope), ",")
	}
	if s.opts.FormEncodedTokenResponse {
		v := url.Values{"access_token": {resp.AccessToken}, "token_type": {resp.TokenType}, "scope": {resp.Scope}}
		if resp.ExpiresIn != 0 {
			v.Set("expires_in", strconv.FormatInt(resp.ExpiresIn, 10))
		}
		if resp.RefreshToken != "" {
			v.Set("refresh_token", resp.RefreshToken)
		}
		if resp.IDToken != "" {
			v.Set("id_token", resp.IDToken)
		}
		writeNoStore(w, http.StatusOK, "application/x-www-form-urlencoded", v.Encode())
		return
	}
	b, _ := json.Marshal(resp)
	writeNoStore(w, http.StatusOK, "application/json", string(b))
}

// writeTokenError writes an RFC 6749 §5.2 error: JSON with 400 (401 for
// invalid_client), or form-encoded with 200 for the GitHub quirk.
func (s *Server) writeTokenError(w http.ResponseWriter, e *oauthError) {
	s.mu.Lock()
	s.stats.FailedTokenRequests++
	s.mu.Unlock()
	if s.opts.FormEncodedTokenResponse {
		v := url.Values{"error": {e.code}, "error_description": {e.description}}
		writeNoStore(w, http.StatusOK, "application/x-www-form-urlencoded", v.Encode())
		return
	}
	status := http.StatusBadRequest
	if e.code == "invalid_client" {
		status = http.StatusUnauthorized
		if s.opts.AuthMethod == AuthMethodBasic {
			w.Header().Set("WWW-Authenticate", `Basic realm="oauthproxytest"`)
		}
	}
	b, _ := json.Marshal(map[string]string{"error": e.code, "error_description": e.description})
	writeNoStore(w, status, "application/json", string(b))
}

// writeNoStore writes a body that must not be cached (RFC 6749 §5.1).
func writeNoStore(w http.ResponseWriter, status int, contentType, body string) {
	h := w.Header()
	h.Set("Content-Type", contentType)
	h.Set("Cache-Control", "no-store")
	h.Set("Pragma", "no-cache")
	w.WriteHeader(status)
	_, _ = w.Write([]byte(body))
}

// bearerToken extracts the token of an "Authorization: Bearer" header (RFC 6750 §2.1).
func bearerToken(r *http.Request) (string, bool) {
	scheme, tok, ok := strings.Cut(r.Header.Get("Authorization"), " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") {
		return "", false
	}
	tok = strings.TrimSpace(tok)
	return tok, tok != ""
}
