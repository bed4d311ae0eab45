package oauthproxy

import (
	"context"
	"errors"
	"net/http"

	"github.com/oauthproxy-go/oauthproxy/storage"
)

const revokePath = "/oauth/revoke"

// RevocationRequest is an RFC 7009 §2.1 request.
type RevocationRequest struct {
	Token         string
	TokenTypeHint string // "access_token" or "refresh_token"; only a hint (§2.1)
	Client        ClientCredentials
}

// RevokeToken revokes a refresh or access token the proxy issued to the
// authenticated client, and with it the whole grant: every token issued from
// the same consent stops working (RFC 7009 §2.1 allows, and RFC 9700 §4.14
// recommends, revoking the grant). Unknown tokens, and tokens of other
// clients, are answered like success without effect (§2.2). When
// UpstreamRevocationEndpoint is set, the upstream tokens are revoked too, best
// effort.
func (p *Proxy) RevokeToken(ctx context.Context, req *RevocationRequest) error {
	client, oerr := p.authenticateClient(ctx, req.Client)
	if oerr != nil {
		return oerr
	}
	if req.Token == "" {
		return newError(ErrCodeInvalidRequest, "token is required")
	}
	if p.cfg.DisableTokenSwap {
		return p.revokePassThrough(ctx, req.Token, client)
	}

	grantID, err := p.grantOf(ctx, req.Token, req.TokenTypeHint, client)
	if err != nil {
		return errUnavailable("storage is unavailable, try again", err)
	}
	if grantID == "" {
		return nil // §2.2: invalid tokens do not cause an error
	}
	var g grant
	loaded := p.getJSON(ctx, nsGrant+grantID, &g) == nil
	p.emit(ctx, Event{Type: EventTokenRevoked, ClientID: client.ClientID, Subject: g.Subject, GrantID: grantID})
	if err := p.revokeGrant(ctx, grantID, "revoked by the client"); err != nil {
		return errUnavailable("storage is unavailable, try again", err)
	}
	if loaded {
		p.revokeUpstream(ctx, g.Upstream.RefreshToken, g.Upstream.AccessToken)
	}
	return nil
}

// grantOf finds the grant a token belongs to, if the token is this client's
// refresh token or access token ("" otherwise). The hint only orders the
// lookups (RFC 7009 §2.1).
func (p *Proxy) grantOf(ctx context.Context, token, hint string, client *clientRecord) (string, error) {
	fromRefresh := func() (string, error) {
		var rec refreshRecord
		err := p.getJSON(ctx, hashedKey(nsRefresh, token), &rec)
		switch {
		case errors.Is(err, storage.ErrNotFound):
			return "", nil
		case err != nil:
			return "", err
		case rec.ClientID != client.ClientID:
			return "", nil
		}
		return rec.GrantID, nil
	}
	fromAccess := func() (string, error) {
		claims, err := p.tokens.verify(token, p.cfg.Resource)
		if err != nil || claims.ClientID != client.ClientID {
			return "", nil
		}
		return claims.GrantID, nil
	}
	lookups := []func() (string, error){fromRefresh, fromAccess}
	if hint == "access_token" {
		lookups = []func() (string, error){fromAccess, fromRefresh}
	}
	for _, lookup := range lookups {
		if id, err := lookup(); err != nil || id != "" {
			return id, err
		}
	}
	return "", nil
}

// revokePassThrough revokes an upstream token the proxy handed to this client.
func (p *Proxy) revokePassThrough(ctx context.Context, token string, client *clientRecord) error {
	for _, kind := range []struct{ ns, hint string }{{nsPTRefresh, "refresh_token"}, {nsPassThrough, "access_token"}} {
		ns := kind.ns
		var rec passThroughRecord
		err := p.getJSON(ctx, hashedKey(ns, token), &rec)
		if errors.Is(err, storage.ErrNotFound) {
			continue
		}
		if err != nil {
			return errUnavailable("storage is unavailable, try again", err)
		}
		if rec.ClientID != client.ClientID {
			return nil
		}
		p.emit(ctx, Event{Type: EventTokenRevoked, ClientID: client.ClientID, Subject: rec.Subject, GrantID: rec.GrantID})
		if err := p.revokeGrant(ctx, rec.GrantID, "revoked by the client"); err != nil {
			return errUnavailable("storage is unavailable, try again", err)
		}
		_ = p.store.Delete(ctx, hashedKey(ns, token))
		p.revokeUpstreamToken(ctx, token, kind.hint)
		return nil
	}
	return nil
}

// revokeUpstream asks the upstream to revoke its tokens when it has a
// revocation endpoint. Failure is logged: the proxy's own revocation already
// stands.
func (p *Proxy) revokeUpstream(ctx context.Context, refreshToken, accessToken string) {
	if refreshToken != "" {
		p.revokeUpstreamToken(ctx, refreshToken, "refresh_token")
	} else if accessToken != "" {
		p.revokeUpstreamToken(ctx, accessToken, "access_token")
	}
}

// revokeUpstreamToken revokes one upstream token (RFC 7009), best effort.
func (p *Proxy) revokeUpstreamToken(ctx context.Context, token, hint string) {
	if p.cfg.UpstreamRevocationEndpoint == "" {
		return
	}
	if err := p.upstream.Revoke(ctx, p.cfg.UpstreamRevocationEndpoint, token, hint); err != nil {
		p.log.Warn("oauthproxy: upstream revocation failed", "error", err)
	}
}

// serveRevoke is POST /oauth/revoke (RFC 7009 §2).
func (p *Proxy) serveRevoke(w http.ResponseWriter, r *http.Request) {
	form, cred, ok := p.readClientForm(w, r)
	if !ok {
		return
	}
	if err := p.RevokeToken(p.requestContext(r), &RevocationRequest{
		Token:         form.Get("token"),
		TokenTypeHint: form.Get("token_type_hint"),
		Client:        cred,
	}); err != nil {
		p.writeError(w, r, err)
		return
	}
	w.WriteHeader(http.StatusOK) // §2.2: 200 with an empty body
}
