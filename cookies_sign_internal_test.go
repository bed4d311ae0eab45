package oauthproxy

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// signReference is sign as it first was: the whole message in one buffer.
// Cookies signed by earlier versions (a remembered consent lives for days)
// must still verify, so the signature must not change.
func signReference(key []byte, purpose string, parts ...string) string {
	msg := []byte(purpose)
	for _, part := range parts {
		msg = append(msg, part...)
		msg = append(msg, 0)
	}
	m := hmac.New(sha256.New, key)
	m.Write(msg)
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil))
}

func TestSign_SameSignatureAsBefore(t *testing.T) {
	key := []byte(strings.Repeat("k", 32))
	p := newInternalTestProxy(t, func(c *Config) { c.ConsentSigningKey = key })
	cases := [][]string{{}, {""}, {"txn-1"}, {"a", "b"}, {"a\x00", "b"}, {"a", "\x00b"}, {strings.Repeat("x", 300), "é"}}
	for _, purpose := range []string{purposeBinding, purposeCSRF, purposeRemember} {
		for _, parts := range cases {
			want := signReference(key, purpose, parts...)
			require.Equal(t, want, p.sign(purpose, parts...), "%q %q", purpose, parts)
			require.True(t, p.verifySigned(want, purpose, parts...))
			tampered := want[:len(want)-1] + map[bool]string{true: "B", false: "A"}[want[len(want)-1] == 'A']
			require.False(t, p.verifySigned(tampered, purpose, parts...))
			require.False(t, p.verifySigned("", purpose, parts...))
		}
	}
}
