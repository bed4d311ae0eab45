package oauthproxy

import (
	"context"
	"errors"
	"net/http"
	"strconv"
	"time"

	"github.com/oauthproxy-go/oauthproxy/storage"
)

// ClientInfo is a registered client as the administration API shows it: its
// registered metadata (RFC 7591 §2) and when it was registered and last used,
// never its secret or the secret's hash.
type ClientInfo struct {
	ClientID                string    `json:"client_id"`
	ClientName              string    `json:"client_name,omitempty"`
	RedirectURIs            []string  `json:"redirect_uris"`
	TokenEndpointAuthMethod string    `json:"token_endpoint_auth_method"`
	GrantTypes              []string  `json:"grant_types"`
	Scope                   string    `json:"scope,omitempty"`
	ClientURI               string    `json:"client_uri,omitempty"`
	LogoURI                 string    `json:"logo_uri,omitempty"`
	IssuedAt                time.Time `json:"issued_at"`
	LastUsedAt              time.Time `json:"last_used_at"`
	// MetadataDocument marks a client known from its Client ID Metadata
	// Document (EnableCIMD) rather than registered: its entry is a cache.
	MetadataDocument bool `json:"metadata_document,omitempty"`
}

// ClientList is one page of ListClients.
type ClientList struct {
	Clients []ClientInfo `json:"clients"`
	// NextCursor is the Page.Cursor of the next page; "" after the last.
	NextCursor string `json:"next_cursor,omitempty"`
}

func clientInfo(rec *clientRecord) ClientInfo {
	return ClientInfo{
		ClientID:                rec.ClientID,
		ClientName:              rec.ClientName,
		RedirectURIs:            rec.RedirectURIs,
		TokenEndpointAuthMethod: rec.TokenEndpointAuthMethod,
		GrantTypes:              rec.GrantTypes,
		Scope:                   rec.Scope,
		ClientURI:               rec.ClientURI,
		LogoURI:                 rec.LogoURI,
		IssuedAt:                rec.IssuedAt,
		LastUsedAt:              rec.LastUsedAt,
		MetadataDocument:        rec.MetadataDocument,
	}
}

// ListClients returns one page of the registered clients (and the cached
// metadata-document clients). Clients that expire or are deleted while the
// listing runs may or may not appear.
func (p *Proxy) ListClients(ctx context.Context, page Page) (*ClientList, error) {
	if oerr := page.check(); oerr != nil {
		return nil, oerr
	}
	keys, next, oerr := p.scan(ctx, nsClient, page)
	if oerr != nil {
		return nil, oerr
	}
	out := &ClientList{Clients: make([]ClientInfo, 0, len(keys)), NextCursor: next}
	seen := make(map[string]bool, len(keys)) // storage/redis may list a key twice
	for _, key := range keys {
		if seen[key] {
			continue
		}
		seen[key] = true
		var rec clientRecord
		err := p.getJSON(ctx, key, &rec)
		if errors.Is(err, storage.ErrNotFound) {
			continue // gone since it was listed
		}
		if err != nil {
			return nil, storageError(err, nil)
		}
		out.Clients = append(out.Clients, clientInfo(&rec))
	}
	return out, nil
}

// GetClient returns the registered client clientID. An unknown client is an
// *Error with code invalid_client and status 404. It does not fetch metadata
// documents: only clients the proxy holds are shown.
func (p *Proxy) GetClient(ctx context.Context, clientID string) (*ClientInfo, error) {
	rec, oerr := p.storedClient(ctx, clientID)
	if oerr != nil {
		return nil, oerr
	}
	info := clientInfo(rec)
	return &info, nil
}

// storedClient loads a client the proxy holds, without the metadata-document
// fetch loadClient would do.
func (p *Proxy) storedClient(ctx context.Context, clientID string) (*clientRecord, *Error) {
	if clientID == "" {
		return nil, newError(ErrCodeInvalidRequest, "client_id is required")
	}
	var rec clientRecord
	if err := p.getJSON(ctx, nsClient+clientID, &rec); err != nil {
		return nil, storageError(err, adminNotFound(ErrCodeInvalidClient, "no client has this client_id"))
	}
	return &rec, nil
}

// DeleteClient removes the client clientID and revokes every grant it holds:
// its refresh tokens stop working at once, and its access tokens at the next
// bearer check of any replica sharing the storage. The client is removed
// first, so it cannot start a new grant while its old ones are revoked. If
// revoking fails part way, the error says so and calling DeleteClient again
// finishes the job; an unknown client with nothing left to revoke is an
// *Error with code invalid_client and status 404. A client known from its
// metadata document (EnableCIMD) is fetched again on its next request.
func (p *Proxy) DeleteClient(ctx context.Context, clientID string) error {
	_, oerr := p.storedClient(ctx, clientID)
	known := oerr == nil
	if oerr != nil && oerr.Status != http.StatusNotFound {
		return oerr
	}
	if known {
		if err := p.store.Delete(ctx, nsClient+clientID); err != nil {
			return errUnavailable("storage is unavailable, try again", err)
		}
	}
	revoked, oerr := p.revokeIndexed(ctx, clientGrantsPrefix(clientID), func(g *grant) bool { return g.ClientID == clientID },
		"client deleted by an administrator")
	if oerr != nil {
		return oerr
	}
	if !known && revoked == 0 {
		return adminNotFound(ErrCodeInvalidClient, "no client has this client_id")
	}
	p.emit(ctx, Event{Type: EventClientDeleted, ClientID: clientID, Reason: revokedReason(revoked)})
	return nil
}

// revokedReason is the Reason of an admin event that revoked n grants.
func revokedReason(n int) string {
	return "grants revoked: " + strconv.Itoa(n)
}
