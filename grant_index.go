package oauthproxy

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"strings"
	"time"

	"github.com/oauthproxy-go/oauthproxy/internal/strview"
)

// The grant indexes let the administration API find a user's or a client's
// grants without reading every grant: for each grant, one empty entry under
//
//	grantsub:<digest of the subject>:<grant id>
//	grantcli:<digest of the client id>:<grant id>
//
// listed with a storage.Scanner prefix scan. Subjects and client ids are
// digested so the keys, which are stored in the clear, carry no personal data
// and have a fixed length (a prefix of one never matches another's keys).
//
// The index can never miss a stored grant: saveGrant writes the entries before
// the grant, with an expiry at least the grant's. A crash or failure between
// the writes leaves entries that name a grant not (or no longer) stored: the
// listing skips them, and revoking by them writes a revocation marker for an
// id that nothing uses. Entries are never deleted early, for the same reason
// (a grant being written at that moment would lose its entry); they expire.
const (
	nsGrantsBySubject = "grantsub:"
	nsGrantsByClient  = "grantcli:"
)

// subjectGrantsPrefix is the index prefix of subject's grants.
func subjectGrantsPrefix(subject string) string { return indexKey(nsGrantsBySubject, subject, "") }

// clientGrantsPrefix is the index prefix of clientID's grants.
func clientGrantsPrefix(clientID string) string { return indexKey(nsGrantsByClient, clientID, "") }

// indexKey is namespace, the digest of owner, ":" and grantID ("" for the
// prefix), made in one allocation (issue 16: four keys a sign-in).
func indexKey(namespace, owner, grantID string) string {
	sum := sha256.Sum256(strview.Bytes(owner))
	var digest [43]byte // base64url of 32 bytes, unpadded
	base64.RawURLEncoding.Encode(digest[:], sum[:])
	var b strings.Builder
	b.Grow(len(namespace) + len(digest) + 1 + len(grantID))
	b.WriteString(namespace)
	b.Write(digest[:])
	b.WriteByte(':')
	b.WriteString(grantID)
	return b.String()
}

// grantIDFromIndexKey returns the grant id an index key names.
func grantIDFromIndexKey(key string) string {
	return key[strings.LastIndexByte(key, ':')+1:]
}

// saveGrant stores g for ttl, first making sure its index entries outlive it.
func (p *Proxy) saveGrant(ctx context.Context, g *grant, ttl time.Duration) error {
	now := p.cfg.Now()
	g.ExpiresAt = now.Add(ttl)
	if g.IndexedUntil.Before(g.ExpiresAt) {
		if err := p.indexGrant(ctx, g, ttl); err != nil {
			return err
		}
	}
	return p.putJSON(ctx, nsGrant+g.ID, g, ttl)
}

// indexGrant writes g's index entries to live twice ttl, so a grant saved
// again and again with ttl (every refresh) rewrites them about once per ttl,
// not on every save.
func (p *Proxy) indexGrant(ctx context.Context, g *grant, ttl time.Duration) error {
	indexTTL := 2 * ttl
	for _, key := range [...]string{indexKey(nsGrantsBySubject, g.Subject, g.ID), indexKey(nsGrantsByClient, g.ClientID, g.ID)} {
		if err := p.store.Save(ctx, key, nil, indexTTL); err != nil {
			return fmt.Errorf("oauthproxy: indexing grant: %w", err)
		}
	}
	g.IndexedUntil = p.cfg.Now().Add(indexTTL)
	return nil
}
