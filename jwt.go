package oauthproxy

import (
	"crypto/hmac"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"hash"
	"hash/maphash"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
	"unsafe"

	opcrypto "github.com/oauthproxy-go/oauthproxy/crypto"
)

// accessTokenType is the JWT "typ" header of the proxy's access tokens
// (RFC 9068 §2.1). It is the type marker that keeps an access token from being
// accepted anywhere else (RFC 8725 §3.11).
const accessTokenType = "at+jwt"

// signingAlg is pinned: verification accepts nothing else, so neither "none"
// nor an RS/HS confusion can get through (RFC 8725 §3.1).
const signingAlg = "HS256"

// maxAccessTokenSize bounds what verify will decode. The proxy's own tokens
// stay far below it (identity claims are capped at 4 KiB).
const maxAccessTokenSize = 16 << 10

// reservedClaims can never be set by a ClaimsExtractor: they carry the token's
// meaning (RFC 9068 §2.2) and the proxy alone decides them.
var reservedClaims = map[string]bool{
	"iss": true, "aud": true, "exp": true, "iat": true, "nbf": true, "jti": true,
	"sub": true, "scope": true, "client_id": true, "typ": true, "gid": true,
	"auth_time": true, "acr": true, "amr": true, "cnf": true, "azp": true,
}

// Claims describe the caller of a protected request: what the proxy's access
// token says (RFC 9068 §2.2). RequireBearer puts them in the request context.
type Claims struct {
	Subject   string         // upstream user id
	ClientID  string         // the MCP client the token was issued to
	Scopes    []string       // granted scopes
	Audience  string         // the protected resource (RFC 8707)
	ExpiresAt time.Time      // expiry
	IssuedAt  time.Time      // issue time
	TokenID   string         // jti
	GrantID   string         // the grant the token belongs to
	Extra     map[string]any // identity claims from the ClaimsExtractor (email, name …)

	// extraJSON, when set, stands for Extra in a token being issued: a
	// grant's identity claims as encodeIdentityClaims stored them.
	extraJSON []byte

	// passThrough is, in pass-through mode only, the bearer token itself:
	// the upstream's access token, for UpstreamTokenSource.
	passThrough *upstreamBearer
}

// tokenSigner issues and verifies the proxy's access-token JWTs (RFC 9068) with
// a key ring: the first key signs, any key verifies, chosen by the header's
// kid. Every request passes verify, so it is written for that: the keyed HMAC
// state is computed once per key and pooled, the header of a token this proxy
// issued is recognised by its exact bytes, and the fixed claim set is decoded
// by hand instead of through reflection.
type tokenSigner struct {
	signing *signingKey
	byKID   map[string]*signingKey // kid → key
	// byHeader maps the encoded header segment each key's tokens carry to the
	// key, so the usual token needs no header decoding at all.
	byHeader map[string]*signingKey
	issuer   string
	now      func() time.Time
	cache    *claimsCache // payloads already decoded
}

// signingKey is one HS256 key of the ring.
type signingKey struct {
	kid    string
	header string // base64url of {"alg":"HS256","kid":…,"typ":"at+jwt"}
	macs   sync.Pool
}

// macState is a keyed HMAC and the scratch space of one issue or verify.
type macState struct {
	mac     hash.Hash
	input   []byte // the signing input (RFC 7515 §5.1) or the payload being built
	payload []byte // the decoded payload
	sum     [sha256.Size]byte
	want    [sigLen]byte // the expected signature segment
}

var b64 = base64.RawURLEncoding

// sigLen is the length of an HS256 signature segment: 32 bytes, base64url
// without padding.
const sigLen = (sha256.Size*8 + 5) / 6

func newTokenSigner(ring [][]byte, issuer string, now func() time.Time) *tokenSigner {
	t := &tokenSigner{
		byKID:    make(map[string]*signingKey, len(ring)),
		byHeader: make(map[string]*signingKey, len(ring)),
		issuer:   issuer,
		now:      now,
		cache:    &claimsCache{seed: maphash.MakeSeed()},
	}
	for i, key := range ring {
		key := slices.Clone(key)
		k := &signingKey{kid: opcrypto.KeyID(key)}
		// The same bytes golang-jwt wrote for these tokens (sorted keys), so
		// tokens issued before this code also take the fast path.
		k.header = b64.EncodeToString([]byte(`{"alg":"` + signingAlg + `","kid":"` + k.kid + `","typ":"` + accessTokenType + `"}`))
		k.macs.New = func() any { return &macState{mac: hmac.New(sha256.New, key)} }
		t.byKID[k.kid] = k
		t.byHeader[k.header] = k
		if i == 0 {
			t.signing = k
		}
	}
	return t
}

