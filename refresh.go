package oauthproxy

import (
	"context"
	"errors"

	"github.com/oauthproxy-go/oauthproxy/internal/upstream"
	"github.com/oauthproxy-go/oauthproxy/storage"
)

// ExchangeRefreshToken serves the refresh_token grant (RFC 6749 §6, OAuth 2.1
// §4.3). In swap mode it authenticates the client, checks the token was issued
// to it (S06) and that the requested scope only narrows, issues the new pair
// and then rotates the refresh token atomically: of two concurrent uses
// exactly one succeeds, and a failed request leaves the token usable. The
// upstream access token is refreshed when expired or near expiry, keeping the
// old upstream refresh token if none comes back. In pass-through mode the
// request is forwarded to the upstream.
func (p *Proxy) ExchangeRefreshToken(ctx context.Context, req *TokenRequest) (*TokenResponse, error) {
	if req.GrantType != "" && req.GrantType != grantRefreshToken {
		return nil, newError(ErrCodeUnsupportedGrantType, "grant_type must be refresh_token")
	}
	if oerr := req.checkSizes(); oerr != nil {
		return nil, oerr
	}
	client, oerr := p.authenticateClient(ctx, req.Client)
	if oerr != nil {
		return nil, oerr
	}
	if req.RefreshToken == "" {
		return nil, newError(ErrCodeInvalidRequest, "refresh_token is required")
	}
	if !clientMayRefresh(client) {
		return nil, newError(ErrCodeUnauthorizedClient, "this client is not registered for the refresh_token grant")
	}
	// S22: a client none of whose redirect URIs today's patterns allow is
	// cut off here too, or its sessions would outlive the policy change by
	// RefreshTokenTTL with every rotation.
	if !p.clientStillAllowed(client) {
		return nil, errRedirectNoLongerAllowed()
	}
	if oerr := p.checkResource(req.Resource); oerr != nil {
		return nil, oerr
	}
	if p.cfg.DisableTokenSwap {
		return p.passThroughRefresh(ctx, client, req)
	}

	key := hashedKey(nsRefresh, req.RefreshToken)
	var rec refreshRecord
	if err := p.getJSON(ctx, key, &rec); err != nil {
		if errors.Is(err, storage.ErrNotFound) {
			if resp, ok := p.refreshReuse(ctx, req.RefreshToken, client); ok {
				return resp, nil
			}
		}
		return nil, storageError(err, errRefreshInvalid())
	}
	// S06: a refresh token is bound to the client it was issued to.
	if rec.ClientID != client.ClientID || !p.cfg.Now().Before(rec.ExpiresAt) {
		return nil, errRefreshInvalid()
	}
	scopes := rec.Scopes
	if req.Scope != "" {
		requested, ok := parseScope(req.Scope)
		// RFC 6749 §6: the scope may only narrow what was originally granted.
		if !ok || !subsetOf(requested, rec.Scopes) {
			return nil, newError(ErrCodeInvalidScope, "scope exceeds what was granted")
		}
		scopes = requested
	}

	// Issue the new pair first and rotate last: a failure before the
	// rotation (upstream or storage unavailable) leaves the presented token
	// as it was, so the client can retry. Taking it first and putting it back
	// on failure cannot work when the failure is the storage itself: the
	// client would lose its refresh token to an outage.
	g, resp, oerr := p.refreshGrant(ctx, &rec, client, scopes)
	if oerr != nil {
		return nil, oerr
	}
	// Rotate: of concurrent uses, only one Take succeeds (S06). A loser, or a
	// rotation the storage could not do, withdraws the refresh token it saved,
	// which nobody has seen.
	if err := p.consume(ctx, key); err != nil {
		if resp.RefreshToken != "" {
			if derr := p.store.Delete(ctx, hashedKey(nsRefresh, resp.RefreshToken)); derr != nil {
				p.log.Warn("oauthproxy: could not withdraw an unused refresh token", "grant_id", g.ID, "error", derr)
			}
		}
		return nil, storageError(err, errRefreshInvalid())
	}
	p.emit(ctx, Event{Type: EventTokenRefreshed, ClientID: client.ClientID, Subject: g.Subject, GrantID: g.ID})
	p.recordRotation(ctx, req.RefreshToken, &rec, resp)
	return resp, nil
}

