package oauthproxy

import (
	"encoding/base64"
	"errors"
	"log/slog"
	"net/http"
	"net/url"
	"strings"

	"github.com/oauthproxy-go/oauthproxy/internal/httpx"
)

// Endpoint paths, relative to BaseURL.
const (
	authorizePath = "/oauth/authorize"
	tokenPath     = "/oauth/token"
	registerPath  = "/oauth/register"
)

// reservedPaths are the proxy's endpoint paths (under BaseURL's path), which
// RedirectPath must not take.
var reservedPaths = []string{authorizePath, tokenPath, registerPath, revokePath, consentPath, introspectPath}

// routes wires every endpoint. Each handler decodes, calls the typed method and
// encodes; all the OAuth logic lives in the methods.
func (p *Proxy) routes() http.Handler {
	mux := newExactRoutes()
	base := p.issuerPath()

	metadata := httpx.CORS(http.HandlerFunc(p.serveAuthorizationServerMetadata))
	mux.handle(http.MethodGet, wellKnownAuthServer, metadata)
	mux.handle(http.MethodOptions, wellKnownAuthServer, metadata)
	if base != "" {
		// RFC 8414 §3.1: for an issuer with a path, the well-known segment goes
		// between the host and the path.
		mux.handle(http.MethodGet, wellKnownAuthServer+base, metadata)
		mux.handle(http.MethodOptions, wellKnownAuthServer+base, metadata)
	}
	resource := httpx.CORS(http.HandlerFunc(p.serveProtectedResourceMetadata))
	for _, path := range p.resourceMetadataPaths() {
		mux.handle(http.MethodGet, path, resource)
		mux.handle(http.MethodOptions, path, resource)
	}

	limits := p.cfg.RateLimits
	register := httpx.CORS(p.limitRate(rateClassRegister, limits.Register, http.HandlerFunc(p.serveRegister)))
	mux.handle(http.MethodPost, base+registerPath, register)
	mux.handle(http.MethodOptions, base+registerPath, register)
	token := httpx.CORS(p.limitRate(rateClassToken, limits.Token, http.HandlerFunc(p.serveToken)))
	mux.handle(http.MethodPost, base+tokenPath, token)
	mux.handle(http.MethodOptions, base+tokenPath, token)
	revoke := httpx.CORS(p.limitRate(rateClassRevoke, limits.Revoke, http.HandlerFunc(p.serveRevoke)))
	mux.handle(http.MethodPost, base+revokePath, revoke)
	mux.handle(http.MethodOptions, base+revokePath, revoke)
	// Introspection is for servers, not browsers: no CORS (RFC 7662 §2.1).
	mux.handle(http.MethodPost, base+introspectPath, p.limitRate(rateClassIntrospect, limits.Introspect, http.HandlerFunc(p.serveIntrospect)))
	jwks := httpx.CORS(http.HandlerFunc(p.serveJWKS))
	mux.handle(http.MethodGet, base+jwksPath, jwks)
	mux.handle(http.MethodOptions, base+jwksPath, jwks)

	mux.handle(http.MethodGet, base+authorizePath, p.limitRate(rateClassAuthorize, limits.Authorize, http.HandlerFunc(p.serveAuthorize)))
	consent := func(h http.Handler) http.Handler { return p.limitRate(rateClassConsent, limits.Consent, h) }
	mux.handle(http.MethodGet, base+consentPath, consent(http.HandlerFunc(p.serveConsentPage)))
	// The consent POST is refused when a browser says it comes from another
	// origin (Sec-Fetch-Site / Origin), on top of the CSRF token (S08).
	mux.handle(http.MethodPost, base+consentPath, consent(http.NewCrossOriginProtection().Handler(http.HandlerFunc(p.serveConsentDecision))))
	mux.handle(http.MethodGet, base+p.cfg.RedirectPath, consent(http.HandlerFunc(p.serveCallback)))
	// The audit events and the rate limits name the client's address, from
	// clientAddr: each handler passes it to the typed methods in their
	// context (requestContext), not by copying every request with
	// WithContext (issue 16).
	return mux
}

// resourceMetadataPaths are the RFC 9728 §3.1 locations: the bare well-known
// path and the one with the resource's path appended.
func (p *Proxy) resourceMetadataPaths() []string {
	paths := []string{wellKnownResource}
	if u, err := url.Parse(p.ProtectedResourceMetadataURL()); err == nil && u.Path != wellKnownResource {
		paths = append(paths, u.Path)
	}
	return paths
}

func (p *Proxy) serveAuthorizationServerMetadata(w http.ResponseWriter, r *http.Request) {
	httpx.WriteJSON(w, http.StatusOK, p.GetAuthorizationServerMetadata())
}

