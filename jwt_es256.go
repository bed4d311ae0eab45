package oauthproxy

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"encoding/asn1"
	"errors"
	"fmt"
	"hash/maphash"
	"math/big"
	"strings"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// asymmetricAlg is the algorithm of AccessTokenSigningKeys: ECDSA on P-256
// with SHA-256 (RFC 7518 §3.4). It is what every JOSE library and
// authorization server supports (RFC 7518 marks it Recommended+), so any
// resource server can check the proxy's tokens; EdDSA is faster but still
// missing from some verifiers. Like HS256 it is pinned: a proxy with this
// ring accepts nothing else (RFC 8725 §3.1).
const asymmetricAlg = "ES256"

// es256SigLen is the length of an ES256 signature: R and S, 32 bytes each,
// big-endian (RFC 7518 §3.4), not the ASN.1 a crypto.Signer returns.
const es256SigLen = 64

// es256Signer issues and verifies access tokens signed with the ES256 key
// ring: the first key signs, any key verifies, chosen by the header's kid.
// The signature is verified with golang-jwt; the claims set is the one the
// HS256 signer writes and reads (appendClaimsSet, payloadClaims), so both
// kinds of token mean the same.
type es256Signer struct {
	signing  *es256Key
	keys     []*es256Key // ring order, for the JWKS
	byKID    map[string]*es256Key
	byHeader map[string]*es256Key // encoded header segment → key
	issuer   string
	now      func() time.Time
	// verified remembers the claims of tokens whose signature checked out,
	// keyed by the whole token: ECDSA verification costs ~100 times an HMAC,
	// and a session sends the same token with every request. Only the exact
	// bytes of a verified token hit it; the time checks run on every call.
	verified *claimsCache
}

// es256Key is one key of the ring.
type es256Key struct {
	kid    string
	header string // base64url of {"alg":"ES256","kid":…,"typ":"at+jwt"}
	signer crypto.Signer
	public *ecdsa.PublicKey
	jwk    JSONWebKey
}

// newES256Signer builds the signer for keys, which checkAccessTokenSigningKeys
// has accepted.
func newES256Signer(keys []crypto.Signer, issuer string, now func() time.Time) *es256Signer {
	t := &es256Signer{
		byKID:    make(map[string]*es256Key, len(keys)),
		byHeader: make(map[string]*es256Key, len(keys)),
		issuer:   issuer,
		now:      now,
		verified: &claimsCache{seed: maphash.MakeSeed()},
	}
	for _, s := range keys {
		pub := s.Public().(*ecdsa.PublicKey)
		jwk := publicJWK(pub)
		k := &es256Key{kid: jwk.KeyID, signer: s, public: pub, jwk: jwk}
		k.header = b64.EncodeToString([]byte(`{"alg":"` + asymmetricAlg + `","kid":"` + k.kid + `","typ":"` + accessTokenType + `"}`))
		t.keys = append(t.keys, k)
		t.byKID[k.kid] = k
		t.byHeader[k.header] = k
	}
	t.signing = t.keys[0]
	return t
}

// checkAccessTokenSigningKeys accepts a ring of P-256 ECDSA signers without
// repeats.
func checkAccessTokenSigningKeys(keys []crypto.Signer) error {
	seen := map[string]bool{}
	for i, s := range keys {
		if s == nil {
			return fmt.Errorf("AccessTokenSigningKeys[%d] is nil", i)
		}
		pub, ok := s.Public().(*ecdsa.PublicKey)
		if !ok || pub.Curve != elliptic.P256() {
			return fmt.Errorf("AccessTokenSigningKeys[%d] must be an ECDSA P-256 key (ES256), got %T", i, s.Public())
		}
		kid := publicJWK(pub).KeyID
		if seen[kid] {
			return fmt.Errorf("AccessTokenSigningKeys[%d] repeats a key already in the ring", i)
		}
		seen[kid] = true
	}
	return nil
}

// issue signs an access token for c, valid for ttl.
func (t *es256Signer) issue(c *Claims, ttl time.Duration) (string, time.Time, error) {
	now := t.now().Truncate(time.Second)
	exp := now.Add(ttl)
	payload, err := appendClaimsSet(nil, t.issuer, c, now, exp)
	if err != nil {
		return "", time.Time{}, err
	}
	k := t.signing
	input := k.header + "." + b64.EncodeToString(payload)
	sig, err := k.sign(input)
	if err != nil {
		return "", time.Time{}, fmt.Errorf("oauthproxy: signing access token: %w", err)
	}
	return input + "." + b64.EncodeToString(sig), exp, nil
}

