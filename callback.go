package oauthproxy

import (
	"context"
	"errors"
	"net/http"
	"net/url"

	"github.com/google/uuid"
	"github.com/oauthproxy-go/oauthproxy/internal/upstream"
)

// errNoSubject is the cause logged when a sign-in yields no "sub": it names
// the fixes in the order they usually apply.
var errNoSubject = errors.New("oauthproxy: no subject from the upstream: request the openid scope " +
	"(Config.Scopes) so an OpenID provider returns an id_token; for a provider without id_tokens, " +
	"use a providers preset (providers.GitHub), or set UpstreamUserInfoEndpoint or a ClaimsExtractor")

// CallbackRequest is the upstream's authorization response at RedirectPath
// (RFC 6749 §4.1.2 and §4.1.2.1), plus the browser-binding cookie.
type CallbackRequest struct {
	Code             string
	State            string // the transaction id
	Error            string
	ErrorDescription string
	// BrowserBinding is the value Authorize or HandleConsent returned for this
	// transaction, as the browser brought it back (Handler reads it from a
	// cookie).
	BrowserBinding string
}

// CallbackResult is where the browser goes next: the client's redirect URI with
// the proxy's code (or an error), state and iss.
type CallbackResult struct {
	RedirectURL string
}

// HandleCallback completes the upstream leg. It checks the browser binding
// (S09), takes the transaction atomically, redeems the upstream code, records
// the grant and returns the client's redirect with the proxy's own code bound
// to client, redirect URI, PKCE challenge and resource (S04), plus state and iss
// (S12). Upstream errors are relayed to the client sanitized (S18). Errors with
// NoRedirect cannot be tied to a client and must be shown to the user.
func (p *Proxy) HandleCallback(ctx context.Context, req *CallbackRequest) (*CallbackResult, error) {
	if req.State == "" {
		return nil, newError(ErrCodeInvalidRequest, "state is missing").noRedirect()
	}
	// The binding is an HMAC of the state, so it is checked before touching
	// storage: a forged callback cannot consume someone else's transaction.
	if !p.verifySigned(req.BrowserBinding, purposeBinding, req.State) {
		return nil, newError(ErrCodeAccessDenied,
			"this sign-in was started in a different browser; start again from your application").noRedirect()
	}
	var txn transaction
	if oerr := p.takeTransaction(ctx, req.State, &txn); oerr != nil {
		return nil, oerr
	}
	if _, oerr := p.stillAllowedRedirect(txn.RedirectURI); oerr != nil {
		// S22: the patterns were tightened while this sign-in was in flight.
		return nil, oerr
	}
	fail := func(e *Error) (*CallbackResult, error) {
		p.log.Warn("oauthproxy: callback failed", "client_id", txn.ClientID, "error", e)
		return &CallbackResult{RedirectURL: p.errorRedirectURL(txn.RedirectURI, txn.State, e)}, nil
	}

	if req.Error != "" {
		// S18: relay the upstream's refusal with its text sanitized.
		e := newError(upstream.SanitizeErrorCode(req.Error), upstream.SanitizeDescription(req.ErrorDescription))
		p.emit(ctx, Event{Type: EventUpstreamError, ClientID: txn.ClientID, Reason: e.Code})
		return fail(e)
	}
	if req.Code == "" {
		return fail(newError(ErrCodeServerError, "the identity provider returned no code"))
	}

	code := &codeRecord{
		ClientID:      txn.ClientID,
		RedirectURI:   txn.RedirectURI,
		CodeChallenge: txn.CodeChallenge,
		Scopes:        txn.Scopes,
		Resource:      txn.Resource,
		ExpiresAt:     p.cfg.Now().Add(p.cfg.AuthorizationCodeTTL),
	}
	var grantKey, subject string
	if p.cfg.ForwardPKCE {
		// The upstream verifies the client's own PKCE when /token redeems this.
		code.UpstreamCode = req.Code
	} else {
		tok, err := p.upstream.ExchangeCode(ctx, req.Code, p.cfg.redirectURL, txn.UpstreamVerifier, p.cfg.Now())
		if err != nil {
			e := upstreamFailure(err, false)
			p.emit(ctx, Event{Type: EventUpstreamError, ClientID: txn.ClientID, Reason: e.Code})
			return fail(e)
		}
		g, oerr := p.newGrant(ctx, txn.ClientID, txn.Scopes, txn.Resource, tok)
		if oerr != nil {
			return fail(oerr)
		}
		// Until the code is redeemed the grant lives only as long as the code.
		grantKey, subject = nsGrant+g.ID, g.Subject
		if err := p.saveGrant(ctx, g, p.cfg.AuthorizationCodeTTL); err != nil {
			return fail(errUnavailable("storage is unavailable, try again", err))
		}
		code.GrantID = g.ID
	}

	proxyCode := randomToken()
	if err := p.putJSON(ctx, hashedKey(nsCode, proxyCode), code, p.cfg.AuthorizationCodeTTL); err != nil {
		if grantKey != "" {
			_ = p.store.Delete(ctx, grantKey) // nothing half-written
		}
		return fail(errUnavailable("storage is unavailable, try again", err))
	}
	p.emit(ctx, Event{Type: EventCodeIssued, ClientID: txn.ClientID, Subject: subject, GrantID: code.GrantID})
	return &CallbackResult{
		RedirectURL: p.authorizationResponseURL(txn.RedirectURI, txn.State, url.Values{"code": {proxyCode}}),
	}, nil
}

