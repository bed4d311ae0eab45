package oauthproxy

import (
	"context"
	"errors"
	"time"

	"github.com/oauthproxy-go/oauthproxy/storage"
)

// GrantInfo is a grant as the administration API shows it: who, for which
// client, what, and when. It never carries a token, code, hash, upstream
// token or the upstream's claims.
type GrantInfo struct {
	ID       string   `json:"id"`
	ClientID string   `json:"client_id"`
	Subject  string   `json:"sub"`
	Scopes   []string `json:"scopes,omitempty"`
	Resource string   `json:"resource"`
	// CreatedAt is when the user signed in; LastRefreshAt when the client
	// last used a refresh token (zero if never); ExpiresAt when the grant
	// ends unless a refresh extends it.
	CreatedAt     time.Time `json:"created_at"`
	LastRefreshAt time.Time `json:"last_refresh_at,omitzero"`
	ExpiresAt     time.Time `json:"expires_at"`
}

// GrantFilter says whose grants ListGrants lists: those of Subject, of
// ClientID, or, with both, of that user at that client. One is required.
type GrantFilter struct {
	Subject  string
	ClientID string
}

// GrantList is one page of ListGrants.
type GrantList struct {
	Grants []GrantInfo `json:"grants"`
	// NextCursor is the Page.Cursor of the next page; "" after the last.
	NextCursor string `json:"next_cursor,omitempty"`
}

func grantInfo(g *grant) GrantInfo {
	return GrantInfo{
		ID:            g.ID,
		ClientID:      g.ClientID,
		Subject:       g.Subject,
		Scopes:        g.Scopes,
		Resource:      g.Resource,
		CreatedAt:     g.CreatedAt,
		LastRefreshAt: g.RefreshedAt,
		ExpiresAt:     g.ExpiresAt,
	}
}

// ListGrants returns one page of the live grants of a user or a client, from
// the grant indexes. Revoked and expired grants are left out. In pass-through
// mode (DisableTokenSwap) the proxy keeps no grant once the code is redeemed,
// so only grants between sign-in and redemption are listed; RevokeSubject and
// DeleteClient still reach the others.
func (p *Proxy) ListGrants(ctx context.Context, filter GrantFilter, page Page) (*GrantList, error) {
	if oerr := page.check(); oerr != nil {
		return nil, oerr
	}
	prefix, match, oerr := filter.index()
	if oerr != nil {
		return nil, oerr
	}
	keys, next, oerr := p.scan(ctx, prefix, page)
	if oerr != nil {
		return nil, oerr
	}
	out := &GrantList{Grants: make([]GrantInfo, 0, len(keys)), NextCursor: next}
	seen := make(map[string]bool, len(keys)) // storage/redis may list a key twice
	for _, key := range keys {
		id := grantIDFromIndexKey(key)
		if seen[id] {
			continue
		}
		seen[id] = true
		g, oerr := p.liveGrant(ctx, id)
		if oerr != nil {
			return nil, oerr
		}
		if g != nil && match(g) {
			out.Grants = append(out.Grants, grantInfo(g))
		}
	}
	return out, nil
}

// index returns the index prefix to scan for f and the test a listed grant
// must pass.
func (f GrantFilter) index() (string, func(*grant) bool, *Error) {
	switch {
	case f.Subject != "" && f.ClientID != "":
		return subjectGrantsPrefix(f.Subject), func(g *grant) bool { return g.Subject == f.Subject && g.ClientID == f.ClientID }, nil
	case f.Subject != "":
		return subjectGrantsPrefix(f.Subject), func(g *grant) bool { return g.Subject == f.Subject }, nil
	case f.ClientID != "":
		return clientGrantsPrefix(f.ClientID), func(g *grant) bool { return g.ClientID == f.ClientID }, nil
	}
	return "", nil, newError(ErrCodeInvalidRequest, "a subject or a client_id is required")
}

// liveGrant loads a grant that is stored and not revoked; nil if there is none.
// A grant sealed under a key no longer in the ring cannot be used or shown and
// counts as gone. The revocation marker is what revokes (revokeGrant writes it
// first): a revocation that could not delete the grant must still hold.
func (p *Proxy) liveGrant(ctx context.Context, id string) (*grant, *Error) {
	var g grant
	err := p.getJSON(ctx, nsGrant+id, &g)
	switch {
	case errors.Is(err, storage.ErrNotFound):
		return nil, nil
	case errors.Is(err, storage.ErrCorrupt):
		// Sealed with a key no longer in the ring: the grant is lost, and
		// its client must sign in again.
		p.log.Error("oauthproxy: grant cannot be opened", "grant_id", id, "error", err)
		return nil, nil
	case err != nil:
		return nil, errUnavailable("storage is unavailable, try again", err)
	}
	revoked, err := p.grantRevoked(ctx, id)
	if err != nil {
		return nil, errUnavailable("storage is unavailable, try again", err)
	}
	if revoked {
		return nil, nil
	}
	return &g, nil
}