func (p *Proxy) serveProtectedResourceMetadata(w http.ResponseWriter, r *http.Request) {
	httpx.WriteJSON(w, http.StatusOK, p.GetProtectedResourceMetadata())
}

// serveRegister is POST /oauth/register (RFC 7591 §3.1).
func (p *Proxy) serveRegister(w http.ResponseWriter, r *http.Request) {
	httpx.NoStore(w)
	var md ClientMetadata
	if err := httpx.ReadJSON(w, r, &md); err != nil {
		p.writeError(w, r, newError(ErrCodeInvalidClientMetadata, publicText(err)))
		return
	}
	info, err := p.RegisterClient(p.requestContext(r), &md)
	if err != nil {
		p.writeError(w, r, err)
		return
	}
	httpx.WriteJSON(w, http.StatusCreated, info)
}

// readClientForm starts the token, revocation and introspection endpoints:
// their answers are never cached (RFC 6749 §5.1, RFC 7009 §2.2, RFC 7662 §4;
// S13), and they take a form body with the client's credentials (RFC 6749
// §2.3.1). ok is false when it has already answered with the error.
func (p *Proxy) readClientForm(w http.ResponseWriter, r *http.Request) (form url.Values, cred ClientCredentials, ok bool) {
	httpx.NoStore(w)
	form, err := httpx.ReadForm(w, r)
	if err != nil {
		p.writeError(w, r, newError(ErrCodeInvalidRequest, publicText(err)))
		return nil, ClientCredentials{}, false
	}
	cred, oerr := clientCredentials(r, form)
	if oerr != nil {
		p.writeError(w, r, oerr)
		return nil, ClientCredentials{}, false
	}
	return form, cred, true
}

// serveToken is POST /oauth/token (RFC 6749 §3.2).
func (p *Proxy) serveToken(w http.ResponseWriter, r *http.Request) {
	form, cred, ok := p.readClientForm(w, r)
	if !ok {
		return
	}
	req := &TokenRequest{
		GrantType:    form.Get("grant_type"),
		Code:         form.Get("code"),
		RedirectURI:  form.Get("redirect_uri"),
		CodeVerifier: form.Get("code_verifier"),
		RefreshToken: form.Get("refresh_token"),
		Scope:        form.Get("scope"),
		Resource:     form.Get("resource"),
		Client:       cred,
	}
	var resp *TokenResponse
	var err error
	switch req.GrantType {
	case grantAuthorizationCode:
		resp, err = p.ExchangeAuthorizationCode(p.requestContext(r), req)
	case grantRefreshToken:
		resp, err = p.ExchangeRefreshToken(p.requestContext(r), req)
	case "":
		err = newError(ErrCodeInvalidRequest, "grant_type is required")
	default:
		err = newError(ErrCodeUnsupportedGrantType, "grant_type must be authorization_code or refresh_token")
	}
	if err != nil {
		p.writeError(w, r, err)
		return
	}
	httpx.WriteJSON(w, http.StatusOK, resp)
}

// clientCredentials reads client authentication from HTTP Basic or the body
// (RFC 6749 §2.3.1). Using both at once is refused (§2.3).
func clientCredentials(r *http.Request, form url.Values) (ClientCredentials, *Error) {
	auth := r.Header.Get("Authorization")
	if auth == "" {
		cred := ClientCredentials{ClientID: form.Get("client_id"), ClientSecret: form.Get("client_secret"), Method: AuthMethodNone}
		if form.Has("client_secret") {
			cred.Method = AuthMethodClientSecretPost
		}
		return cred, nil
	}
	scheme, payload, _ := strings.Cut(auth, " ")
	fail := &Error{Code: ErrCodeInvalidClient, Description: "malformed Basic credentials", Status: http.StatusUnauthorized, BasicAuth: true}
	if !strings.EqualFold(scheme, "Basic") {
		return ClientCredentials{}, fail
	}
	raw, err := base64.StdEncoding.DecodeString(strings.TrimSpace(payload))
	if err != nil {
		return ClientCredentials{}, fail
	}
	rawID, rawSecret, ok := strings.Cut(string(raw), ":")
	if !ok {
		return ClientCredentials{}, fail
	}
	// RFC 6749 §2.3.1: id and secret are form-urlencoded before Basic encoding.
	id, err1 := url.QueryUnescape(rawID)
	secret, err2 := url.QueryUnescape(rawSecret)
	if err1 != nil || err2 != nil {
		return ClientCredentials{}, fail
	}
	if form.Has("client_secret") {
		return ClientCredentials{}, newError(ErrCodeInvalidRequest, "use one client authentication method, not two")
	}
	if form.Has("client_id") && form.Get("client_id") != id {
		return ClientCredentials{}, fail
	}
	return ClientCredentials{ClientID: id, ClientSecret: secret, Method: AuthMethodClientSecretBasic}, nil
}

