package crypto

import (
	"crypto/hkdf"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
)

// KeySize is the length in bytes of every key this package uses: AES-256 (FIPS 197)
// and the HKDF-SHA256 output length.
const KeySize = 32

// keyIDSize is the number of SHA-256 bytes that identify a key on the wire.
const keyIDSize = 4

// GenerateKey returns a fresh KeySize-byte key read from crypto/rand (S15).
func GenerateKey() ([]byte, error) {
	key := make([]byte, KeySize)
	if _, err := rand.Read(key); err != nil {
		return nil, fmt.Errorf("crypto: generate key: %w", err)
	}
	return key, nil
}

// DeriveKey derives a KeySize-byte subkey from secret with HKDF-SHA256 (RFC 5869),
// using purpose as the info string and no salt. Distinct purposes give independent
// keys, so one configured secret can key several mechanisms without reuse.
// It fails if secret is shorter than KeySize, because HKDF cannot add entropy.
func DeriveKey(secret []byte, purpose string) ([]byte, error) {
	if len(secret) < KeySize {
		return nil, fmt.Errorf("crypto: derive key: secret is %d bytes, need at least %d", len(secret), KeySize)
	}
	key, err := hkdf.Key(sha256.New, secret, nil, purpose, KeySize)
	if err != nil {
		return nil, fmt.Errorf("crypto: derive key: %w", err)
	}
	return key, nil
}

// KeyID returns a short, stable, non-secret identifier for key: the first 4 bytes of
// SHA-256(key) as 8 lowercase hex characters. It names keys in sealed values and logs.
func KeyID(key []byte) string {
	id := keyIDBytes(key)
	return hex.EncodeToString(id[:])
}

func keyIDBytes(key []byte) [keyIDSize]byte {
	sum := sha256.Sum256(key)
	return [keyIDSize]byte(sum[:keyIDSize])
}
