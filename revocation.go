package oauthproxy

import (
	"context"
	"encoding/json"
	"errors"
	"time"

	"github.com/oauthproxy-go/oauthproxy/storage"
)

// Revocation state. A revoked grant leaves a marker that outlives every access
// token issued from it, so the bearer check refuses them at once; used codes
// and rotated refresh tokens leave markers so a replay can be recognised and
// answered by revoking the grant (S05, S06).
const (
	nsRevoked     = "revoked:"   // grant id → revocation marker
	nsUsedCode    = "usedcode:"  // hash of a redeemed code → usedMarker
	nsRotated     = "rotated:"   // hash of a rotated refresh token → usedMarker
	nsGraceAnswer = "graceresp:" // hash of a rotated refresh token → the response it got (RefreshReuseGrace)
)

// usedMarker remembers a spent code or refresh token.
type usedMarker struct {
	GrantID  string    `json:"grant_id"`
	ClientID string    `json:"client_id"`
	UsedAt   time.Time `json:"used_at"`
	// NextKey is the storage key of the refresh token that replaced a rotated
	// one, so a grace-period retry can tell whether that token is still live.
	NextKey string `json:"next_key,omitempty"`
}

// revokeGrant ends a grant: the marker first, so outstanding access tokens die
// even if the delete fails, then the grant and its sealed upstream tokens.
func (p *Proxy) revokeGrant(ctx context.Context, grantID, reason string) error {
	if grantID == "" {
		return nil
	}
	// The marker must outlive every token of the grant: swap-mode access tokens
	// (AccessTokenTTL) and, in pass-through mode, the recorded upstream tokens,
	// which are kept at most RefreshTokenTTL.
	marker := []byte(`{"reason":` + jsonString(reason) + `}`)
	if err := p.store.Save(ctx, nsRevoked+grantID, marker, p.revocationMarkerTTL()); err != nil {
		return err
	}
	if err := p.store.Delete(ctx, nsGrant+grantID); err != nil {
		return err
	}
	p.emit(ctx, Event{Type: EventGrantRevoked, GrantID: grantID, Reason: reason})
	return nil
}

// revocationMarkerTTL outlives every token a grant can have issued.
func (p *Proxy) revocationMarkerTTL() time.Duration {
	return max(p.cfg.AccessTokenTTL, p.cfg.RefreshTokenTTL) + time.Minute
}

// grantRevoked reports whether grantID has been revoked.
func (p *Proxy) grantRevoked(ctx context.Context, grantID string) (bool, error) {
	_, err := p.store.Get(ctx, nsRevoked+grantID)
	switch {
	case err == nil:
		return true, nil
	case errors.Is(err, storage.ErrNotFound):
		return false, nil
	default:
		return false, err
	}
}

// markUsed records a spent code or refresh token under key for ttl.
func (p *Proxy) markUsed(ctx context.Context, key string, m *usedMarker, ttl time.Duration) {
	if err := p.putJSON(ctx, key, m, ttl); err != nil {
		// The redemption already succeeded; losing the marker only weakens
		// replay detection, so it is logged rather than failing the client.
		p.log.Error("oauthproxy: could not record a used credential", "grant_id", m.GrantID, "error", err)
	}
}

// replayed looks up the marker of a spent code or refresh token.
func (p *Proxy) replayed(ctx context.Context, key string) (*usedMarker, bool) {
	var m usedMarker
	if err := p.getJSON(ctx, key, &m); err != nil {
		return nil, false
	}
	return &m, true
}

func jsonString(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}
