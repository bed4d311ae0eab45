package oauthproxy

import (
	"fmt"

	opcrypto "github.com/oauthproxy-go/oauthproxy/crypto"
)

// minKeySize is the shortest accepted HMAC key: RFC 7518 §3.2 requires a key at
// least as long as the hash output for HS256.
const minKeySize = 32

// keys validates the configured keys and generates the missing ones with
// crypto/rand (SECURITY.md S15). Generated keys are remembered so New can warn:
// tokens and sealed values made with them do not survive a restart.
func (s *settings) keys() error {
	type keySpec struct {
		name  string
		key   *[]byte
		exact bool // AES-256 needs exactly 32 bytes
		skip  bool
	}
	for _, k := range []keySpec{
		{name: "JWTSigningKey", key: &s.JWTSigningKey},
		{name: "EncryptionKey", key: &s.EncryptionKey, exact: true, skip: s.DisableEncryption},
		{name: "ConsentSigningKey", key: &s.ConsentSigningKey},
	} {
		if k.skip {
			continue
		}
		if len(*k.key) == 0 {
			generated, err := opcrypto.GenerateKey()
			if err != nil {
				return fmt.Errorf("generating %s: %w", k.name, err)
			}
			*k.key = generated
			s.generatedKeyNames = append(s.generatedKeyNames, k.name)
			continue
		}
		if k.exact && len(*k.key) != opcrypto.KeySize {
			return fmt.Errorf("%s must be exactly %d bytes (got %d)", k.name, opcrypto.KeySize, len(*k.key))
		}
		if len(*k.key) < minKeySize {
			return fmt.Errorf("%s must be at least %d bytes (got %d)", k.name, minKeySize, len(*k.key))
		}
	}
	return nil
}
