package oauthproxy

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"testing"

	"github.com/stretchr/testify/assert"
)

// Storage keys are the namespace and the base64url SHA-256 of the secret
// (S15: secrets are stored by hash), exactly as before issue 16's rewrite:
// keys already in storage must still be found.
func TestSecurity_S15_HashedKeyFormat(t *testing.T) {
	for _, secret := range []string{"", "a", "a refresh token of some length, longer than one block of sha256 ....."} {
		sum := sha256.Sum256([]byte(secret))
		assert.Equal(t, nsRefresh+base64.RawURLEncoding.EncodeToString(sum[:]), hashedKey(nsRefresh, secret))
	}
}

// The consent cookies' HMAC is the same with the pooled MAC as with a fresh
// one, call after call: a binding signed now verifies later (S09), and every
// purpose and part is covered (S08).
func TestSecurity_S09_SignStable(t *testing.T) {
	p := &Proxy{cfg: &settings{Config: Config{ConsentSigningKey: []byte("0123456789abcdef0123456789abcdef")}}}
	fresh := func(purpose string, parts ...string) string {
		m := hmac.New(sha256.New, p.cfg.ConsentSigningKey)
		m.Write([]byte(purpose))
		for _, part := range parts {
			m.Write([]byte(part))
			m.Write([]byte{0})
		}
		return base64.RawURLEncoding.EncodeToString(m.Sum(nil))
	}
	for range 3 {
		assert.Equal(t, fresh(purposeBinding, "txn"), p.sign(purposeBinding, "txn"))
		assert.Equal(t, fresh(purposeCSRF, "txn", "cookie"), p.sign(purposeCSRF, "txn", "cookie"))
		assert.Equal(t, fresh(purposeRemember), p.sign(purposeRemember))
	}
	assert.NotEqual(t, p.sign(purposeCSRF, "txn", "cookie"), p.sign(purposeCSRF, "txncookie"), "parts are delimited")
	assert.True(t, p.verifySigned(p.sign(purposeBinding, "t"), purposeBinding, "t"))
	assert.False(t, p.verifySigned(p.sign(purposeBinding, "t"), purposeCSRF, "t"), "purposes are separate")
}
