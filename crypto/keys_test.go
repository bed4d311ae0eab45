package crypto

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"regexp"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestGenerateKey(t *testing.T) {
	a, err := GenerateKey()
	require.NoError(t, err)
	b, err := GenerateKey()
	require.NoError(t, err)
	assert.Len(t, a, KeySize)
	assert.Len(t, b, KeySize)
	assert.NotEqual(t, a, b, "two generated keys must differ")
}

func TestDeriveKey(t *testing.T) {
	secret := bytes.Repeat([]byte{0x42}, KeySize)

	k1, err := DeriveKey(secret, "storage")
	require.NoError(t, err)
	k2, err := DeriveKey(secret, "storage")
	require.NoError(t, err)
	other, err := DeriveKey(secret, "consent")
	require.NoError(t, err)

	assert.Len(t, k1, KeySize)
	assert.Equal(t, k1, k2, "deterministic")
	assert.NotEqual(t, k1, other, "purpose-separated")
	assert.NotEqual(t, secret, k1, "never the secret itself")

	// Cross-check against RFC 5869 written out with HMAC: no salt means a HashLen
	// zero salt; one output block suffices for 32 bytes.
	prk := hmacSHA256(make([]byte, sha256.Size), secret)
	want := hmacSHA256(prk, append([]byte("storage"), 0x01))
	assert.Equal(t, want, k1)
}

func TestDeriveKeySecretLength(t *testing.T) {
	tests := []struct {
		name    string
		size    int
		wantErr bool
	}{
		{"empty", 0, true},
		{"one short", KeySize - 1, true},
		{"exact", KeySize, false},
		{"longer", 64, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			key, err := DeriveKey(make([]byte, tt.size), "p")
			if tt.wantErr {
				require.Error(t, err)
				assert.Nil(t, key)
				return
			}
			require.NoError(t, err)
			assert.Len(t, key, KeySize)
		})
	}
}

func TestKeyID(t *testing.T) {
	key := make([]byte, KeySize)
	id := KeyID(key)
	assert.Regexp(t, regexp.MustCompile(`^[0-9a-f]{8}$`), id)
	assert.Equal(t, "66687aad", id, "first 4 bytes of SHA-256 of 32 zero bytes")
	assert.Equal(t, id, KeyID(key), "stable")

	key[0] = 1
	assert.NotEqual(t, id, KeyID(key))
}

func hmacSHA256(key, msg []byte) []byte {
	m := hmac.New(sha256.New, key)
	m.Write(msg)
	return m.Sum(nil)
}