// recordRotation remembers a rotated refresh token until it would have
// expired, so its reuse is detected (S06), and, with RefreshReuseGrace, the
// answer it got, so a client that lost the response can get it again.
func (p *Proxy) recordRotation(ctx context.Context, old string, rec *refreshRecord, resp *TokenResponse) {
	m := &usedMarker{GrantID: rec.GrantID, ClientID: rec.ClientID, UsedAt: p.cfg.Now()}
	if resp.RefreshToken != "" {
		m.NextKey = hashedKey(nsRefresh, resp.RefreshToken)
	}
	// The answer first: a retry that already sees the marker must find it.
	if p.cfg.RefreshReuseGrace > 0 {
		if err := p.putJSON(ctx, hashedKey(nsGraceAnswer, old), resp, p.cfg.RefreshReuseGrace); err != nil {
			p.log.Error("oauthproxy: could not keep the refresh answer for the grace period", "grant_id", rec.GrantID, "error", err)
		}
	}
	p.markUsed(ctx, hashedKey(nsRotated, old), m, p.remaining(rec.ExpiresAt))
}

// refreshReuse handles a refresh token that is no longer live. A rotated one
// presented again means it leaked or the client is confused: RFC 9700 §4.14.2
// says to revoke the grant (S06). The one exception is RefreshReuseGrace: the
// same client retrying within the grace period gets the pair it was already
// issued, never a new one, as long as that pair's refresh token is unused.
func (p *Proxy) refreshReuse(ctx context.Context, token string, client *clientRecord) (*TokenResponse, bool) {
	m, ok := p.replayed(ctx, hashedKey(nsRotated, token))
	if !ok {
		return nil, false
	}
	if p.cfg.RefreshReuseGrace > 0 && m.ClientID == client.ClientID &&
		p.cfg.Now().Sub(m.UsedAt) <= p.cfg.RefreshReuseGrace && m.NextKey != "" {
		var prev TokenResponse
		revoked, rerr := p.grantRevoked(ctx, m.GrantID)
		if rerr == nil && !revoked && p.getJSON(ctx, hashedKey(nsGraceAnswer, token), &prev) == nil {
			if _, err := p.store.Get(ctx, m.NextKey); err == nil {
				p.log.Info("oauthproxy: refresh retried within the grace period", "client_id", client.ClientID, "grant_id", m.GrantID)
				return &prev, true
			}
		}
	}
	p.emit(ctx, Event{Type: EventRefreshReuseDetected, ClientID: client.ClientID, GrantID: m.GrantID})
	if err := p.revokeGrant(ctx, m.GrantID, "refresh token reused"); err != nil {
		p.log.Error("oauthproxy: could not revoke grant after refresh token reuse", "grant_id", m.GrantID, "error", err)
	}
	return nil, false
}

// refreshGrant loads the grant, refreshes its upstream tokens if they are about
// to expire, and issues a new token pair, recording no event: the caller has
// yet to rotate. Saving the grant extends its life with its newest refresh
// token.
func (p *Proxy) refreshGrant(ctx context.Context, rec *refreshRecord, client *clientRecord, scopes []string) (*grant, *TokenResponse, *Error) {
	g, _, oerr := p.freshGrant(ctx, rec.GrantID, p.cfg.RefreshTokenTTL, errGrantRevoked)
	if oerr != nil {
		return nil, nil, oerr
	}
	// Saved even when freshGrant just saved it, to record the refresh for
	// ListGrants.
	g.RefreshedAt = p.cfg.Now()
	if err := p.saveGrant(ctx, g, p.cfg.RefreshTokenTTL); err != nil {
		return nil, nil, errUnavailable("storage is unavailable, try again", err)
	}
	// The grant may have narrowed since this refresh token was issued (an
	// upstream refresh granting less, S22): never issue beyond it.
	resp, oerr := p.issueTokens(ctx, g, client, intersectScopes(scopes, g.Scopes), "")
	return g, resp, oerr
}

// mergeRefreshed applies an upstream refresh response (RFC 6749 §6): a missing
// refresh_token means the old one stays valid, and the id_token may be absent.
func mergeRefreshed(old upstream.Token, fresh *upstream.Token) upstream.Token {
	merged := *fresh
	if merged.RefreshToken == "" {
		merged.RefreshToken = old.RefreshToken
	}
	if merged.IDToken == "" {
		merged.IDToken = old.IDToken
	}
	if merged.Scope == "" {
		merged.Scope = old.Scope
	}
	return merged
}

// errRefreshInvalid is the answer for a refresh token that is not (or no
// longer) good, made only when it is the answer.
func errRefreshInvalid() *Error {
	return newError(ErrCodeInvalidGrant, "refresh_token is invalid, expired or revoked")
}
