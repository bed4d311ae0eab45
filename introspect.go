package oauthproxy

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/oauthproxy-go/oauthproxy/internal/httpx"
	"github.com/oauthproxy-go/oauthproxy/storage"
)

const introspectPath = "/oauth/introspect"

// minIntrospectionSecret is the shortest secret IntrospectionCredentials
// accepts: these are passwords a resource server presents on every call.
const minIntrospectionSecret = 16

// IntrospectionRequest is an RFC 7662 §2.1 request. Client is the caller: a
// registered confidential client, or a resource server named in
// Config.IntrospectionCredentials.
type IntrospectionRequest struct {
	Token         string
	TokenTypeHint string // "access_token" or "refresh_token"; only a hint (§2.1)
	Client        ClientCredentials
}

// Introspection is the RFC 7662 §2.2 answer. For an active access token it
// carries the token's claims; token_type is "Bearer" for access tokens and
// absent for refresh tokens. An inactive token has Active false and nothing
// else (§2.2: no reason is given). Upstream tokens are never part of it.
type Introspection struct {
	Active    bool   `json:"active"`               // REQUIRED
	Scope     string `json:"scope,omitempty"`      // OPTIONAL
	ClientID  string `json:"client_id,omitempty"`  // OPTIONAL
	TokenType string `json:"token_type,omitempty"` // OPTIONAL
	ExpiresAt int64  `json:"exp,omitempty"`        // OPTIONAL, seconds since the epoch
	IssuedAt  int64  `json:"iat,omitempty"`        // OPTIONAL, seconds since the epoch
	Subject   string `json:"sub,omitempty"`        // OPTIONAL
	Audience  string `json:"aud,omitempty"`        // OPTIONAL: Resource
	Issuer    string `json:"iss,omitempty"`        // OPTIONAL: BaseURL
	TokenID   string `json:"jti,omitempty"`        // OPTIONAL
}

// introspector is an authenticated caller of the introspection endpoint.
type introspector struct {
	clientID string
	// resourceServer is true for IntrospectionCredentials, which may look at
	// every access token the proxy issued and at no refresh token.
	resourceServer bool
}

// IntrospectToken answers an RFC 7662 introspection request. The caller
// authenticates (§2.1) as a resource server of IntrospectionCredentials,
// which sees every access token of the proxy, or as a registered
// confidential client, which sees only its own access and refresh tokens;
// public clients cannot introspect. Expired, revoked, malformed, unknown
// tokens and other clients' tokens are all answered {active:false} (§2.2).
func (p *Proxy) IntrospectToken(ctx context.Context, req *IntrospectionRequest) (*Introspection, error) {
	caller, oerr := p.authenticateIntrospector(ctx, req.Client)
	if oerr != nil {
		return nil, oerr
	}
	if req.Token == "" {
		return nil, newError(ErrCodeInvalidRequest, "token is required")
	}
	inactive := &Introspection{}
	if len(req.Token) > maxAccessTokenSize {
		return inactive, nil // longer than anything the proxy issues
	}
	lookups := []func() (*Introspection, error){
		func() (*Introspection, error) { return p.introspectAccess(ctx, req.Token, caller) },
		func() (*Introspection, error) { return p.introspectRefresh(ctx, req.Token, caller) },
	}
	if req.TokenTypeHint == "refresh_token" {
		lookups[0], lookups[1] = lookups[1], lookups[0]
	}
	for _, lookup := range lookups {
		in, err := lookup()
		if err != nil {
			return nil, errUnavailable("storage is unavailable, try again", err)
		}
		if in != nil {
			return in, nil
		}
	}
	return inactive, nil
}

// introspectAccess describes token if it is an access token the caller may
// see, as the bearer check would take it (revocation included); nil
// otherwise. Errors are storage failures.
func (p *Proxy) introspectAccess(ctx context.Context, token string, caller *introspector) (*Introspection, error) {
	c, err := p.VerifyAccessToken(ctx, token)
	switch {
	case errors.Is(err, ErrInvalidToken), errors.Is(err, ErrTokenExpired), errors.Is(err, ErrTokenRevoked):
		return nil, nil
	case err != nil:
		return nil, err
	case !caller.resourceServer && c.ClientID != caller.clientID:
		return nil, nil // another client's token: no information (§4)
	}
	in := &Introspection{
		Active:    true,
		Scope:     joinScope(c.Scopes),
		ClientID:  c.ClientID,
		TokenType: "Bearer",
		ExpiresAt: c.ExpiresAt.Unix(),
		Subject:   c.Subject,
		Audience:  c.Audience,
		Issuer:    p.cfg.BaseURL,
		TokenID:   c.TokenID,
	}
	if !c.IssuedAt.IsZero() {
		in.IssuedAt = c.IssuedAt.Unix()
	}
	return in, nil
}

