package oauthproxy

import (
	"context"
	"crypto/subtle"
	"errors"
	"net/http"
	"net/url"
	"slices"
	"time"
	"unicode/utf8"

	"github.com/google/uuid"
	"github.com/oauthproxy-go/oauthproxy/internal/displaytext"
	"github.com/oauthproxy-go/oauthproxy/internal/redirecturi"
)

// Client authentication methods a registered client may use at /token
// (RFC 7591 §2; "none" marks a public client).
const (
	AuthMethodNone = "none"
)

// ClientMetadata is the client's registration request (RFC 7591 §2). Unknown
// fields are ignored, as §2 requires.
type ClientMetadata struct {
	// RedirectURIs: REQUIRED for the authorization code flow (RFC 7591 §2).
	RedirectURIs []string `json:"redirect_uris"`
	// TokenEndpointAuthMethod: OPTIONAL; "none" (public client),
	// "client_secret_basic" (the RFC 7591 default) or "client_secret_post".
	TokenEndpointAuthMethod string `json:"token_endpoint_auth_method,omitempty"`
	// GrantTypes: OPTIONAL; default ["authorization_code"].
	GrantTypes []string `json:"grant_types,omitempty"`
	// ResponseTypes: OPTIONAL; default ["code"].
	ResponseTypes []string `json:"response_types,omitempty"`
	ClientName    string   `json:"client_name,omitempty"` // OPTIONAL; shown on the consent page
	ClientURI     string   `json:"client_uri,omitempty"`  // OPTIONAL
	LogoURI       string   `json:"logo_uri,omitempty"`    // OPTIONAL
	Scope         string   `json:"scope,omitempty"`       // OPTIONAL; space-delimited
}

// ClientInformation is the registration response (RFC 7591 §3.2.1): the issued
// credentials and the registered metadata.
type ClientInformation struct {
	ClientID string `json:"client_id"`
	// ClientSecret is issued only to confidential clients and shown only here;
	// the proxy keeps its hash.
	ClientSecret          string `json:"client_secret,omitempty"`
	ClientIDIssuedAt      int64  `json:"client_id_issued_at"`
	ClientSecretExpiresAt *int64 `json:"client_secret_expires_at,omitempty"` // 0: never (REQUIRED when a secret is issued)
	ClientMetadata
}

// RegisterClient registers a client dynamically (RFC 7591 §3). The proxy issues
// its own client_id; confidential clients get a secret, stored hashed (S03);
// redirect URIs are validated on the parsed URL against AllowedRedirectURIPatterns
// (S01). Errors are invalid_redirect_uri or invalid_client_metadata (§3.2.2).
func (p *Proxy) RegisterClient(ctx context.Context, md *ClientMetadata) (*ClientInformation, error) {
	if md == nil {
		return nil, newError(ErrCodeInvalidClientMetadata, "registration metadata is required")
	}
	meta, oerr := p.validateClientMetadata(md)
	if oerr != nil {
		return nil, oerr
	}

	now := p.cfg.Now()
	info := &ClientInformation{
		ClientID:         uuid.NewString(),
		ClientIDIssuedAt: now.Unix(),
		ClientMetadata:   *meta,
	}
	rec := newClientRecord(info.ClientID, meta, now)
	if meta.TokenEndpointAuthMethod != AuthMethodNone {
		info.ClientSecret = randomToken()
		never := int64(0)
		info.ClientSecretExpiresAt = &never
		rec.SecretHash = hashedKey("", info.ClientSecret)
	}
	b, oerr := encodeClientRecord(rec)
	if oerr != nil {
		return nil, oerr
	}
	if oerr := p.admit(ctx, p.clientQuota); oerr != nil {
		return nil, oerr
	}
	if err := p.store.Save(ctx, nsClient+info.ClientID, b, p.cfg.ClientIdleTTL); err != nil {
		return nil, errUnavailable("storage is unavailable, try again", err)
	}
	p.emit(ctx, Event{Type: EventClientRegistered, ClientID: info.ClientID, Reason: meta.TokenEndpointAuthMethod})
	return info, nil
}

