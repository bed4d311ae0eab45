package oauthproxy

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/google/uuid"
	"github.com/oauthproxy-go/oauthproxy/internal/pkce"
	"github.com/oauthproxy-go/oauthproxy/internal/upstream"
	"github.com/oauthproxy-go/oauthproxy/storage"
)

// Grant types the token endpoint serves (RFC 6749 §4.1.3, §6).
const (
	grantAuthorizationCode = "authorization_code"
	grantRefreshToken      = "refresh_token"
)

// TokenRequest is a token endpoint request (RFC 6749 §4.1.3 and §6, RFC 7636
// §4.5, RFC 8707 §2). Client carries how the client authenticated.
type TokenRequest struct {
	GrantType    string
	Code         string
	RedirectURI  string
	CodeVerifier string
	RefreshToken string
	Scope        string
	Resource     string
	Client       ClientCredentials
}

// TokenResponse is a successful token response (RFC 6749 §5.1).
type TokenResponse struct {
	AccessToken  string `json:"access_token"`
	TokenType    string `json:"token_type"`
	ExpiresIn    int64  `json:"expires_in,omitempty"`
	RefreshToken string `json:"refresh_token,omitempty"`
	Scope        string `json:"scope,omitempty"`
	// IDToken is passed through from the upstream in pass-through mode only.
	IDToken string `json:"id_token,omitempty"`
}

// UpstreamTokens is the upstream provider's token set for a grant.
type UpstreamTokens struct {
	AccessToken  string
	TokenType    string
	RefreshToken string
	IDToken      string
	Scope        string
	Expiry       time.Time // zero when the upstream gave no expires_in
	// Extra holds the other fields of the upstream token response.
	Extra map[string]any
}

func upstreamTokensFrom(t *upstream.Token) *UpstreamTokens {
	return &UpstreamTokens{
		AccessToken:  t.AccessToken,
		TokenType:    t.TokenType,
		RefreshToken: t.RefreshToken,
		IDToken:      t.IDToken,
		Scope:        t.Scope,
		Expiry:       t.Expiry,
		Extra:        t.Extra,
	}
}

// ExchangeAuthorizationCode redeems the proxy's authorization code (RFC 6749
// §4.1.3, OAuth 2.1 §4.1.3). It authenticates the client (S03), checks that the
// code was issued to it for this redirect URI, and the PKCE verifier in
// constant time (S02), then consumes the code atomically so it is used once
// (S04). Swap mode returns the proxy's JWT access token and a refresh token;
// pass-through mode returns the upstream's tokens. Invalid input changes nothing.
func (p *Proxy) ExchangeAuthorizationCode(ctx context.Context, req *TokenRequest) (*TokenResponse, error) {
	if req.GrantType != "" && req.GrantType != grantAuthorizationCode {
		return nil, newError(ErrCodeUnsupportedGrantType, "grant_type must be authorization_code")
	}
	if oerr := req.checkSizes(); oerr != nil {
		return nil, oerr
	}
	client, oerr := p.authenticateClient(ctx, req.Client)
	if oerr != nil {
		return nil, oerr
	}
	if req.Code == "" {
		return nil, newError(ErrCodeInvalidRequest, "code is required")
	}
	if req.CodeVerifier == "" {
		return nil, newError(ErrCodeInvalidRequest, "code_verifier is required (PKCE)")
	}
	codeKey := hashedKey(nsCode, req.Code)
	var code codeRecord
	if err := p.getJSON(ctx, codeKey, &code); err != nil {
		p.detectCodeReplay(ctx, req.Code, err)
		return nil, storageError(err, errCodeInvalid())
	}
	// Check everything before consuming the code, so a bad request changes
	// nothing (OAuth 2.1 §4.1.3).
	if oerr := p.checkCode(&code, client, req); oerr != nil {
		return nil, oerr
	}
	if err := p.consume(ctx, codeKey); err != nil {
		// Another request redeemed it first: single use (S04).
		p.detectCodeReplay(ctx, req.Code, err)
		return nil, storageError(err, errCodeInvalid())
	}

	resp, grantID, oerr := p.redeemCode(ctx, &code, client, req)
	if oerr != nil {
		redeemable := code.GrantID != "" || code.UpstreamCode != ""
		if redeemable && (oerr.Code == ErrCodeServerError || oerr.Code == ErrCodeTemporarilyUnavailable) {
			// Nothing was issued: put the code back so the client can retry,
			// even if this request's context is what ended it.
			rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), restoreTimeout)
			defer cancel()
			if err := p.putJSON(rctx, codeKey, &code, p.remaining(code.ExpiresAt)); err != nil {
				p.log.Error("oauthproxy: could not restore authorization code", "client_id", client.ClientID, "error", err)
			}
		}
		return nil, oerr
	}
	// Remember the code for as long as its grant may live, so a replay can
	// revoke what it issued (S05).
	p.markUsed(ctx, hashedKey(nsUsedCode, req.Code),
		&usedMarker{GrantID: grantID, ClientID: client.ClientID, UsedAt: p.cfg.Now()}, p.cfg.RefreshTokenTTL)
	p.emit(ctx, Event{Type: EventCodeRedeemed, ClientID: client.ClientID, GrantID: grantID})
	return resp, nil
}

