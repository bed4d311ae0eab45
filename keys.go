package oauthproxy

import (
	"errors"
	"fmt"
	"strings"

	opcrypto "github.com/oauthproxy-go/oauthproxy/crypto"
)

// minKeySize is the shortest accepted HMAC key: RFC 7518 §3.2 requires a key at
// least as long as the hash output for HS256.
const minKeySize = 32

// keyRing describes one configured key: the single-key shorthand, the ring
// that allows rotation, and what a valid key looks like.
type keyRing struct {
	name, ringName string
	single         []byte
	ring           [][]byte
	exact          bool // AES-256 needs exactly 32 bytes
}

// resolve returns the ring (first key signs or seals, all verify or open),
// generating one key with crypto/rand when none is configured (S15).
func (k keyRing) resolve() (ring [][]byte, generated bool, err error) {
	switch {
	case len(k.single) > 0 && len(k.ring) > 0:
		return nil, false, fmt.Errorf("set %s or %s, not both", k.name, k.ringName)
	case len(k.single) > 0:
		ring = [][]byte{k.single}
	case len(k.ring) > 0:
		ring = k.ring
	default:
		key, err := opcrypto.GenerateKey()
		if err != nil {
			return nil, false, fmt.Errorf("generating %s: %w", k.name, err)
		}
		return [][]byte{key}, true, nil
	}
	seen := map[string]bool{}
	for i, key := range ring {
		name := k.name
		if len(k.ring) > 0 {
			name = fmt.Sprintf("%s[%d]", k.ringName, i)
		}
		if k.exact && len(key) != opcrypto.KeySize {
			return nil, false, fmt.Errorf("%s must be exactly %d bytes (got %d)", name, opcrypto.KeySize, len(key))
		}
		if len(key) < minKeySize {
			return nil, false, fmt.Errorf("%s must be at least %d bytes (got %d)", name, minKeySize, len(key))
		}
		id := opcrypto.KeyID(key)
		if seen[id] {
			return nil, false, fmt.Errorf("%s repeats a key already in the ring", name)
		}
		seen[id] = true
	}
	return ring, false, nil
}

// keys validates the configured keys and generates missing ones. Generated keys
// are remembered so New can warn, or refuse them for persistent storage: tokens
// and sealed values made with them do not survive a restart.
func (s *settings) keys() error {
	var errs []error
	resolve := func(k keyRing) [][]byte {
		ring, generated, err := k.resolve()
		if err != nil {
			errs = append(errs, err)
		}
		if generated {
			s.generatedKeyNames = append(s.generatedKeyNames, k.name)
		}
		return ring
	}
	if len(s.AccessTokenSigningKeys) == 0 {
		s.jwtKeys = resolve(keyRing{name: "JWTSigningKey", ringName: "JWTSigningKeys", single: s.JWTSigningKey, ring: s.JWTSigningKeys})
	} else if len(s.JWTSigningKey) > 0 || len(s.JWTSigningKeys) > 0 {
		// One algorithm per proxy (RFC 8725 §3.1): an HS256 key beside the
		// ES256 ring would be unused, and suggests a mistake.
		errs = append(errs, errors.New("set AccessTokenSigningKeys or JWTSigningKey(s), not both"))
	} else if err := checkAccessTokenSigningKeys(s.AccessTokenSigningKeys); err != nil {
		errs = append(errs, err)
	}
	if !s.DisableEncryption {
		s.encryptionKeys = resolve(keyRing{name: "EncryptionKey", ringName: "EncryptionKeys", single: s.EncryptionKey, ring: s.EncryptionKeys, exact: true})
	} else if len(s.EncryptionKey) > 0 || len(s.EncryptionKeys) > 0 {
		errs = append(errs, errors.New("EncryptionKey is set but DisableEncryption is true"))
	}
	consent := resolve(keyRing{name: "ConsentSigningKey", single: s.ConsentSigningKey})
	if len(consent) > 0 {
		s.ConsentSigningKey = consent[0]
	}
	if persistent(s.TokenStorage) && len(s.generatedKeyNames) > 0 {
		// S15: values sealed or signed with a random key are garbage after a
		// restart or on another replica. Checked here, with the rest of the
		// Config, so every problem is reported at once.
		errs = append(errs, fmt.Errorf("the storage is persistent or shared, so %s must be set (generated keys do not survive a restart and differ between replicas)",
			strings.Join(s.generatedKeyNames, ", ")))
	}
	return errors.Join(errs...)
}
