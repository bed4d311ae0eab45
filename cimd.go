package oauthproxy

import (
	"context"
	"errors"
	"time"

	"github.com/oauthproxy-go/oauthproxy/internal/cimd"
	"github.com/oauthproxy-go/oauthproxy/storage"
)

// cimdCacheTTL is how long a fetched Client ID Metadata Document is trusted
// before it is fetched again: long enough to cover one authorization flow and
// its code exchange, short enough that a client's changes are seen soon.
const cimdCacheTTL = 10 * time.Minute

// loadClient returns a registered client, or, with EnableCIMD and an https URL
// as client_id, the client described by its metadata document (S17). The
// error notFound makes is returned for unknown clients; it is made only then,
// not on every request.
func (p *Proxy) loadClient(ctx context.Context, clientID string, notFound func() *Error) (*clientRecord, *Error) {
	var rec clientRecord
	err := p.getClient(ctx, nsClient+clientID, &rec)
	if err == nil {
		return &rec, nil
	}
	if !errors.Is(err, storage.ErrNotFound) || !p.cfg.EnableCIMD || !cimd.IsClientIDURL(clientID) {
		return nil, storageError(err, notFound())
	}
	return p.fetchClientMetadata(ctx, clientID, notFound())
}

// fetchClientMetadata fetches and validates a Client ID Metadata Document and
// caches it as a public client. Its redirect URIs must also pass
// AllowedRedirectURIPatterns, exactly as a dynamic registration's would (S01).
func (p *Proxy) fetchClientMetadata(ctx context.Context, clientID string, notFound *Error) (*clientRecord, *Error) {
	refuse := func(desc string, cause error) *Error {
		e := *notFound
		e.Description = desc
		e.Cause = cause
		return &e
	}
	doc, err := p.cimd.Fetch(ctx, clientID)
	if errors.Is(err, cimd.ErrBusy) {
		// Too many fetches in flight (S20): temporary, and nothing is known
		// about this client yet, so not an invalid_client.
		e := errUnavailable(err.Error(), err)
		e.RetryAfter = p.cimd.RetryAfter()
		return nil, e
	}
	if err != nil {
		// The cimd package's error text is safe for error_description.
		return nil, refuse(err.Error(), err)
	}
	// A metadata document passes the same checks and limits as a dynamic
	// registration (S01, S14, S19, S21): redirect URIs against
	// AllowedRedirectURIPatterns, every field's size, the whole record's.
	md, oerr := p.validateClientMetadata(&ClientMetadata{
		RedirectURIs:            doc.RedirectURIs,
		TokenEndpointAuthMethod: AuthMethodNone, // CIMD clients are public
		GrantTypes:              doc.GrantTypes,
		ResponseTypes:           doc.ResponseTypes,
		ClientName:              doc.ClientName,
		ClientURI:               doc.ClientURI,
		LogoURI:                 doc.LogoURI,
		Scope:                   doc.Scope,
	})
	if oerr != nil {
		if oerr.Code == ErrCodeInvalidRedirectURI {
			return nil, refuse("the client metadata document names a redirect URI this server does not allow", oerr)
		}
		return nil, refuse("the client metadata document is not acceptable: "+oerr.Description, oerr)
	}
	now := p.cfg.Now()
	rec := newClientRecord(doc.ClientID, md, now)
	rec.MetadataDocument = true
	b, oerr := encodeClientRecord(rec)
	if oerr != nil {
		return nil, refuse("the client metadata document is not acceptable: "+oerr.Description, oerr)
	}
	// A cached document is a live client like a registered one (S19).
	if oerr := p.admit(ctx, p.clientQuota); oerr != nil {
		return nil, oerr
	}
	if err := p.store.Save(ctx, nsClient+clientID, b, cimdCacheTTL); err != nil {
		return nil, errUnavailable("storage is unavailable, try again", err)
	}
	p.log.Info("oauthproxy: client metadata document fetched", "client_id", clientID)
	return rec, nil
}

// newCIMDFetcher builds the SSRF-safe fetcher from the configuration. Its
// defaults bound what client_ids can make the proxy fetch (S20): failures
// remembered per URL (1 minute, 5 for invalid documents; at most 10,000),
// one fetch per URL at a time, at most 8 in flight and 2 per host.
func newCIMDFetcher(s *settings) *cimd.Fetcher {
	return &cimd.Fetcher{
		AllowPrivateAddresses: s.InsecureAllowPrivateCIMDAddresses,
		RootCAs:               s.CIMDRootCAs,
		Now:                   s.Now,
	}
}