// detectCodeReplay revokes the grant of a code presented after it was
// redeemed (OAuth 2.1 §4.1.2, RFC 6749 §10.5; S05). lookupErr is why the code
// was not found; only a clean miss is checked.
func (p *Proxy) detectCodeReplay(ctx context.Context, code string, lookupErr error) {
	if !errors.Is(lookupErr, storage.ErrNotFound) {
		return
	}
	m, ok := p.replayed(ctx, hashedKey(nsUsedCode, code))
	if !ok {
		return
	}
	p.emit(ctx, Event{Type: EventCodeReplayed, ClientID: m.ClientID, GrantID: m.GrantID})
	if err := p.revokeGrant(ctx, m.GrantID, "authorization code replayed"); err != nil {
		p.log.Error("oauthproxy: could not revoke grant after code replay", "grant_id", m.GrantID, "error", err)
	}
}

// checkCode enforces the code's bindings (S04): same client, same redirect URI,
// still allowed by the patterns (S22), the PKCE verifier (S02), an unexpired
// code and the same resource (S10).
func (p *Proxy) checkCode(code *codeRecord, client *clientRecord, req *TokenRequest) *Error {
	switch {
	case code.ClientID != client.ClientID:
		return errCodeInvalid()
	case !p.cfg.Now().Before(code.ExpiresAt):
		return errCodeInvalid()
	case req.RedirectURI != "" && req.RedirectURI != code.RedirectURI:
		// RFC 6749 §4.1.3: identical to the one used at /authorize.
		return newError(ErrCodeInvalidGrant, "redirect_uri does not match the authorization request")
	case !p.redirectAllowed(code.RedirectURI):
		// S22: patterns tightened since /authorize cut the code off too.
		return errRedirectNoLongerAllowed()
	case !pkce.Verify(req.CodeVerifier, code.CodeChallenge):
		return newError(ErrCodeInvalidGrant, "code_verifier does not match the code_challenge")
	}
	if oerr := p.checkResource(req.Resource); oerr != nil {
		return oerr
	}
	return nil
}

// redeemCode issues tokens for a consumed code and returns them with the
// grant's id. On error nothing was issued.
func (p *Proxy) redeemCode(ctx context.Context, code *codeRecord, client *clientRecord, req *TokenRequest) (*TokenResponse, string, *Error) {
	var g grant
	forwarded := code.UpstreamCode != ""
	if forwarded {
		// ForwardPKCE: the upstream checks the client's verifier itself.
		tok, err := p.upstream.ExchangeCode(ctx, code.UpstreamCode, p.cfg.redirectURL, req.CodeVerifier, p.cfg.Now())
		if err != nil {
			return nil, "", upstreamFailure(err, true)
		}
		// The upstream code is spent whatever happens next, so this code is
		// not put back on a later failure: its retry would replay the
		// upstream code, and RFC 6749 §4.1.2 has the upstream revoke what it
		// issued for a replayed code.
		code.UpstreamCode = ""
		ng, oerr := p.newGrant(ctx, client.ClientID, code.Scopes, code.Resource, tok)
		if oerr != nil {
			return nil, "", oerr
		}
		g = *ng
	} else if err := p.getJSON(ctx, nsGrant+code.GrantID, &g); err != nil {
		return nil, "", storageError(err, newError(ErrCodeInvalidGrant, "the grant for this code was revoked"))
	}

	if p.cfg.DisableTokenSwap {
		resp, oerr := p.passThroughTokens(ctx, &g, client)
		return resp, g.ID, oerr
	}
	// The grant now lives as long as its refresh tokens may.
	if err := p.saveGrant(ctx, &g, p.cfg.RefreshTokenTTL); err != nil {
		return nil, "", errUnavailable("storage is unavailable, try again", err)
	}
	resp, oerr := p.issueTokens(ctx, &g, client, g.Scopes, EventTokenIssued)
	if oerr != nil && forwarded {
		_ = p.store.Delete(ctx, nsGrant+g.ID) // the upstream code is spent; don't keep an orphan
	}
	return resp, g.ID, oerr
}