// RevokeGrant revokes the grant id (GrantInfo.ID): its refresh tokens stop
// working at once, and its access tokens at the next bearer check of any
// replica sharing the storage. When UpstreamRevocationEndpoint is set the
// upstream tokens are revoked too, best effort. Revoking a revoked grant
// succeeds; an unknown grant is an *Error with code invalid_grant and status
// 404.
func (p *Proxy) RevokeGrant(ctx context.Context, id string) error {
	if id == "" {
		return newError(ErrCodeInvalidRequest, "a grant id is required")
	}
	revoked, err := p.grantRevoked(ctx, id)
	if err != nil {
		return errUnavailable("storage is unavailable, try again", err)
	}
	if revoked {
		return nil
	}
	var g grant
	if err := p.getJSON(ctx, nsGrant+id, &g); err != nil && !errors.Is(err, storage.ErrCorrupt) {
		return storageError(err, adminNotFound(ErrCodeInvalidGrant, "no grant has this id"))
	}
	if oerr := p.revokeAsAdmin(ctx, id, &g, "revoked by an administrator"); oerr != nil {
		return oerr // not the *Error itself when nil: a nil *Error is a non-nil error
	}
	return nil
}

// RevokeSubject signs the user subject out everywhere: it revokes every grant
// of that user, under every client, so each of their refresh tokens stops
// working at once and each access token at the next bearer check of any
// replica sharing the storage. It returns how many grants it revoked (none
// is not an error). If it fails part way, calling it again finishes the job.
func (p *Proxy) RevokeSubject(ctx context.Context, subject string) (int, error) {
	if subject == "" {
		return 0, newError(ErrCodeInvalidRequest, "a subject is required")
	}
	n, oerr := p.revokeIndexed(ctx, subjectGrantsPrefix(subject), func(g *grant) bool { return g.Subject == subject },
		"user signed out by an administrator")
	if oerr != nil {
		return n, oerr
	}
	p.emit(ctx, Event{Type: EventSubjectRevoked, Subject: subject, Reason: revokedReason(n)})
	return n, nil
}

// revokeIndexed revokes every grant listed under an index prefix that is not
// revoked yet, and returns how many it revoked. A listed grant that is not
// stored is revoked all the same: in pass-through mode its tokens outlive it,
// and a grant being written right now may be one (the index is written
// first). Stored grants that fail match are left alone.
func (p *Proxy) revokeIndexed(ctx context.Context, prefix string, match func(*grant) bool, reason string) (int, *Error) {
	revoked := 0
	page := Page{Size: storage.MaxScanLimit}
	for {
		keys, next, oerr := p.scan(ctx, prefix, page)
		if oerr != nil {
			return revoked, oerr
		}
		for _, key := range keys {
			id := grantIDFromIndexKey(key)
			done, err := p.grantRevoked(ctx, id)
			if err != nil {
				return revoked, errUnavailable("storage is unavailable, try again", err)
			}
			if done {
				continue // already revoked, or listed twice
			}
			var g grant
			err = p.getJSON(ctx, nsGrant+id, &g)
			switch {
			case err == nil && !match(&g):
				continue
			case err != nil && !errors.Is(err, storage.ErrNotFound) && !errors.Is(err, storage.ErrCorrupt):
				return revoked, errUnavailable("storage is unavailable, try again", err)
			}
			if oerr := p.revokeAsAdmin(ctx, id, &g, reason); oerr != nil {
				return revoked, oerr
			}
			revoked++
		}
		if next == "" {
			return revoked, nil
		}
		page.Cursor = next
	}
}

// revokeAsAdmin revokes grant id, whose record g may be empty when it is not
// stored, and its upstream tokens when g holds them.
func (p *Proxy) revokeAsAdmin(ctx context.Context, id string, g *grant, reason string) *Error {
	if err := p.revokeGrant(ctx, id, reason); err != nil {
		return errUnavailable("storage is unavailable, try again", err)
	}
	p.revokeUpstream(ctx, g.Upstream.RefreshToken, g.Upstream.AccessToken)
	return nil
}