// serveAuthorize is GET /oauth/authorize (RFC 6749 §4.1.1).
func (p *Proxy) serveAuthorize(w http.ResponseWriter, r *http.Request) {
	q := httpx.Query(r.URL)
	if err := httpx.Single(q); err != nil {
		p.writeBrowserError(w, r, newError(ErrCodeInvalidRequest, publicText(err)).noRedirect())
		return
	}
	req := &AuthorizationRequest{
		ResponseType:        q.Get("response_type"),
		ClientID:            q.Get("client_id"),
		RedirectURI:         q.Get("redirect_uri"),
		Scope:               q.Get("scope"),
		State:               q.Get("state"),
		CodeChallenge:       q.Get("code_challenge"),
		CodeChallengeMethod: q.Get("code_challenge_method"),
		Resource:            q.Get("resource"),
		RememberedConsent:   p.rememberCookie(r, q.Get("client_id")),
	}
	ctx := p.requestContext(r)
	res, err := p.Authorize(ctx, req)
	if err != nil {
		oerr := asError(err)
		if oerr.NoRedirect {
			p.writeBrowserError(w, r, oerr)
			return
		}
		redirectURI := req.RedirectURI
		if redirectURI == "" {
			// Authorize accepted an omitted redirect_uri: the client has one.
			if c, cerr := p.lookupClient(ctx, req.ClientID); cerr == nil {
				redirectURI = c.RedirectURIs[0]
			}
		}
		httpx.Redirect(w, r, p.errorRedirectURL(redirectURI, req.State, oerr), http.StatusFound)
		return
	}
	if res.BrowserBinding != "" {
		p.setBindingCookie(w, res.TransactionID, res.BrowserBinding)
	}
	httpx.Redirect(w, r, res.RedirectURL, http.StatusFound)
}

// serveCallback is GET RedirectPath, where the upstream returns the browser.
func (p *Proxy) serveCallback(w http.ResponseWriter, r *http.Request) {
	q := httpx.Query(r.URL)
	state := q.Get("state")
	res, err := p.HandleCallback(p.requestContext(r), &CallbackRequest{
		Code:             q.Get("code"),
		State:            state,
		Error:            q.Get("error"),
		ErrorDescription: q.Get("error_description"),
		BrowserBinding:   p.bindingCookie(r, state),
	})
	if err != nil {
		p.writeBrowserError(w, r, asError(err))
		return
	}
	p.clearBindingCookie(w, state)
	httpx.Redirect(w, r, res.RedirectURL, http.StatusFound)
}

// writeError renders err as RFC 6749 §5.2 JSON. invalid_client after Basic
// authentication is 401 with WWW-Authenticate (§5.2).
func (p *Proxy) writeError(w http.ResponseWriter, r *http.Request, err error) {
	oerr := asError(err)
	p.logError(r, oerr)
	httpx.NoStore(w)
	setRetryAfter(w, oerr)
	if oerr.Code == ErrCodeInvalidClient && oerr.BasicAuth {
		w.Header().Set("WWW-Authenticate", `Basic realm="oauthproxy", charset="UTF-8"`)
	}
	httpx.WriteJSON(w, oerr.Status, wireError(oerr))
}

// wireError is the RFC 6749 §5.2 body: only the public fields, the
// description through publicDescription (S21). Redirected errors use it too.
func wireError(e *Error) map[string]string {
	body := map[string]string{"error": e.Code}
	if e.Description != "" {
		body["error_description"] = publicDescription(e.Description)
	}
	return body
}

// logError logs a failed request: at Error when the proxy or a dependency
// failed, at Debug when it refused by design. A refusal that carries
// Retry-After (a full quota, busy metadata fetches, a rate limit) is the
// latter, so a flood of them cannot flood the log (S19, S20).
func (p *Proxy) logError(r *http.Request, e *Error) {
	if !p.log.Enabled(r.Context(), slog.LevelDebug) && (e.Status < 500 || e.RetryAfter > 0) {
		return
	}
	attrs := []any{"path", r.URL.Path, "error", e.Code, "remote_addr", clientAddr(r, p.cfg.trustedProxies)}
	if e.Cause != nil {
		attrs = append(attrs, "cause", e.Cause.Error())
	}
	if e.Status >= 500 && e.RetryAfter == 0 {
		p.log.Error("oauthproxy: request failed", attrs...)
	} else {
		p.log.Debug("oauthproxy: request refused", attrs...)
	}
}

// publicText is the client-safe text of a decoding error.
func publicText(err error) string {
	if errors.Is(err, httpx.ErrBadRequest) {
		return strings.TrimPrefix(err.Error(), httpx.ErrBadRequest.Error()+": ")
	}
	return "malformed request"
}