// issueTokens mints a proxy access token and, when the client may refresh, a
// refresh token bound to the client and grant (S06), and records event (none
// when it is empty).
func (p *Proxy) issueTokens(ctx context.Context, g *grant, client *clientRecord, scopes []string, event EventType) (*TokenResponse, *Error) {
	access, _, err := p.tokens.issue(&Claims{
		Subject:   g.Subject,
		ClientID:  client.ClientID,
		Scopes:    scopes,
		Audience:  g.Resource,
		TokenID:   uuid.NewString(),
		GrantID:   g.ID,
		extraJSON: g.Claims,
	}, p.cfg.AccessTokenTTL)
	if err != nil {
		return nil, errServer(err)
	}
	resp := &TokenResponse{
		AccessToken: access,
		TokenType:   "Bearer",
		ExpiresIn:   int64(p.cfg.AccessTokenTTL / time.Second),
		Scope:       joinScope(scopes),
	}
	if clientMayRefresh(client) {
		rt := randomToken()
		rec := &refreshRecord{
			GrantID:   g.ID,
			ClientID:  client.ClientID,
			Scopes:    scopes,
			Resource:  g.Resource,
			ExpiresAt: p.cfg.Now().Add(p.cfg.RefreshTokenTTL),
		}
		if err := p.putJSON(ctx, hashedKey(nsRefresh, rt), rec, p.cfg.RefreshTokenTTL); err != nil {
			return nil, errUnavailable("storage is unavailable, try again", err)
		}
		resp.RefreshToken = rt
	}
	if event != "" {
		p.emit(ctx, Event{Type: event, ClientID: client.ClientID, Subject: g.Subject, GrantID: g.ID})
	}
	return resp, nil
}

func clientMayRefresh(c *clientRecord) bool {
	for _, g := range c.GrantTypes {
		if g == grantRefreshToken {
			return true
		}
	}
	return false
}

// LoadUpstreamTokens verifies a proxy access token (S07) and returns the
// upstream token set of its grant, for a tool handler that calls the upstream
// API on the user's behalf. Errors wrap ErrInvalidToken, ErrTokenExpired or
// ErrTokenRevoked (test with errors.Is); a storage failure is returned as is.
// In pass-through mode the token is the upstream token itself and is returned
// once the proxy confirms it issued it. A tool that only calls the provider's
// API is simpler with UpstreamTokenSource, which takes the claims it has.
func (p *Proxy) LoadUpstreamTokens(ctx context.Context, accessToken string) (*UpstreamTokens, error) {
	if p.cfg.DisableTokenSwap {
		if _, err := p.verifyPassThrough(ctx, accessToken); err != nil {
			return nil, err
		}
		return &UpstreamTokens{AccessToken: accessToken, TokenType: "Bearer"}, nil
	}
	claims, err := p.tokens.verify(accessToken, p.cfg.Resource)
	if err != nil {
		return nil, err
	}
	g, _, oerr := p.freshGrant(ctx, claims.GrantID, p.cfg.RefreshTokenTTL, errGrantRevoked)
	if oerr != nil {
		if oerr.Code == ErrCodeInvalidGrant {
			return nil, fmt.Errorf("%w: %w", ErrTokenRevoked, oerr)
		}
		return nil, oerr
	}
	return upstreamTokensFrom(&g.Upstream), nil
}

// errCodeInvalid is /token's answer for a code that is not (or no longer)
// good, made only when it is the answer.
func errCodeInvalid() *Error {
	return newError(ErrCodeInvalidGrant, "code is invalid, expired or already used")
}

// errGrantRevoked is the answer for a refresh or token source whose grant is
// gone.
func errGrantRevoked() *Error { return newError(ErrCodeInvalidGrant, "the grant was revoked") }
