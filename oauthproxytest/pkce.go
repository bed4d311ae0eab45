package oauthproxytest

import (
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
)

// validPKCEString reports whether v is 43 to 128 characters of the unreserved set
// [A-Za-z0-9-._~], the syntax RFC 7636 §4.1 and §4.2 give the verifier and challenge.
func validPKCEString(v string) bool {
	if len(v) < 43 || len(v) > 128 {
		return false
	}
	for i := 0; i < len(v); i++ {
		c := v[i]
		switch {
		case 'A' <= c && c <= 'Z', 'a' <= c && c <= 'z', '0' <= c && c <= '9':
		case c == '-', c == '.', c == '_', c == '~':
		default:
			return false
		}
	}
	return true
}

// verifyS256 reports whether BASE64URL(SHA256(verifier)) equals challenge (RFC 7636 §4.6).
func verifyS256(verifier, challenge string) bool {
	sum := sha256.Sum256([]byte(verifier))
	got := base64.RawURLEncoding.EncodeToString(sum[:])
	return subtle.ConstantTimeCompare([]byte(got), []byte(challenge)) == 1
}
