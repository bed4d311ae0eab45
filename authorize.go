package oauthproxy

import (
	"context"
	"net/url"
	"slices"
	"strings"

	"github.com/oauthproxy-go/oauthproxy/internal/pkce"
	"github.com/oauthproxy-go/oauthproxy/internal/redirecturi"
)

// AuthorizationRequest is the client's authorization request (RFC 6749 §4.1.1,
// RFC 7636 §4.3, RFC 8707 §2).
type AuthorizationRequest struct {
	ResponseType        string // must be "code"
	ClientID            string
	RedirectURI         string // must equal a registered one (loopback port may vary)
	Scope               string
	State               string // returned unchanged to the client
	CodeChallenge       string // REQUIRED, S256 (S02)
	CodeChallengeMethod string // REQUIRED, "S256"
	Resource            string // OPTIONAL; when sent, must name this server's resource (S10)
	// RememberedConsent is the ConsentResult.RememberedConsent an earlier
	// approval returned for this client, if any (Handler keeps it in a
	// cookie). When it covers this client, redirect URI and scopes, the
	// consent page is skipped.
	RememberedConsent string
}

// AuthorizationResult says where the browser goes next.
type AuthorizationResult struct {
	// RedirectURL is the consent page, or the upstream authorization endpoint
	// when consent is disabled. Send the browser there with a 302.
	RedirectURL string
	// TransactionID identifies the flow; it is the upstream state parameter.
	TransactionID string
	// BrowserBinding, when set, must travel with the browser and come back as
	// CallbackRequest.BrowserBinding: the callback checks it (S09). Handler
	// keeps it in a cookie. It is set when the redirect goes straight
	// upstream (consent disabled or remembered).
	BrowserBinding string
}

// Authorize validates an authorization request (RFC 6749 §4.1.1, OAuth 2.1
// §4.1.1), records the transaction for TransactionTTL and returns where the
// browser goes next. Errors about client_id or redirect_uri have NoRedirect
// set and must be shown to the user; every other error may be sent to
// req.RedirectURI with state and iss, as Handler does (RFC 6749 §4.1.2.1).
func (p *Proxy) Authorize(ctx context.Context, req *AuthorizationRequest) (*AuthorizationResult, error) {
	if oerr := req.checkSizes(); oerr != nil {
		return nil, oerr
	}
	client, oerr := p.lookupClient(ctx, req.ClientID)
	if oerr != nil {
		return nil, oerr
	}
	redirect, oerr := p.matchRegisteredRedirect(client, req.RedirectURI)
	if oerr != nil {
		return nil, oerr
	}
	// From here on, errors may be redirected to the validated redirect URI.
	if req.ResponseType != "code" {
		return nil, newError(ErrCodeUnsupportedResponseType, "response_type must be code")
	}
	// OAuth 2.1 §4.1.1, RFC 9700 §2.1.1: PKCE with S256 is mandatory (S02).
	if req.CodeChallenge == "" {
		return nil, newError(ErrCodeInvalidRequest, "code_challenge is required (PKCE)")
	}
	if req.CodeChallengeMethod != pkce.MethodS256 {
		return nil, newError(ErrCodeInvalidRequest, "code_challenge_method must be S256")
	}
	if !pkce.ValidChallenge(req.CodeChallenge) {
		return nil, newError(ErrCodeInvalidRequest, "code_challenge is malformed")
	}
	if oerr := p.checkResource(req.Resource); oerr != nil {
		return nil, oerr
	}
	scopes, oerr := p.checkScope(req.Scope)
	if oerr != nil {
		return nil, oerr
	}
	scopes, oerr = limitToRegisteredScope(client, strings.Trim(req.Scope, " ") == "", scopes)
	if oerr != nil {
		return nil, oerr
	}

	if oerr := p.admit(ctx, p.pendingQuota); oerr != nil {
		return nil, oerr
	}
	txn := &transaction{
		ClientID:      client.ClientID,
		RedirectURI:   redirect,
		State:         req.State,
		CodeChallenge: req.CodeChallenge,
		Scopes:        scopes,
		Resource:      p.cfg.Resource,
		CreatedAt:     p.cfg.Now(),
		// RFC 8252 §8.6: decided here, where the client is known.
		ConsentRememberable: consentRememberable(client, redirect),
	}
	if !p.cfg.ForwardPKCE {
		txn.UpstreamVerifier = pkce.GenerateVerifier()
	}
	id := randomToken()
	if err := p.putJSON(ctx, hashedKey(nsTransaction, id), txn, p.cfg.TransactionTTL); err != nil {
		return nil, errUnavailable("storage is unavailable, try again", err)
	}

	res := &AuthorizationResult{TransactionID: id}
	if p.cfg.DisableConsent || p.consentRemembered(req.RememberedConsent, txn) {
		res.RedirectURL = p.upstreamAuthorizationURL(id, txn)
		res.BrowserBinding = p.browserBinding(id)
	} else {
		res.RedirectURL = p.cfg.BaseURL + consentPath + "?" + url.Values{"txn": {id}}.Encode()
	}
	return res, nil
}