// newGrant builds the grant for a fresh upstream token set, deriving the user's
// identity through the ClaimsExtractor. Its scopes are those requested, less
// any the upstream says it did not grant.
func (p *Proxy) newGrant(ctx context.Context, clientID string, scopes []string, resource string, tok *upstream.Token) (*grant, *Error) {
	claims, err := p.identityClaims(ctx, tok)
	if errors.Is(err, ErrIdentityRejected) {
		return nil, newError(ErrCodeAccessDenied, "this account may not sign in here").withCause(err)
	}
	if err != nil {
		return nil, newError(ErrCodeServerError, "could not read the user's identity from the identity provider").withCause(err)
	}
	sub, _ := claims["sub"].(string)
	if sub == "" {
		// A token without a subject cannot tell users apart; refuse rather
		// than issue one. The usual cause is an OpenID provider asked without
		// the openid scope, so it sent no id_token; providers without id_tokens
		// (GitHub) need UpstreamUserInfoEndpoint, a ClaimsExtractor or a
		// providers preset.
		return nil, newError(ErrCodeServerError, "the identity provider did not say who signed in").
			withCause(errNoSubject)
	}
	encoded, err := encodeIdentityClaims(claims)
	if err != nil {
		return nil, newError(ErrCodeServerError, "could not read the user's identity from the identity provider").withCause(err)
	}
	return &grant{
		ID:       uuid.NewString(),
		ClientID: clientID,
		Subject:  sub,
		// S22: at most what was both requested and granted (RFC 6749 §5.1).
		Scopes:    grantedScopes(scopes, tok),
		Resource:  resource,
		Claims:    encoded,
		Upstream:  *tok,
		CreatedAt: p.cfg.Now(),
	}, nil
}

// upstreamFailure maps an upstream token-endpoint failure to what the client
// sees: the upstream's OAuth error sanitized (S18); server_error for an HTTP
// error without one or a response that is not a usable token response;
// temporarily_unavailable for a transient status, a timeout or an unreachable
// upstream. Upstream text other than the sanitized description never reaches
// the client.
func upstreamFailure(err error, atTokenEndpoint bool) *Error {
	var ue *upstream.Error
	switch {
	case errors.As(err, &ue) && ue.Code == "" && isTransientStatus(ue.StatusCode):
		return errUnavailable("the identity provider is unavailable, try again", err)
	case errors.As(err, &ue):
		code := upstream.SanitizeErrorCode(ue.Code)
		if atTokenEndpoint && ue.Code == ErrCodeInvalidGrant {
			// The upstream code or refresh token is no longer good: for our
			// client that means its grant is gone (RFC 6749 §5.2).
			code = ErrCodeInvalidGrant
		}
		desc := "the identity provider refused the request"
		if d := upstream.SanitizeDescription(ue.Description); d != "" {
			desc += ": " + d
		}
		return newError(code, desc).withCause(err)
	case upstream.IsTimeout(err):
		return errUnavailable("the identity provider did not answer in time", err)
	case upstream.IsInvalidResponse(err):
		// It answered, with something that is not a token response (RFC 6749
		// §5.1): malformed, over the size cap, or without access_token.
		return newError(ErrCodeServerError, "the identity provider sent an invalid token response").withCause(err)
	default:
		return errUnavailable("the identity provider could not be reached", err)
	}
}

// isTransientStatus reports the HTTP statuses that mean "try again later".
func isTransientStatus(status int) bool {
	return status == http.StatusBadGateway || status == http.StatusServiceUnavailable ||
		status == http.StatusGatewayTimeout || status == http.StatusTooManyRequests
}
