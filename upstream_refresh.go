package oauthproxy

import (
	"context"
	"time"
)

// upstreamRefreshLeeway refreshes the upstream access token this long before
// it expires, so a token handed to a tool is not about to die.
const upstreamRefreshLeeway = time.Minute

// freshGrant loads a grant and, when its upstream access token has expired or
// is about to, refreshes it upstream and saves it with ttl. Concurrent callers
// for one grant share one upstream refresh (many providers rotate refresh
// tokens, so a second concurrent refresh would fail and kill the session).
// The bool reports that the grant was just written with ttl.
func (p *Proxy) freshGrant(reqCtx context.Context, grantID string, ttl time.Duration, notFound func() *Error) (*grant, bool, *Error) {
	// Most calls find the upstream token fresh and need no shared work: they
	// read the grant themselves, without the singleflight's goroutine and
	// channel (issue 16: every refresh and every LoadUpstreamTokens).
	g, oerr := p.liveGrantOr(reqCtx, grantID, notFound)
	if oerr != nil {
		return nil, false, oerr
	}
	if !g.Upstream.Expired(p.cfg.Now(), upstreamRefreshLeeway) {
		return g, false, nil
	}
	// The shared work must not die with whichever request started it: an
	// upstream refresh abandoned halfway may already have rotated the upstream
	// refresh token. It is bounded by the HTTP client's and storage's own
	// timeouts instead, while each caller waits only as long as its context.
	ctx := context.WithoutCancel(reqCtx)
	ch := p.refreshes.DoChan(grantID, func() (any, error) {
		// Read again inside: another caller's refresh may just have saved it.
		g, oerr := p.liveGrantOr(ctx, grantID, notFound)
		if oerr != nil {
			return nil, oerr
		}
		if !g.Upstream.Expired(p.cfg.Now(), upstreamRefreshLeeway) {
			return freshResult{grant: g}, nil
		}
		if g.Upstream.RefreshToken == "" {
			return nil, newError(ErrCodeInvalidGrant, "the identity provider's session expired; sign in again")
		}
		fresh, err := p.upstream.Refresh(ctx, g.Upstream.RefreshToken, nil, p.cfg.Now())
		if err != nil {
			// Another replica may have refreshed this grant first and spent the
			// upstream refresh token we used: then its result is in storage.
			if latest, ok := p.refreshedElsewhere(ctx, g); ok {
				return freshResult{grant: latest}, nil
			}
			e := upstreamFailure(err, true)
			p.emit(ctx, Event{Type: EventUpstreamError, ClientID: g.ClientID, Subject: g.Subject, GrantID: g.ID, Reason: e.Code})
			return nil, e
		}
		g.Upstream = mergeRefreshed(g.Upstream, fresh)
		// S22: an upstream that now grants less narrows the grant with it.
		g.Scopes = grantedScopes(g.Scopes, &g.Upstream)
		if err := p.saveGrant(ctx, g, ttl); err != nil {
			return nil, errUnavailable("storage is unavailable, try again", err)
		}
		p.log.Info("oauthproxy: upstream token refreshed", "client_id", g.ClientID, "grant_id", g.ID)
		return freshResult{grant: g, saved: true}, nil
	})
	var res freshResult
	select {
	case r := <-ch:
		if r.Err != nil {
			return nil, false, asError(r.Err)
		}
		res = r.Val.(freshResult)
	case <-reqCtx.Done():
		return nil, false, errUnavailable("the request ended before the grant was loaded", reqCtx.Err())
	}
	// Each caller gets its own copy: the shared value must not be mutated.
	own := *res.grant
	return &own, res.saved, nil
}

// liveGrantOr is liveGrant with notFound's answer for a grant that is gone.
func (p *Proxy) liveGrantOr(ctx context.Context, grantID string, notFound func() *Error) (*grant, *Error) {
	g, oerr := p.liveGrant(ctx, grantID)
	if oerr == nil && g == nil {
		return nil, notFound()
	}
	return g, oerr
}

// freshResult is what the callers of one shared freshGrant receive.
type freshResult struct {
	grant *grant
	saved bool
}

// refreshedElsewhere re-reads a grant after a failed upstream refresh and
// returns it if another process has meanwhile stored fresh upstream tokens
// (the singleflight only coalesces refreshes within one process).
func (p *Proxy) refreshedElsewhere(ctx context.Context, used *grant) (*grant, bool) {
	var latest grant
	if err := p.getJSON(ctx, nsGrant+used.ID, &latest); err != nil {
		return nil, false
	}
	if latest.Upstream.RefreshToken == used.Upstream.RefreshToken && latest.Upstream.AccessToken == used.Upstream.AccessToken {
		return nil, false
	}
	// Fresh enough to use, even if inside the refresh leeway: the other
	// process just refreshed it, and refreshing again would race once more.
	if latest.Upstream.Expired(p.cfg.Now(), 0) {
		return nil, false
	}
	return &latest, true
}
