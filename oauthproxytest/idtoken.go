package oauthproxytest

import (
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"math/big"
	"net/http"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// signingKey returns the server's RSA key and its key id, generating them on first
// use so servers that never sign pay nothing.
func (s *Server) signingKey() (*rsa.PrivateKey, string) {
	s.keyOnce.Do(func() {
		key, err := rsa.GenerateKey(rand.Reader, 2048)
		if err != nil {
			panic("oauthproxytest: generating RSA key: " + err.Error())
		}
		s.key, s.keyID = key, thumbprint(&key.PublicKey)
	})
	return s.key, s.keyID
}

// thumbprint is the RFC 7638 JWK thumbprint of an RSA public key, used as kid.
func thumbprint(pub *rsa.PublicKey) string {
	n, e := rsaJWKParams(pub)
	// RFC 7638 §3.2: required members only, sorted, no whitespace.
	sum := sha256.Sum256([]byte(`{"e":"` + e + `","kty":"RSA","n":"` + n + `"}`))
	return base64.RawURLEncoding.EncodeToString(sum[:])
}

// rsaJWKParams encodes the modulus and exponent as RFC 7518 §6.3.1 requires.
func rsaJWKParams(pub *rsa.PublicKey) (n, e string) {
	enc := base64.RawURLEncoding
	return enc.EncodeToString(pub.N.Bytes()), enc.EncodeToString(big.NewInt(int64(pub.E)).Bytes())
}

// signIDToken makes the RS256 id_token of OpenID Connect Core §2 for g.
func (s *Server) signIDToken(g *grant, nonce string, now time.Time) string {
	key, kid := s.signingKey()
	claims := jwt.MapClaims{
		"iss":                s.idTokenIssuer(),
		"sub":                g.user.Subject,
		"aud":                s.opts.ClientID,
		"iat":                now.Unix(),
		"exp":                now.Add(s.opts.AccessTokenTTL).Unix(),
		"auth_time":          g.authTime.Unix(),
		"name":               g.user.Name,
		"email":              g.user.Email,
		"email_verified":     g.user.Email != "",
		"preferred_username": g.user.Login,
	}
	if nonce != "" {
		claims["nonce"] = nonce
	}
	s.addQuirkClaims(claims, g.user)
	if s.opts.ForgeIDTokenSignature {
		key = s.forgerKey()
	}
	return sign(claims, key, kid)
}

// sign makes an RS256 JWT of claims with key, naming kid in its header.
func sign(claims jwt.MapClaims, key *rsa.PrivateKey, kid string) string {
	tok := jwt.NewWithClaims(jwt.SigningMethodRS256, claims)
	tok.Header["kid"] = kid
	signed, err := tok.SignedString(key)
	if err != nil {
		panic("oauthproxytest: signing id_token: " + err.Error())
	}
	return signed
}

// handleJWKS publishes the public signing key as a JWK Set (RFC 7517 §5).
func (s *Server) handleJWKS(w http.ResponseWriter, _ *http.Request) {
	key, kid := s.signingKey()
	n, e := rsaJWKParams(&key.PublicKey)
	b, _ := json.Marshal(map[string]any{"keys": []map[string]string{{
		"kty": "RSA", "use": "sig", "alg": "RS256", "kid": kid, "n": n, "e": e,
	}}})
	w.Header().Set("Content-Type", "application/json")
	_, _ = w.Write(b)
}
