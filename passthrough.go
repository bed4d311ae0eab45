package oauthproxy

import (
	"context"
	"errors"

	"github.com/oauthproxy-go/oauthproxy/internal/upstream"
	"github.com/oauthproxy-go/oauthproxy/storage"
)

// Pass-through mode (DisableTokenSwap) hands the upstream's own tokens to the
// client. The proxy still authenticates clients, enforces PKCE, consent and
// single-use codes, and remembers (by hash) which upstream tokens it handed to
// which client, so that RequireBearer accepts only those and a refresh token is
// only accepted from the client it was issued to (S06, S11).

// passThroughTokens returns the grant's upstream tokens to the client and
// records them. The grant itself is not kept: the client holds the tokens.
func (p *Proxy) passThroughTokens(ctx context.Context, g *grant, client *clientRecord) (*TokenResponse, *Error) {
	// The grant's index entries outlive it, so RevokeSubject and DeleteClient
	// still reach the tokens recorded here.
	if err := p.indexGrant(ctx, g, p.cfg.RefreshTokenTTL); err != nil {
		return nil, errUnavailable("storage is unavailable, try again", err)
	}
	if err := p.recordPassThrough(ctx, g.Upstream, client.ClientID, g); err != nil {
		return nil, errUnavailable("storage is unavailable, try again", err)
	}
	_ = p.store.Delete(ctx, nsGrant+g.ID)
	p.emit(ctx, Event{Type: EventTokenIssued, ClientID: client.ClientID, Subject: g.Subject, GrantID: g.ID})
	return passThroughResponse(&g.Upstream, clientMayRefresh(client)), nil
}

func passThroughResponse(t *upstream.Token, mayRefresh bool) *TokenResponse {
	resp := &TokenResponse{
		AccessToken: t.AccessToken,
		TokenType:   "Bearer",
		ExpiresIn:   t.ExpiresIn,
		Scope:       t.Scope,
		IDToken:     t.IDToken,
	}
	if mayRefresh {
		resp.RefreshToken = t.RefreshToken
	}
	return resp
}

// recordPassThrough remembers the access token (until it expires upstream, or
// AccessTokenTTL when the upstream gave no expiry) and the refresh token.
func (p *Proxy) recordPassThrough(ctx context.Context, t upstream.Token, clientID string, g *grant) error {
	expires := t.Expiry
	if expires.IsZero() {
		expires = p.cfg.Now().Add(p.cfg.AccessTokenTTL)
	}
	// Never remember a token longer than a revocation marker lives.
	if limit := p.cfg.Now().Add(p.cfg.RefreshTokenTTL); expires.After(limit) {
		expires = limit
	}
	rec := &passThroughRecord{
		GrantID:   g.ID,
		ClientID:  clientID,
		Subject:   g.Subject,
		Scopes:    g.Scopes,
		Resource:  g.Resource,
		Claims:    g.Claims,
		ExpiresAt: expires,
	}
	if err := p.putJSON(ctx, hashedKey(nsPassThrough, t.AccessToken), rec, p.remaining(expires)); err != nil {
		return err
	}
	if t.RefreshToken == "" {
		return nil
	}
	rec.ExpiresAt = p.cfg.Now().Add(p.cfg.RefreshTokenTTL)
	return p.putJSON(ctx, hashedKey(nsPTRefresh, t.RefreshToken), rec, p.cfg.RefreshTokenTTL)
}

// passThroughRefresh forwards a refresh to the upstream after checking the
// refresh token was issued to this client through the proxy.
func (p *Proxy) passThroughRefresh(ctx context.Context, client *clientRecord, req *TokenRequest) (*TokenResponse, error) {
	key := hashedKey(nsPTRefresh, req.RefreshToken)
	invalid := newError(ErrCodeInvalidGrant, "refresh_token is invalid, expired or revoked")
	var rec passThroughRecord
	if err := p.getJSON(ctx, key, &rec); err != nil {
		return nil, storageError(err, invalid)
	}
	if rec.ClientID != client.ClientID {
		return nil, invalid
	}
	if revoked, err := p.grantRevoked(ctx, rec.GrantID); err != nil {
		return nil, storageError(err, invalid)
	} else if revoked {
		return nil, invalid
	}
	var scopes []string
	if req.Scope != "" {
		requested, ok := parseScope(req.Scope)
		if !ok || !subsetOf(requested, rec.Scopes) {
			return nil, newError(ErrCodeInvalidScope, "scope exceeds what was granted")
		}
		scopes = requested
	}
	if err := p.consume(ctx, key); err != nil {
		return nil, storageError(err, invalid)
	}
	fresh, err := p.upstream.Refresh(ctx, req.RefreshToken, scopes, p.cfg.Now())
	if err != nil {
		oerr := upstreamFailure(err, true)
		if oerr.Code != ErrCodeInvalidGrant {
			_ = p.putJSON(ctx, key, &rec, p.remaining(rec.ExpiresAt))
		}
		return nil, oerr
	}
	if fresh.RefreshToken == "" {
		fresh.RefreshToken = req.RefreshToken // the upstream did not rotate it
	}
	g := &grant{ID: rec.GrantID, Subject: rec.Subject, Scopes: rec.Scopes, Resource: rec.Resource, Claims: rec.Claims}
	if len(scopes) > 0 {
		g.Scopes = scopes
	}
	g.Scopes = grantedScopes(g.Scopes, fresh) // S22: what the proxy records
	if err := p.recordPassThrough(ctx, *fresh, client.ClientID, g); err != nil {
		return nil, errUnavailable("storage is unavailable, try again", err)
	}
	p.emit(ctx, Event{Type: EventTokenRefreshed, ClientID: client.ClientID, Subject: g.Subject, GrantID: g.ID})
	return passThroughResponse(fresh, true), nil
}

// verifyPassThrough accepts an upstream access token only if the proxy handed
// it out and it has not expired.
func (p *Proxy) verifyPassThrough(ctx context.Context, token string) (*Claims, error) {
	if token == "" {
		return nil, ErrInvalidToken
	}
	var rec passThroughRecord
	if err := p.getJSON(ctx, hashedKey(nsPassThrough, token), &rec); err != nil {
		if errors.Is(err, storage.ErrNotFound) {
			return nil, ErrInvalidToken
		}
		return nil, err
	}
	if !p.cfg.Now().Before(rec.ExpiresAt) {
		return nil, ErrTokenExpired
	}
	if rec.Resource != p.cfg.Resource {
		return nil, ErrInvalidToken
	}
	if revoked, err := p.grantRevoked(ctx, rec.GrantID); err != nil {
		return nil, err
	} else if revoked {
		return nil, ErrTokenRevoked
	}
	var extra map[string]any
	if len(rec.Claims) > 0 {
		if err := decodeRecord(rec.Claims, &extra); err != nil {
			return nil, err
		}
	}
	return &Claims{
		Subject:   rec.Subject,
		ClientID:  rec.ClientID,
		Scopes:    rec.Scopes,
		Audience:  rec.Resource,
		ExpiresAt: rec.ExpiresAt,
		GrantID:   rec.GrantID,
		Extra:     extra,

		passThrough: &upstreamBearer{token: token},
	}, nil
}