// newClientRecord is the stored form of validated metadata md.
func newClientRecord(clientID string, md *ClientMetadata, now time.Time) *clientRecord {
	return &clientRecord{
		ClientID:                clientID,
		ClientName:              md.ClientName,
		RedirectURIs:            md.RedirectURIs,
		TokenEndpointAuthMethod: md.TokenEndpointAuthMethod,
		GrantTypes:              md.GrantTypes,
		ResponseTypes:           md.ResponseTypes,
		Scope:                   md.Scope,
		ClientURI:               md.ClientURI,
		LogoURI:                 md.LogoURI,
		IssuedAt:                now,
		LastUsedAt:              now,
	}
}

// validateClientMetadata applies RFC 7591 §2 defaults and rejects what the
// proxy cannot honour, returning a normalised copy.
func (p *Proxy) validateClientMetadata(in *ClientMetadata) (*ClientMetadata, *Error) {
	md := *in
	invalid := func(format string, args ...any) *Error {
		return errorf(ErrCodeInvalidClientMetadata, format, args...)
	}

	if len(md.RedirectURIs) == 0 {
		return nil, newError(ErrCodeInvalidRedirectURI, "redirect_uris is required")
	}
	if len(md.RedirectURIs) > maxRedirectURIs {
		return nil, errorf(ErrCodeInvalidRedirectURI, "at most %d redirect_uris are allowed", maxRedirectURIs)
	}
	md.RedirectURIs = slices.Clone(md.RedirectURIs)
	for i, raw := range md.RedirectURIs {
		u, err := redirecturi.Parse(raw)
		if err != nil {
			return nil, errorf(ErrCodeInvalidRedirectURI, "redirect_uris[%d]: %v", i, err)
		}
		if !redirecturi.Allowed(u, p.cfg.patterns) {
			return nil, errorf(ErrCodeInvalidRedirectURI,
				"redirect_uris[%d] is not allowed by this server's redirect URI patterns", i)
		}
	}

	switch md.TokenEndpointAuthMethod {
	case "":
		// RFC 7591 §2: the default is client_secret_basic.
		md.TokenEndpointAuthMethod = AuthMethodClientSecretBasic
	case AuthMethodNone, AuthMethodClientSecretBasic, AuthMethodClientSecretPost:
	default:
		return nil, invalid("token_endpoint_auth_method must be one of none, client_secret_basic, client_secret_post")
	}

	if len(md.GrantTypes) > maxTypeListLen || len(md.ResponseTypes) > maxTypeListLen {
		return nil, invalid("grant_types and response_types may have at most %d entries", maxTypeListLen)
	}
	if len(md.GrantTypes) == 0 {
		md.GrantTypes = []string{grantAuthorizationCode}
	}
	for _, g := range md.GrantTypes {
		if g != grantAuthorizationCode && g != grantRefreshToken {
			return nil, invalid("grant_types may contain only authorization_code and refresh_token")
		}
	}
	if !slices.Contains(md.GrantTypes, grantAuthorizationCode) {
		return nil, invalid("grant_types must include authorization_code")
	}
	md.GrantTypes = slices.Compact(slices.Sorted(slices.Values(md.GrantTypes)))
	if len(md.ResponseTypes) == 0 {
		md.ResponseTypes = []string{"code"}
	}
	for _, r := range md.ResponseTypes {
		if r != "code" {
			return nil, invalid("response_types may contain only code")
		}
	}
	md.ResponseTypes = []string{"code"}

	if !utf8.ValidString(md.ClientName) || len(md.ClientName) > maxClientNameLen {
		return nil, invalid("client_name must be valid UTF-8 of at most %d bytes", maxClientNameLen)
	}
	// S21, Unicode TR #36: the consent page shows this name; refuse (not
	// clean) a name that could reorder, hide or break lines of what it shows.
	if !displaytext.IsClean(md.ClientName) {
		return nil, invalid("client_name must not contain control characters, line breaks or invisible or bidirectional formatting characters")
	}
	for name, v := range map[string]string{"client_uri": md.ClientURI, "logo_uri": md.LogoURI} {
		if v == "" {
			continue
		}
		if err := checkMetadataURI(v); err != nil {
			return nil, invalid("%s: %v", name, err)
		}
	}
	if md.Scope != "" {
		if oerr := checkScopeSize(md.Scope); oerr != nil {
			return nil, invalid("%s", oerr.Description)
		}
		if _, err := p.checkScope(md.Scope); err != nil {
			return nil, invalid("scope: %s", err.Description)
		}
	}
	return &md, nil
}

