package oauthproxy

import (
	"context"
	"errors"
	"net/http"

	"github.com/oauthproxy-go/oauthproxy/storage"
)

// The administration API lets an operator see and end what the proxy holds:
// registered clients and grants (one user's consent for one client, with
// every token issued from it). It is Go methods only, plus AdminHandler for
// callers that want it over HTTP behind their own authentication; Handler
// never serves it. Listing needs a storage that implements storage.Scanner
// (Memory, storage.Encrypted over one, storage/bolt, storage/redis).

// maxCursorLen bounds the cursor a caller hands back: the backends' cursors
// are a storage key or a number, far shorter.
const maxCursorLen = 1024

// Page selects one page of a listing. The zero value is the first page of
// storage.DefaultScanLimit (100) entries.
type Page struct {
	// Cursor is the NextCursor of the previous page, or "" for the first.
	Cursor string
	// Size is how many entries to read: 0 means storage.DefaultScanLimit,
	// and more than storage.MaxScanLimit (1000) is capped there. A page may
	// hold fewer entries than Size, even none, before the listing ends (on
	// storage/redis it may also hold a few more); only an empty NextCursor
	// ends it.
	Size int
}

// check refuses a negative size or an overlong cursor.
func (pg Page) check() *Error {
	if pg.Size < 0 {
		return newError(ErrCodeInvalidRequest, "the page size must not be negative")
	}
	if len(pg.Cursor) > maxCursorLen {
		return newError(ErrCodeInvalidRequest, "the cursor is too long")
	}
	return nil
}

// scan reads one page of keys under prefix.
func (p *Proxy) scan(ctx context.Context, prefix string, pg Page) ([]string, string, *Error) {
	sc, ok := p.store.(storage.Scanner)
	if !ok {
		return nil, "", newError(ErrCodeServerError, "the configured storage cannot list its entries").
			withCause(storage.ErrScanUnsupported)
	}
	keys, next, err := sc.Scan(ctx, prefix, pg.Cursor, pg.Size)
	switch {
	case errors.Is(err, storage.ErrScanUnsupported):
		return nil, "", newError(ErrCodeServerError, "the configured storage cannot list its entries").withCause(err)
	case errors.Is(err, storage.ErrInvalidCursor):
		return nil, "", newError(ErrCodeInvalidRequest, "the cursor is invalid").withCause(err)
	case err != nil:
		return nil, "", errUnavailable("storage is unavailable, try again", err)
	}
	return keys, next, nil
}

// adminNotFound is the error for an id the administration API does not know:
// an OAuth code for the wire, with 404 as its status.
func adminNotFound(code, description string) *Error {
	e := newError(code, description)
	e.Status = http.StatusNotFound
	return e
}
