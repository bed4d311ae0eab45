package oauthproxytest

import (
	"crypto/rand"
	"encoding/base64"
)

// randomToken returns 256 random bits, base64url-encoded without padding, for codes,
// tokens and login ids. crypto/rand.Read never fails; it crashes the program instead.
func randomToken() string {
	b := make([]byte, 32)
	_, _ = rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}