// checkMetadataURI accepts an absolute https URL (http only on loopback) for
// display-only metadata such as client_uri and logo_uri.
func checkMetadataURI(raw string) error {
	if len(raw) > maxMetadataURILen {
		return errors.New("too long")
	}
	u, err := url.Parse(raw)
	if err != nil || !u.IsAbs() || u.Host == "" || u.User != nil {
		return errors.New("must be an absolute URL without userinfo")
	}
	if u.Scheme != "https" && !(u.Scheme == "http" && redirecturi.IsLoopbackHost(u.Hostname())) {
		return errors.New("must use https (http only on loopback)")
	}
	return nil
}

// lookupClient loads a registered client for the browser-facing endpoints. A
// miss is invalid_client, shown to the user and never redirected (RFC 6749
// §4.1.2.1), with status 400: no HTTP authentication was attempted, so a 401
// (which needs WWW-Authenticate) would be wrong.
func (p *Proxy) lookupClient(ctx context.Context, clientID string) (*clientRecord, *Error) {
	unknown := func(desc string) *Error {
		e := newError(ErrCodeInvalidClient, desc).noRedirect()
		e.Status = http.StatusBadRequest
		return e
	}
	if clientID == "" {
		return nil, unknown("client_id is required")
	}
	rec, oerr := p.loadClient(ctx, clientID, func() *Error { return unknown("unknown client") })
	if oerr != nil {
		// Without the client its redirect URIs are unknown, so no failure
		// here may redirect, a storage failure included (S01).
		return nil, oerr.noRedirect()
	}
	p.touchClient(ctx, rec)
	return rec, nil
}

// touchClient extends an active client's registration by ClientIdleTTL. It
// writes at most about once a day per client, not on every request.
func (p *Proxy) touchClient(ctx context.Context, rec *clientRecord) {
	if rec.MetadataDocument {
		return // re-fetched when its cache entry expires, never extended
	}
	now := p.cfg.Now()
	if now.Sub(rec.LastUsedAt) < p.cfg.ClientIdleTTL/30 {
		return
	}
	rec.LastUsedAt = now
	if err := p.putJSON(ctx, nsClient+rec.ClientID, rec, p.cfg.ClientIdleTTL); err != nil {
		p.log.Warn("oauthproxy: could not extend client registration", "client_id", rec.ClientID, "error", err)
	}
}

// ClientCredentials is how a client authenticated at the token endpoint
// (RFC 6749 §2.3.1): ClientID from the body or from HTTP Basic.
type ClientCredentials struct {
	ClientID     string
	ClientSecret string
	// Method is the method the request used: "client_secret_basic",
	// "client_secret_post" or "none".
	Method string
}

// authenticateClient enforces the client's registered authentication method
// and checks the secret in constant time (RFC 6749 §2.3.1, §3.2.1; S03).
func (p *Proxy) authenticateClient(ctx context.Context, cred ClientCredentials) (*clientRecord, *Error) {
	fail := func(desc string) *Error {
		e := newError(ErrCodeInvalidClient, desc)
		e.BasicAuth = cred.Method == AuthMethodClientSecretBasic
		return e
	}
	if cred.ClientID == "" {
		return nil, fail("client authentication is required")
	}
	rec, oerr := p.loadClient(ctx, cred.ClientID, func() *Error { return fail("client authentication failed") })
	if oerr != nil {
		return nil, oerr
	}
	if cred.Method != rec.TokenEndpointAuthMethod {
		return nil, fail("client authentication failed: use the registered token_endpoint_auth_method")
	}
	if rec.TokenEndpointAuthMethod != AuthMethodNone {
		got := hashedKey("", cred.ClientSecret)
		if cred.ClientSecret == "" || subtle.ConstantTimeCompare([]byte(got), []byte(rec.SecretHash)) != 1 {
			return nil, fail("client authentication failed")
		}
	}
	p.touchClient(ctx, rec)
	return rec, nil
}
