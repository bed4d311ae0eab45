package oauthproxy

import (
	"crypto/ecdsa"
	"crypto/sha256"
	"net/http"
	"strconv"
	"time"

	"github.com/oauthproxy-go/oauthproxy/internal/httpx"
)

// jwksPath is where the public keys of AccessTokenSigningKeys are served,
// under BaseURL's path.
const jwksPath = "/.well-known/jwks.json"

// JWKSMaxAge is how long a verifier may cache the JWKS (Cache-Control
// max-age). A key removed from AccessTokenSigningKeys can be trusted by a
// cache that long; a key added is fetched at once by verifiers that refetch
// on an unknown kid, as tokenverify does.
const JWKSMaxAge = 10 * time.Minute

// JSONWebKeySet is the RFC 7517 §5 document served at /.well-known/jwks.json.
type JSONWebKeySet struct {
	Keys []JSONWebKey `json:"keys"`
}

// JSONWebKey is one public EC key (RFC 7517 §4, RFC 7518 §6.2.1).
type JSONWebKey struct {
	KeyType   string `json:"kty"`           // "EC"
	Curve     string `json:"crv"`           // "P-256"
	X         string `json:"x"`             // base64url, 32 bytes
	Y         string `json:"y"`             // base64url, 32 bytes
	KeyID     string `json:"kid"`           // the RFC 7638 thumbprint
	Use       string `json:"use,omitempty"` // "sig"
	Algorithm string `json:"alg,omitempty"` // "ES256"
}

// publicJWK describes pub as a JWK whose kid is its RFC 7638 thumbprint: the
// same on every replica, with nothing to configure.
func publicJWK(pub *ecdsa.PublicKey) JSONWebKey {
	k, err := pub.ECDH()
	if err != nil {
		panic("oauthproxy: a P-256 public key without an ECDH form: " + err.Error())
	}
	point := k.Bytes() // 0x04 || X || Y (SEC 1 §2.3.3)
	x, y := b64.EncodeToString(point[1:33]), b64.EncodeToString(point[33:65])
	// RFC 7638 §3.2: the required members, in lexicographic order, no spaces.
	sum := sha256.Sum256([]byte(`{"crv":"P-256","kty":"EC","x":"` + x + `","y":"` + y + `"}`))
	return JSONWebKey{KeyType: "EC", Curve: "P-256", X: x, Y: y, KeyID: b64.EncodeToString(sum[:]), Use: "sig", Algorithm: asymmetricAlg}
}

// jwksURI is the JWKS address for the metadata, "" with HS256 tokens.
func (p *Proxy) jwksURI() string {
	if _, ok := p.tokens.(*es256Signer); !ok {
		return ""
	}
	return p.cfg.BaseURL + jwksPath
}

// GetJSONWebKeySet returns the public keys that verify the proxy's access
// tokens, in ring order, or nil when tokens are HS256 (no
// AccessTokenSigningKeys): a shared secret is never published.
func (p *Proxy) GetJSONWebKeySet() *JSONWebKeySet {
	es, ok := p.tokens.(*es256Signer)
	if !ok {
		return nil
	}
	set := &JSONWebKeySet{Keys: make([]JSONWebKey, 0, len(es.keys))}
	for _, k := range es.keys {
		set.Keys = append(set.Keys, k.jwk)
	}
	return set
}

// serveJWKS is GET /.well-known/jwks.json. The keys change only when the
// proxy restarts with another ring, so caches may keep them for JWKSMaxAge.
func (p *Proxy) serveJWKS(w http.ResponseWriter, r *http.Request) {
	set := p.GetJSONWebKeySet()
	if set == nil {
		http.NotFound(w, r)
		return
	}
	w.Header().Set("Cache-Control", "public, max-age="+strconv.Itoa(int(JWKSMaxAge/time.Second)))
	httpx.WriteJSON(w, http.StatusOK, set)
}
