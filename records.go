package oauthproxy

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/oauthproxy-go/oauthproxy/internal/bufpool"
	"github.com/oauthproxy-go/oauthproxy/internal/strview"
	"github.com/oauthproxy-go/oauthproxy/internal/upstream"
	"github.com/oauthproxy-go/oauthproxy/storage"

	// Stored records are encoded and decoded on every request; this drop-in
	// encoding/json replacement halves that cost (docs/performance.md).
	"github.com/segmentio/encoding/json"
)

// Storage key namespaces. Values that are secrets in the client's hands (codes,
// refresh tokens, transaction ids, pass-through tokens) are stored under their
// hash, so a read of the store does not yield usable credentials (S15).
const (
	nsClient      = "client:"
	nsTransaction = "txn:"
	nsCode        = "code:"
	nsGrant       = "grant:"
	nsRefresh     = "refresh:"
	nsPassThrough = "pt:"        // pass-through access token → who it was issued to
	nsPTRefresh   = "ptrefresh:" // pass-through refresh token → client binding
)

// clientRecord is a dynamically registered client (RFC 7591 §2).
type clientRecord struct {
	ClientID                string    `json:"client_id"`
	SecretHash              string    `json:"secret_hash,omitempty"`
	ClientName              string    `json:"client_name,omitempty"`
	RedirectURIs            []string  `json:"redirect_uris"`
	TokenEndpointAuthMethod string    `json:"token_endpoint_auth_method"`
	GrantTypes              []string  `json:"grant_types"`
	ResponseTypes           []string  `json:"response_types"`
	Scope                   string    `json:"scope,omitempty"`
	ClientURI               string    `json:"client_uri,omitempty"`
	LogoURI                 string    `json:"logo_uri,omitempty"`
	IssuedAt                time.Time `json:"issued_at"`
	LastUsedAt              time.Time `json:"last_used_at"`
	// MetadataDocument marks a client known from its Client ID Metadata
	// Document (S17) rather than registered.
	MetadataDocument bool `json:"metadata_document,omitempty"`
}

// transaction is one authorization request in flight, from /authorize to the
// upstream callback. Its id is the upstream state parameter.
type transaction struct {
	ClientID         string    `json:"client_id"`
	RedirectURI      string    `json:"redirect_uri"`
	State            string    `json:"state,omitempty"`
	CodeChallenge    string    `json:"code_challenge"`
	Scopes           []string  `json:"scopes,omitempty"`
	Resource         string    `json:"resource"`
	UpstreamVerifier string    `json:"upstream_verifier,omitempty"`
	CreatedAt        time.Time `json:"created_at"`
	// ConsentRememberable says an approval may be remembered for this client
	// and redirect URI (consentRememberable); false fails closed.
	ConsentRememberable bool `json:"consent_rememberable,omitempty"`
}

// codeRecord is the proxy's own authorization code, bound to the client, its
// redirect URI, its PKCE challenge and the resource (S04).
type codeRecord struct {
	ClientID      string    `json:"client_id"`
	RedirectURI   string    `json:"redirect_uri"`
	CodeChallenge string    `json:"code_challenge"`
	Scopes        []string  `json:"scopes,omitempty"`
	Resource      string    `json:"resource"`
	GrantID       string    `json:"grant_id,omitempty"`
	ExpiresAt     time.Time `json:"expires_at"`
	// UpstreamCode is set in ForwardPKCE mode: the upstream code is redeemed at
	// /token with the client's own code_verifier.
	UpstreamCode string `json:"upstream_code,omitempty"`
}

// grant is one user's consent for one client: the unit of state. It holds the
// upstream token set (sealed at rest by the encrypted store); codes and tokens
// point at it, so revoking the grant revokes everything issued from it.
type grant struct {
	ID       string   `json:"id"`
	ClientID string   `json:"client_id"`
	Subject  string   `json:"sub,omitempty"`
	Scopes   []string `json:"scopes,omitempty"`
	Resource string   `json:"resource"`
	// Claims are the identity claims as encodeIdentityClaims wrote them.
	Claims    json.RawMessage `json:"claims,omitempty"`
	Upstream  upstream.Token  `json:"upstream"`
	CreatedAt time.Time       `json:"created_at"`
	// RefreshedAt is when the client last used a refresh token of this
	// grant, ExpiresAt when the grant's storage entry expires, and
	// IndexedUntil when its entries in the admin indexes do (saveGrant).
	RefreshedAt  time.Time `json:"refreshed_at"`
	ExpiresAt    time.Time `json:"expires_at"`
	IndexedUntil time.Time `json:"indexed_until"`
}

// refreshRecord is a proxy refresh token in swap mode, bound to its client (S06).
type refreshRecord struct {
	GrantID   string    `json:"grant_id"`
	ClientID  string    `json:"client_id"`
	Scopes    []string  `json:"scopes,omitempty"`
	Resource  string    `json:"resource"`
	ExpiresAt time.Time `json:"expires_at"`
}

