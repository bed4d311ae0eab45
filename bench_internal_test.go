package oauthproxy

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/oauthproxy-go/oauthproxy/internal/loadtest"
)

// BenchmarkJWT times the access token alone, beside a bare HMAC-SHA256 of the
// same bytes: issue (what every token response pays), verify with a warm
// payload cache (the same token again, as a session sends it) and cold.
// BenchmarkBearer adds the HTTP plumbing and the revocation lookup.
func BenchmarkJWT(b *testing.B) {
	key := []byte("bench-jwt-signing-key-0123456789")
	const issuer, audience = "http://127.0.0.1:8080", "http://127.0.0.1:8080/mcp"
	ts := newTokenSigner([][]byte{key}, issuer, time.Now)
	claims := &Claims{
		Subject:  "110169484474386276334",
		ClientID: "6f1c2a9e-8d4b-4f7a-9c3e-2b5d7e9f1a3c",
		Scopes:   []string{"openid", "email", "profile"},
		Audience: audience,
		TokenID:  "0d7c5a4e-3b2f-4e1d-9a8b-7c6d5e4f3a2b",
		GrantID:  "9e8d7c6b-5a4f-4e3d-8c2b-1a0f9e8d7c6b",
		Extra: map[string]any{ // what DefaultPassthroughClaims keep of a Google sign-in
			"email": "alice@example.com", "email_verified": true, "name": "Alice Example",
			"preferred_username": "alice", "given_name": "Alice", "family_name": "Example",
			"picture": "https://lh3.googleusercontent.com/a/ACg8ocJ0123456789abcdefghijklmnopqrstuvwxyz=s96-c",
			"locale":  "en",
		},
	}
	token, _, err := ts.issue(claims, time.Hour)
	if err != nil {
		b.Fatal(err)
	}
	input := []byte(token[:strings.LastIndexByte(token, '.')])
	var sink []byte
	hmacFloor := func(b *testing.B) {
		loadtest.Measure(b, nil, func() {
			m := hmac.New(sha256.New, key)
			m.Write(input)
			sink = m.Sum(sink[:0])
		})
	}

	b.Run("issue", func(b *testing.B) {
		loadtest.Measure(b, nil, func() {
			if _, _, err := ts.issue(claims, time.Hour); err != nil {
				b.Fatal(err)
			}
		})
	})
	b.Run("verify", func(b *testing.B) {
		loadtest.Measure(b, nil, func() {
			if _, err := ts.verify(token, audience); err != nil {
				b.Fatal(err)
			}
		})
	})
	b.Run("verify-cold", func(b *testing.B) {
		slot := ts.cache.slot(token[strings.IndexByte(token, '.')+1 : len(input)])
		loadtest.Measure(b, nil, func() {
			slot.Store(nil)
			if _, err := ts.verify(token, audience); err != nil {
				b.Fatal(err)
			}
		})
	})
	b.Run("hmac-floor", hmacFloor)
}

// BenchmarkBearerES256Cold is the ES256 token's first check (the claims
// cache missed: a new token), beside golang-jwt's ES256 verification alone,
// its floor; issue is what a token response pays.
func BenchmarkBearerES256Cold(b *testing.B) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		b.Fatal(err)
	}
	const issuer, audience = "http://127.0.0.1:8080", "http://127.0.0.1:8080/mcp"
	ts := newES256Signer([]crypto.Signer{key}, issuer, time.Now)
	claims := &Claims{Subject: "110169484474386276334", ClientID: "6f1c2a9e-8d4b-4f7a-9c3e-2b5d7e9f1a3c",
		Scopes: []string{"openid", "email", "profile"}, Audience: audience, TokenID: "0d7c5a4e", GrantID: "9e8d7c6b",
		Extra: map[string]any{"email": "alice@example.com", "name": "Alice Example"}}
	token, _, err := ts.issue(claims, time.Hour)
	if err != nil {
		b.Fatal(err)
	}
	b.Run("issue", func(b *testing.B) {
		loadtest.Measure(b, nil, func() {
			if _, _, err := ts.issue(claims, time.Hour); err != nil {
				b.Fatal(err)
			}
		})
	})
	b.Run("verify-cold", func(b *testing.B) {
		slot := ts.verified.slot(token)
		loadtest.Measure(b, nil, func() {
			slot.Store(nil)
			if _, err := ts.verify(token, audience); err != nil {
				b.Fatal(err)
			}
		})
	})
	b.Run("ecdsa-floor", func(b *testing.B) {
		dot := strings.LastIndexByte(token, '.')
		sig, _ := b64.DecodeString(token[dot+1:])
		loadtest.Measure(b, nil, func() {
			if err := jwt.SigningMethodES256.Verify(token[:dot], sig, &key.PublicKey); err != nil {
				b.Fatal(err)
			}
		})
	})
}