// matchRegisteredRedirect returns the redirect URI to use: the requested one
// when it equals a registered one (RFC 8252 §7.3 lets a loopback port vary), or
// the only registered one when the request omits it (RFC 6749 §4.1.1). The URI
// must also pass today's AllowedRedirectURIPatterns (S22): patterns tightened
// since the client registered cut it off here, on an error page (S01).
func (p *Proxy) matchRegisteredRedirect(c *clientRecord, requested string) (string, *Error) {
	if requested == "" {
		if len(c.RedirectURIs) == 1 {
			return p.stillAllowedRedirect(c.RedirectURIs[0])
		}
		return "", newError(ErrCodeInvalidRequest, "redirect_uri is required").noRedirect()
	}
	if slices.Contains(c.RedirectURIs, requested) {
		// Byte for byte a registered one (the usual case): it was parsed
		// and checked at registration, and stillAllowedRedirect parses it
		// against today's patterns, refusing it if it no longer parses.
		return p.stillAllowedRedirect(requested)
	}
	if _, err := redirecturi.Parse(requested); err != nil {
		return "", errorf(ErrCodeInvalidRequest, "redirect_uri is invalid: %v", err).noRedirect()
	}
	if slices.ContainsFunc(c.RedirectURIs, func(registered string) bool {
		return redirecturi.Equal(registered, requested)
	}) {
		return p.stillAllowedRedirect(requested)
	}
	return "", newError(ErrCodeInvalidRequest, "redirect_uri is not registered for this client").noRedirect()
}

// checkResource enforces RFC 8707 §2: a resource indicator, when sent, must
// name the protected resource this server issues tokens for (S10).
func (p *Proxy) checkResource(resource string) *Error {
	if resource == "" || resource == p.cfg.Resource {
		return nil
	}
	return newError(ErrCodeInvalidTarget, "resource is not served by this authorization server")
}

// upstreamAuthorizationURL builds the redirect to the provider: the proxy's own
// client, its callback, the transaction as state, and an S256 challenge — the
// proxy's own, or the client's in ForwardPKCE mode.
func (p *Proxy) upstreamAuthorizationURL(txnID string, txn *transaction) string {
	challenge := txn.CodeChallenge
	if !p.cfg.ForwardPKCE {
		challenge = pkce.Challenge(txn.UpstreamVerifier)
	}
	return p.upstreamAuthorizationURLs.build(txnID, challenge, txn.Scopes)
}

// errorRedirectURL renders err as an authorization error response on the
// client's redirect URI (RFC 6749 §4.1.2.1) with state and iss (RFC 9207, S12).
// Call it only for errors without NoRedirect, with a redirect URI Authorize
// accepted.
func (p *Proxy) errorRedirectURL(redirectURI, state string, err *Error) string {
	params := url.Values{}
	for k, v := range wireError(err) {
		params.Set(k, v)
	}
	return p.authorizationResponseURL(redirectURI, state, params)
}

// authorizationResponseURL appends params, state and iss to the client's
// redirect URI, keeping any query it already has (RFC 6749 §3.1.2).
func (p *Proxy) authorizationResponseURL(redirectURI, state string, params url.Values) string {
	u, err := url.Parse(redirectURI)
	if err != nil {
		return "" // unreachable: the URI was validated at registration and at /authorize
	}
	q := u.Query()
	for k, vs := range params {
		q[k] = vs
	}
	if state != "" {
		q.Set("state", state)
	}
	q.Set("iss", p.cfg.BaseURL) // RFC 9207 §2
	u.RawQuery = q.Encode()
	return u.String()
}
