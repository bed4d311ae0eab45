// Package pkce implements the S256 method of Proof Key for Code Exchange
// (RFC 7636), the only one the proxy accepts (OAuth 2.1 §4.1.1).
package pkce

import (
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"

	"github.com/oauthproxy-go/oauthproxy/internal/strview"
)

// MethodS256 is the only code_challenge_method the proxy supports.
const MethodS256 = "S256"

// GenerateVerifier returns a 43-character verifier carrying 256 bits from
// crypto/rand (RFC 7636 §4.1).
func GenerateVerifier() string {
	b := make([]byte, 32)
	_, _ = rand.Read(b) // never fails on supported platforms (Go 1.24+)
	return base64.RawURLEncoding.EncodeToString(b)
}

// Challenge derives the S256 code_challenge of verifier (RFC 7636 §4.2).
func Challenge(verifier string) string {
	sum := sha256.Sum256(strview.Bytes(verifier))
	return base64.RawURLEncoding.EncodeToString(sum[:])
}

// ValidVerifier reports whether v has the RFC 7636 §4.1 form:
// 43 to 128 characters from [A-Z] / [a-z] / [0-9] / "-" / "." / "_" / "~".
func ValidVerifier(v string) bool {
	return len(v) >= 43 && len(v) <= 128 && unreserved(v)
}

// ValidChallenge reports whether c can be an S256 challenge: the unpadded
// base64url encoding of a SHA-256 digest is exactly 43 characters (RFC 7636
// §4.2), and its last character carries two zero bits, so only one spelling
// of each digest passes.
func ValidChallenge(c string) bool {
	if len(c) != 43 {
		return false
	}
	_, err := base64.RawURLEncoding.Strict().DecodeString(c)
	return err == nil
}

// Verify reports whether verifier matches challenge, in constant time
// (RFC 7636 §4.6; SECURITY.md S02).
func Verify(verifier, challenge string) bool {
	if !ValidVerifier(verifier) {
		return false
	}
	return subtle.ConstantTimeCompare([]byte(Challenge(verifier)), []byte(challenge)) == 1
}

func unreserved(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c >= 'A' && c <= 'Z', c >= 'a' && c <= 'z', c >= '0' && c <= '9',
			c == '-', c == '.', c == '_', c == '~':
		default:
			return false
		}
	}
	return true
}