// sign returns the ES256 signature of input (RFC 7518 §3.4): the signer's
// ASN.1 DER signature rewritten as R || S, so a KMS or HSM key works too.
func (k *es256Key) sign(input string) ([]byte, error) {
	digest := sha256.Sum256([]byte(input))
	der, err := k.signer.Sign(rand.Reader, digest[:], crypto.SHA256)
	if err != nil {
		return nil, err
	}
	var rs struct{ R, S *big.Int }
	if rest, err := asn1.Unmarshal(der, &rs); err != nil || len(rest) > 0 {
		return nil, errors.New("the signer returned a malformed ECDSA signature")
	}
	if rs.R.Sign() <= 0 || rs.S.Sign() <= 0 || rs.R.BitLen() > 256 || rs.S.BitLen() > 256 {
		return nil, errors.New("the signer returned an out-of-range ECDSA signature")
	}
	sig := make([]byte, es256SigLen)
	rs.R.FillBytes(sig[:32])
	rs.S.FillBytes(sig[32:])
	return sig, nil
}

// verify checks signature, algorithm, type, issuer, audience and expiry, and
// returns the claims. Errors wrap ErrInvalidToken or ErrTokenExpired.
func (t *es256Signer) verify(raw, audience string) (*Claims, error) {
	if len(raw) > maxAccessTokenSize {
		return nil, fmt.Errorf("%w: token is too large", ErrInvalidToken)
	}
	header, payload, sig, ok := splitJWT(raw)
	if !ok {
		return nil, fmt.Errorf("%w: not a JWT", ErrInvalidToken)
	}
	k, err := t.keyFor(header)
	if err != nil {
		return nil, err
	}
	slot := t.verified.slot(raw)
	if e := slot.Load(); e != nil && e.segment == raw && e.claims.audience == audience {
		return e.claims.check(t.now())
	}

	// The signature first: nothing in an unauthenticated payload is looked at.
	sigBytes, err := b64.DecodeString(sig)
	if err != nil || len(sigBytes) != es256SigLen {
		return nil, fmt.Errorf("%w: signature is malformed", ErrInvalidToken)
	}
	if err := jwt.SigningMethodES256.Verify(raw[:len(header)+1+len(payload)], sigBytes, k.public); err != nil {
		return nil, fmt.Errorf("%w: signature is invalid", ErrInvalidToken)
	}
	body, err := b64.DecodeString(payload)
	if err != nil {
		return nil, fmt.Errorf("%w: payload is not base64url", ErrInvalidToken)
	}
	pc := &payloadClaims{issuer: t.issuer, audience: audience}
	if err := pc.decode(string(body)); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrInvalidToken, err)
	}
	if pc.scalarExtras {
		slot.Store(&cachedClaims{segment: strings.Clone(raw), claims: pc})
	}
	return pc.check(t.now())
}

// keyFor picks the verification key for a token's header segment: the header
// must say ES256 (RFC 8725 §3.1), typ at+jwt (RFC 9068 §4), no critical
// extensions (RFC 7515 §4.1.11), and name a key of the ring by kid.
func (t *es256Signer) keyFor(seg string) (*es256Key, error) {
	if k, ok := t.byHeader[seg]; ok {
		return k, nil
	}
	kid, err := headerKeyID(seg, asymmetricAlg)
	if err != nil {
		return nil, err
	}
	k, ok := t.byKID[kid]
	if !ok {
		return nil, fmt.Errorf("%w: unknown key id", ErrInvalidToken)
	}
	return k, nil
}

// splitJWT splits a JWS compact serialization into its three segments (RFC
// 7515 §7.1).
func splitJWT(raw string) (header, payload, sig string, ok bool) {
	header, rest, ok1 := strings.Cut(raw, ".")
	payload, sig, ok2 := strings.Cut(rest, ".")
	if !ok1 || !ok2 || strings.IndexByte(sig, '.') >= 0 {
		return "", "", "", false
	}
	return header, payload, sig, true
}