// passThroughRecord remembers an upstream token the proxy handed to a client in
// pass-through mode, so the bearer check accepts only tokens it issued.
type passThroughRecord struct {
	GrantID   string          `json:"grant_id"`
	ClientID  string          `json:"client_id"`
	Subject   string          `json:"sub,omitempty"`
	Scopes    []string        `json:"scopes,omitempty"`
	Resource  string          `json:"resource"`
	Claims    json.RawMessage `json:"claims,omitempty"` // as in grant
	ExpiresAt time.Time       `json:"expires_at"`
}

// randomToken returns 256 bits from crypto/rand, base64url without padding
// (OAuth 2.1 §7.5.1 / RFC 6749 §10.10: codes and tokens must be unguessable).
func randomToken() string {
	b := make([]byte, 32)
	// crypto/rand.Read never returns an error on supported platforms (Go 1.24+).
	_, _ = rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

// hashedKey names a secret's storage slot by its SHA-256. The secrets are 256-bit
// random values, so a fast hash is enough; no salt or stretching is needed.
func hashedKey(namespace, secret string) string {
	sum := sha256.Sum256(strview.Bytes(secret))
	var enc [43]byte // base64url of 32 bytes, unpadded
	base64.RawURLEncoding.Encode(enc[:], sum[:])
	var b strings.Builder // one allocation, not two: a sign-in makes ~20 keys (issue 16)
	b.Grow(len(namespace) + len(enc))
	b.WriteString(namespace)
	b.Write(enc[:])
	return b.String()
}

// putJSON stores v under key for ttl.
func (p *Proxy) putJSON(ctx context.Context, key string, v any, ttl time.Duration) error {
	// The encrypting store seals the encoding into new bytes and keeps
	// none of it, so it is encoded into a reused buffer (issue 16).
	buf := recordBufs.Get()
	defer recordBufs.Put(buf)
	b, err := appendRecord(*buf, v) // records_codec.go
	*buf = b
	if err != nil {
		return fmt.Errorf("oauthproxy: encoding %T: %w", v, err)
	}
	if !p.sealsRecords {
		b = bytes.Clone(b) // the store may keep the bytes it is given: they must be its own
	}
	if err := p.store.Save(ctx, key, b, ttl); err != nil {
		return fmt.Errorf("oauthproxy: saving %T: %w", v, err)
	}
	return nil
}

// recordBufs are putJSON's encoding buffers; one grown past 16 KiB (a record
// far above the usual 0.5–3 KiB) is left to the GC.
var recordBufs = bufpool.New(16 << 10)

// getJSON loads key into v; errors.Is(err, storage.ErrNotFound) on a miss.
func (p *Proxy) getJSON(ctx context.Context, key string, v any) error {
	if s, ok := p.store.(viewer); ok {
		// Decoding copies what it keeps (strings, raw claims), so the
		// plaintext can live in a reused buffer (issue 16).
		return s.View(ctx, key, func(b []byte) error { return decodeRecord(b, v) })
	}
	b, err := p.store.Get(ctx, key)
	if err != nil {
		return err
	}
	return decodeRecord(b, v)
}

// viewer is storage.Encrypted's View.
type viewer interface {
	View(ctx context.Context, key string, fn func(value []byte) error) error
}

// consume takes key out of storage for its single use, not opening what the
// caller has just read and checked (storage.Encrypted.Consume).
func (p *Proxy) consume(ctx context.Context, key string) error {
	if s, ok := p.store.(consumer); ok {
		return s.Consume(ctx, key)
	}
	_, err := p.store.Take(ctx, key)
	return err
}

// consumer is storage.Encrypted's Consume.
type consumer interface {
	Consume(ctx context.Context, key string) error
}

// takeJSON atomically removes key and decodes it into v.
func (p *Proxy) takeJSON(ctx context.Context, key string, v any) error {
	b, err := p.store.Take(ctx, key)
	if err != nil {
		return err
	}
	return decodeRecord(b, v)
}

func decodeRecord(b []byte, v any) error {
	if decodeFast(b, v) { // records_codec.go; segmentio reads whatever it does not
		return nil
	}
	if err := json.Unmarshal(b, v); err != nil {
		return fmt.Errorf("oauthproxy: decoding %T: %w", v, err)
	}
	return nil
}

// storageError maps a storage failure to the wire: a miss becomes the caller's
// notFound error, anything else is a dependency failure the client may retry.
func storageError(err error, notFound *Error) *Error {
	if errors.Is(err, storage.ErrNotFound) {
		return notFound
	}
	if errors.Is(err, storage.ErrCorrupt) {
		return errServer(err)
	}
	return errUnavailable("storage is unavailable, try again", err)
}

// restoreTimeout bounds a write that puts back what a failed request took,
// which runs even after the request's own context has ended.
const restoreTimeout = 5 * time.Second

// remaining is the time left until t, at least one second so a restored
// record does not vanish on the spot.
func (p *Proxy) remaining(t time.Time) time.Duration {
	d := t.Sub(p.cfg.Now())
	if d < time.Second {
		return time.Second
	}
	return d
}
