package oauthproxy

import (
	"fmt"
	"strings"

	"github.com/oauthproxy-go/oauthproxy/internal/redirecturi"
	"github.com/segmentio/encoding/json"
)

// Size limits on every value an anonymous request can make the proxy store or
// echo (S19; RFC 9700 §4.16, RFC 7591 §3.2.2). Each is far above what real
// MCP clients send and small enough that the quotas bound the memory open
// endpoints can take. SECURITY.md "Limits" lists them with the quotas.
const (
	// maxStateLen bounds state, which is stored with the transaction and
	// echoed on the redirect back to the client. MCP clients send 32–64 bytes.
	maxStateLen = 1024
	// maxScopeLen and maxScopeTokens bound a scope parameter at /authorize,
	// /token and /register.
	maxScopeLen    = 1024
	maxScopeTokens = 50
	// maxResourceLen bounds an RFC 8707 resource indicator.
	maxResourceLen = 2048
	// maxClientIDLen bounds client_id: the longest is a metadata document URL
	// (2048 bytes, as internal/cimd allows); registered ids are UUIDs.
	maxClientIDLen = 2048
	// maxRedirectURIs bounds how many redirect URIs a client registers; each
	// is at most redirecturi.MaxLength (2048) bytes.
	maxRedirectURIs = 10
	// maxClientNameLen bounds client_name, in bytes.
	maxClientNameLen = 200
	// maxMetadataURILen bounds client_uri and logo_uri.
	maxMetadataURILen = 2048
	// maxTypeListLen bounds grant_types and response_types: only two grant
	// types and one response type exist here, so longer lists are junk.
	maxTypeListLen = 4
	// maxClientRecordLen bounds a whole stored client record (registered or
	// from a metadata document), encoded, before sealing.
	maxClientRecordLen = 4096
)

// MaxHeaderBytes is what to give http.Server.MaxHeaderBytes for a server
// that serves the proxy: the longest request it needs — an authorization
// request with every parameter at its limit, percent-encoded, plus its
// cookies — fits with room to spare, while net/http's default (1 MiB) lets
// every hostile request make the server read a megabyte before the proxy can
// refuse it.
const MaxHeaderBytes = 64 << 10

// checkLen reports a parameter longer than max. The description names the
// parameter and the limit, never the value (S21).
func checkLen(name, value string, max int) *Error {
	if len(value) > max {
		return errorf(ErrCodeInvalidRequest, "%s is longer than %d bytes", name, max)
	}
	return nil
}

// checkScopeSize bounds a space-delimited scope parameter in bytes and in
// scope tokens (RFC 6749 §3.3).
func checkScopeSize(raw string) *Error {
	if oerr := checkLen("scope", raw, maxScopeLen); oerr != nil {
		return oerr
	}
	if len(strings.Fields(raw)) > maxScopeTokens {
		return errorf(ErrCodeInvalidRequest, "scope has more than %d values", maxScopeTokens)
	}
	return nil
}

// checkSizes bounds an authorization request before anything is looked up or
// stored (S19). A violation is never redirected: the redirect would echo an
// oversized state back through the browser.
func (req *AuthorizationRequest) checkSizes() *Error {
	for _, c := range []struct {
		name, value string
		max         int
	}{
		{"client_id", req.ClientID, maxClientIDLen},
		{"redirect_uri", req.RedirectURI, redirecturi.MaxLength},
		{"state", req.State, maxStateLen},
		{"resource", req.Resource, maxResourceLen},
		// RFC 7636 §4.2: an S256 challenge is 43 characters; the exact shape
		// is checked later, where the error may be redirected.
		{"code_challenge", req.CodeChallenge, 128},
		{"code_challenge_method", req.CodeChallengeMethod, 16},
		{"response_type", req.ResponseType, 64},
	} {
		if oerr := checkLen(c.name, c.value, c.max); oerr != nil {
			return oerr.noRedirect()
		}
	}
	if oerr := checkScopeSize(req.Scope); oerr != nil {
		return oerr.noRedirect()
	}
	return nil
}

// checkSizes bounds a token request before any lookup (S19). Nothing of it is
// stored but the scope, which may only narrow a grant's; the bounds keep junk
// out of storage keys and error paths.
func (req *TokenRequest) checkSizes() *Error {
	for _, c := range []struct {
		name, value string
		max         int
	}{
		{"client_id", req.Client.ClientID, maxClientIDLen},
		{"redirect_uri", req.RedirectURI, redirecturi.MaxLength},
		{"resource", req.Resource, maxResourceLen},
	} {
		if oerr := checkLen(c.name, c.value, c.max); oerr != nil {
			return oerr
		}
	}
	return checkScopeSize(req.Scope)
}

// encodeClientRecord encodes a client for storage and refuses one whose
// record would exceed maxClientRecordLen, whatever combination of fields
// makes it so (S19).
func encodeClientRecord(rec *clientRecord) ([]byte, *Error) {
	b, err := json.Marshal(rec)
	if err != nil {
		return nil, errServer(fmt.Errorf("oauthproxy: encoding client: %w", err))
	}
	if len(b) > maxClientRecordLen {
		return nil, errorf(ErrCodeInvalidClientMetadata,
			"the client metadata is too large: a client record is limited to %d bytes", maxClientRecordLen)
	}
	return b, nil
}