func (k *signingKey) state() *macState { return k.macs.Get().(*macState) }

func (k *signingKey) release(s *macState) {
	if cap(s.input) > maxAccessTokenSize || cap(s.payload) > maxAccessTokenSize {
		return // an outsized request: let the buffers go
	}
	k.macs.Put(s)
}

// sign writes the signature segment of input into s.want.
func (s *macState) sign(input []byte) []byte {
	s.mac.Reset()
	s.mac.Write(input)
	b64.Encode(s.want[:], s.mac.Sum(s.sum[:0]))
	return s.want[:]
}

// issue signs an access token for c, valid for ttl.
func (t *tokenSigner) issue(c *Claims, ttl time.Duration) (string, time.Time, error) {
	now := t.now().Truncate(time.Second)
	exp := now.Add(ttl)
	k := t.signing
	s := k.state()
	defer k.release(s)

	p, err := appendClaimsSet(s.input[:0], t.issuer, c, now, exp)
	s.input = p
	if err != nil {
		return "", time.Time{}, err
	}

	// header.payload.signature (RFC 7515 §7.1)
	payloadLen := b64.EncodedLen(len(p))
	out := make([]byte, len(k.header)+1+payloadLen+1+sigLen)
	n := copy(out, k.header)
	out[n] = '.'
	b64.Encode(out[n+1:], p)
	n += 1 + payloadLen
	copy(out[n+1:], s.sign(out[:n]))
	out[n] = '.'
	// out is new and never written again: the token can be a view of it
	// rather than a second copy (as strings.Builder does).
	return unsafe.String(&out[0], len(out)), exp, nil
}

// appendClaimsSet appends the JWT claims set (RFC 9068 §2.2) of an access
// token for c, issued by issuer at now and expiring at exp, to p. Both token
// signers write it, so HS256 and ES256 tokens say the same things.
func appendClaimsSet(p []byte, issuer string, c *Claims, now, exp time.Time) ([]byte, error) {
	p = append(p, `{"iss":`...)
	p = appendJSONString(p, issuer)
	p = append(p, `,"aud":`...)
	p = appendJSONString(p, c.Audience)
	if c.Subject != "" {
		p = append(p, `,"sub":`...)
		p = appendJSONString(p, c.Subject)
	}
	p = append(p, `,"client_id":`...)
	p = appendJSONString(p, c.ClientID)
	if len(c.Scopes) > 0 {
		p = append(p, `,"scope":`...)
		p = appendJSONString(p, joinScope(c.Scopes))
	}
	p = append(p, `,"iat":`...)
	p = strconv.AppendInt(p, now.Unix(), 10)
	p = append(p, `,"exp":`...)
	p = strconv.AppendInt(p, exp.Unix(), 10)
	p = append(p, `,"jti":`...)
	p = appendJSONString(p, c.TokenID)
	p = append(p, `,"gid":`...)
	p = appendJSONString(p, c.GrantID)
	if c.extraJSON != nil {
		// A grant's identity claims, encoded once when the grant was made
		// (encodeIdentityClaims): the members of a JSON object, spliced in.
		members, ok := objectMembers(c.extraJSON)
		if !ok {
			return p, errors.New("oauthproxy: signing access token: stored identity claims are not a JSON object")
		}
		if len(members) > 0 {
			p = append(p, ',')
			p = append(p, members...)
		}
		return append(p, '}'), nil
	}
	p, err := appendExtraClaims(p, c.Extra)
	if err != nil {
		return p, fmt.Errorf("oauthproxy: signing access token: %w", err)
	}
	return append(p, '}'), nil
}

