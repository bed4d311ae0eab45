package oauthproxy

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/oauthproxy-go/oauthproxy/internal/upstream"
	"golang.org/x/oauth2"
)

// UpstreamTokenSource returns the upstream provider's access token for the
// grant behind c, the claims of an access token this proxy verified
// (oauthproxy.ClaimsFromContext, mcpauth.ClaimsFromRequest or
// VerifyAccessToken), so that a tool can call the provider's API as the user:
//
//	ts, err := p.UpstreamTokenSource(ctx, claims)
//	if err != nil { ... }
//	resp, err := oauth2.NewClient(ctx, ts).Get("https://api.github.com/user")
//
// Every Token call uses ctx (oauth2.TokenSource methods take none), so make
// the source for the call at hand, as oauth2.Config.TokenSource is made.
//
// In swap mode Token first checks that the grant is live (neither revoked
// nor expired), then returns its upstream access token, refreshed upstream
// when it has expired or expires within a minute: concurrent callers share
// one upstream refresh, whose result is stored sealed for every later caller
// (and every replica). In pass-through mode the client holds the upstream
// tokens and the proxy keeps none: Token returns the bearer token itself
// (which is the upstream's access token) while the proxy's record of it
// lives, and cannot refresh it; the client does that at the token endpoint.
//
// Token never returns the upstream refresh or ID token. Its errors wrap
// ErrTokenRevoked when the grant is revoked, expired or gone, or the
// provider refused the refresh (the user must sign in again), and
// ErrTokenExpired when a pass-through token has expired; an unreachable
// provider or storage gives an *Error (temporarily_unavailable). Wrapped by
// oauth2.NewClient, an HTTP call fails with a *url.Error wrapping the same.
// That client keeps the token until it expires: make one per tool call, so
// a revocation is seen at the next call.
func (p *Proxy) UpstreamTokenSource(ctx context.Context, c *Claims) (oauth2.TokenSource, error) {
	switch {
	case c == nil || c.GrantID == "":
		return nil, fmt.Errorf("%w: UpstreamTokenSource needs the claims of a verified access token", ErrInvalidToken)
	case c.Audience != p.cfg.Resource:
		// Claims of another proxy's token name a grant this one does not hold.
		return nil, fmt.Errorf("%w: the claims are for another resource", ErrInvalidToken)
	case p.cfg.DisableTokenSwap && c.passThrough == nil:
		return nil, fmt.Errorf("%w: in pass-through mode the claims must come from VerifyAccessToken or RequireBearer", ErrInvalidToken)
	}
	return &upstreamTokenSource{
		ctx: ctx, p: p,
		grantID: c.GrantID, subject: c.Subject, clientID: c.ClientID,
		bearer: c.passThrough, expiresAt: c.ExpiresAt,
	}, nil
}

// upstreamTokenSource is one grant's upstream access token as an
// oauth2.TokenSource.
type upstreamTokenSource struct {
	ctx                        context.Context
	p                          *Proxy
	grantID, subject, clientID string
	bearer                     *upstreamBearer // pass-through mode only
	expiresAt                  time.Time       // the bearer's expiry, pass-through mode only
}

// Token implements oauth2.TokenSource.
func (s *upstreamTokenSource) Token() (*oauth2.Token, error) {
	if s.bearer != nil {
		return s.passThroughToken()
	}
	g, _, oerr := s.p.freshGrant(s.ctx, s.grantID, s.p.cfg.RefreshTokenTTL, errGrantRevoked)
	if oerr != nil {
		if oerr.Code == ErrCodeInvalidGrant {
			return nil, fmt.Errorf("%w: %w", ErrTokenRevoked, oerr)
		}
		return nil, oerr
	}
	if g.Subject != s.subject || g.ClientID != s.clientID {
		// The claims name a grant of someone else: never hand out its token.
		return nil, fmt.Errorf("%w: the grant does not belong to these claims", ErrTokenRevoked)
	}
	return accessTokenOnly(&g.Upstream), nil
}

// passThroughToken re-checks the bearer token's record (revocation, expiry)
// and returns the token itself.
func (s *upstreamTokenSource) passThroughToken() (*oauth2.Token, error) {
	if !s.p.cfg.Now().Before(s.expiresAt) {
		return nil, ErrTokenExpired
	}
	c, err := s.p.verifyPassThrough(s.ctx, s.bearer.token)
	if errors.Is(err, ErrInvalidToken) {
		// It was verified when the claims were made: a record gone before
		// the token expired was revoked (revocation deletes it).
		return nil, fmt.Errorf("%w: %w", ErrTokenRevoked, err)
	}
	if err != nil {
		return nil, err
	}
	return &oauth2.Token{AccessToken: s.bearer.token, TokenType: "Bearer", Expiry: c.ExpiresAt}, nil
}

// accessTokenOnly is t as an oauth2.Token without its refresh token: that
// one stays in the proxy, which alone refreshes (S11).
func accessTokenOnly(t *upstream.Token) *oauth2.Token {
	return &oauth2.Token{AccessToken: t.AccessToken, TokenType: t.TokenType, Expiry: t.Expiry}
}

// upstreamBearer holds an upstream access token inside Claims. Claims are
// printed and logged by their users; a field of pointer type prints as an
// address, so %v of Claims never shows the token.
type upstreamBearer struct {
	token string
}

// String keeps the token out of %v of the pointer itself.
func (*upstreamBearer) String() string { return "[redacted]" }