// introspectRefresh describes token if it is a live refresh token of the
// calling client (swap mode); nil otherwise. A refresh token is its client's
// secret, so resource servers never see one.
func (p *Proxy) introspectRefresh(ctx context.Context, token string, caller *introspector) (*Introspection, error) {
	if caller.resourceServer || p.cfg.DisableTokenSwap {
		return nil, nil
	}
	var rec refreshRecord
	err := p.getJSON(ctx, hashedKey(nsRefresh, token), &rec)
	switch {
	case errors.Is(err, storage.ErrNotFound):
		return nil, nil
	case err != nil:
		return nil, err
	case rec.ClientID != caller.clientID, !p.cfg.Now().Before(rec.ExpiresAt):
		return nil, nil
	}
	var g grant
	err = p.getJSON(ctx, nsGrant+rec.GrantID, &g)
	switch {
	case errors.Is(err, storage.ErrNotFound):
		return nil, nil // revoked: the grant is gone
	case err != nil:
		return nil, err
	}
	if revoked, err := p.grantRevoked(ctx, rec.GrantID); err != nil || revoked {
		return nil, err
	}
	return &Introspection{
		Active:    true,
		Scope:     joinScope(rec.Scopes),
		ClientID:  rec.ClientID,
		ExpiresAt: rec.ExpiresAt.Unix(),
		Subject:   g.Subject,
		Audience:  rec.Resource,
		Issuer:    p.cfg.BaseURL,
	}, nil
}

// authenticateIntrospector authenticates the caller (RFC 7662 §2.1): a
// resource server by IntrospectionCredentials, compared in constant time,
// or a confidential client as at the token endpoint (S03).
func (p *Proxy) authenticateIntrospector(ctx context.Context, cred ClientCredentials) (*introspector, *Error) {
	fail := func(desc string) *Error {
		e := newError(ErrCodeInvalidClient, desc)
		e.BasicAuth = cred.Method == AuthMethodClientSecretBasic
		return e
	}
	if want, ok := p.cfg.introspectionSecrets[cred.ClientID]; ok {
		got := sha256.Sum256([]byte(cred.ClientSecret))
		if cred.Method == AuthMethodNone || subtle.ConstantTimeCompare(got[:], want[:]) != 1 {
			return nil, fail("client authentication failed")
		}
		return &introspector{clientID: cred.ClientID, resourceServer: true}, nil
	}
	rec, oerr := p.authenticateClient(ctx, cred)
	if oerr != nil {
		return nil, oerr
	}
	if rec.TokenEndpointAuthMethod == AuthMethodNone {
		// A public client has no credentials to prove who asks.
		return nil, fail("public clients cannot use token introspection")
	}
	return &introspector{clientID: rec.ClientID}, nil
}

// introspectionDefaults checks IntrospectionCredentials and keeps only the
// secrets' SHA-256, so the comparison takes the same time whatever the
// length of what a caller sends.
func (s *settings) introspectionDefaults() error {
	var errs []error
	s.introspectionSecrets = make(map[string][sha256.Size]byte, len(s.IntrospectionCredentials))
	for id, secret := range s.IntrospectionCredentials {
		switch {
		case id == "" || strings.ContainsFunc(id, func(r rune) bool { return r <= ' ' || r == 0x7f }):
			errs = append(errs, errors.New("IntrospectionCredentials: an id is empty or has spaces or control characters"))
		case len(secret) < minIntrospectionSecret:
			// The id is configuration, not a secret: it may be named.
			errs = append(errs, fmt.Errorf("IntrospectionCredentials[%q]: the secret must be at least %d bytes", id, minIntrospectionSecret))
		default:
			s.introspectionSecrets[id] = sha256.Sum256([]byte(secret))
		}
	}
	return errors.Join(errs...)
}

// serveIntrospect is POST /oauth/introspect (RFC 7662 §2).
func (p *Proxy) serveIntrospect(w http.ResponseWriter, r *http.Request) {
	form, cred, ok := p.readClientForm(w, r)
	if !ok {
		return
	}
	in, err := p.IntrospectToken(p.requestContext(r), &IntrospectionRequest{
		Token:         form.Get("token"),
		TokenTypeHint: form.Get("token_type_hint"),
		Client:        cred,
	})
	if err != nil {
		p.writeError(w, r, err)
		return
	}
	httpx.WriteJSON(w, http.StatusOK, in)
}