// verify checks signature, algorithm, type, issuer, audience and expiry, and
// returns the claims. Errors wrap ErrInvalidToken or ErrTokenExpired.
func (t *tokenSigner) verify(raw, audience string) (*Claims, error) {
	if len(raw) > maxAccessTokenSize {
		return nil, fmt.Errorf("%w: token is too large", ErrInvalidToken)
	}
	// RFC 7515 §7.1: exactly three segments.
	dot1 := strings.IndexByte(raw, '.')
	if dot1 < 0 {
		return nil, fmt.Errorf("%w: not a JWT", ErrInvalidToken)
	}
	dot2 := strings.IndexByte(raw[dot1+1:], '.')
	if dot2 < 0 {
		return nil, fmt.Errorf("%w: not a JWT", ErrInvalidToken)
	}
	dot2 += dot1 + 1
	if strings.IndexByte(raw[dot2+1:], '.') >= 0 {
		return nil, fmt.Errorf("%w: not a JWT", ErrInvalidToken)
	}

	k, err := t.keyFor(raw[:dot1])
	if err != nil {
		return nil, err
	}
	s := k.state()
	defer k.release(s)

	// The signature first: nothing in an unauthenticated payload is looked at.
	s.input = append(s.input[:0], raw[:dot2]...)
	want := s.sign(s.input)
	sig := raw[dot2+1:]
	if len(sig) != sigLen {
		return nil, fmt.Errorf("%w: signature is malformed", ErrInvalidToken)
	}
	got := s.input[:0] // reuse: the signing input is no longer needed
	got = append(got, sig...)
	if subtle.ConstantTimeCompare(got, want) != 1 {
		return nil, fmt.Errorf("%w: signature is invalid", ErrInvalidToken)
	}

	// A session sends the same token with every request: its payload was
	// decoded before. Only the claims of a genuine token get here, and the
	// time checks run on every call.
	seg := raw[dot1+1 : dot2]
	slot := t.cache.slot(seg)
	if e := slot.Load(); e != nil && e.segment == seg && e.claims.audience == audience {
		return e.claims.check(t.now())
	}
	s.input = append(s.input[:0], seg...)
	if cap(s.payload) < b64.DecodedLen(len(s.input)) {
		s.payload = make([]byte, b64.DecodedLen(len(s.input)))
	}
	n, err := b64.Decode(s.payload[:cap(s.payload)], s.input)
	if err != nil {
		return nil, fmt.Errorf("%w: payload is not base64url", ErrInvalidToken)
	}
	pc := &payloadClaims{issuer: t.issuer, audience: audience}
	if err := pc.decode(string(s.payload[:n])); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrInvalidToken, err)
	}
	if pc.scalarExtras {
		slot.Store(&cachedClaims{segment: strings.Clone(seg), claims: pc})
	}
	return pc.check(t.now())
}

// keyFor picks the verification key for a token's header segment: the header
// must say HS256 (RFC 8725 §3.1), typ at+jwt (RFC 9068 §4) and name a key of
// the ring by kid.
func (t *tokenSigner) keyFor(seg string) (*signingKey, error) {
	if k, ok := t.byHeader[seg]; ok {
		return k, nil
	}
	// Not byte-for-byte a header this proxy writes: decode it and look.
	kid, err := headerKeyID(seg, signingAlg)
	if err != nil {
		return nil, err
	}
	k, ok := t.byKID[kid]
	if !ok {
		return nil, fmt.Errorf("%w: unknown key id", ErrInvalidToken)
	}
	return k, nil
}

// headerKeyID checks a token's header segment that is not byte-for-byte one
// this proxy writes, and returns its kid: the algorithm must be alg, pinned
// (RFC 8725 §3.1), typ at+jwt (RFC 9068 §4), and no critical extensions,
// which this verifier would have to understand (RFC 7515 §4.1.11).
func headerKeyID(seg, alg string) (string, error) {
	b, err := b64.DecodeString(seg)
	if err != nil {
		return "", fmt.Errorf("%w: header is not base64url", ErrInvalidToken)
	}
	var h map[string]any
	if err := json.Unmarshal(b, &h); err != nil {
		return "", fmt.Errorf("%w: header is not a JSON object", ErrInvalidToken)
	}
	if got, _ := h["alg"].(string); got != alg {
		return "", fmt.Errorf("%w: signing method %q is not allowed", ErrInvalidToken, got)
	}
	if typ, _ := h["typ"].(string); typ != accessTokenType {
		return "", fmt.Errorf("%w: not an access token", ErrInvalidToken)
	}
	if _, ok := h["crit"]; ok {
		return "", fmt.Errorf("%w: critical header extensions are not supported", ErrInvalidToken)
	}
	kid, _ := h["kid"].(string)
	return kid, nil
}

// claimsCache remembers decoded payloads by their base64url segment, so a
// token verified again skips base64 and JSON decoding (never the signature or
// the time checks). Direct-mapped and lossy: a collision replaces the slot.
type claimsCache struct {
	seed  maphash.Seed
	slots [claimsCacheSlots]atomic.Pointer[cachedClaims]
}

// claimsCacheSlots bounds the cache at a few MiB of live tokens.
const claimsCacheSlots = 1 << 11

type cachedClaims struct {
	segment string // the payload segment, as the token carries it
	claims  *payloadClaims
}

func (c *claimsCache) slot(segment string) *atomic.Pointer[cachedClaims] {
	return &c.slots[maphash.String(c.seed, segment)&(claimsCacheSlots-1)]
}
