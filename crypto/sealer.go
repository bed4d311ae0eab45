package crypto

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"errors"
	"fmt"
	"sync"
)

// ErrOpen is wrapped by every error Open returns: the input is malformed, names an
// unknown version or key, or fails authentication. Callers should not need to tell
// these apart; none of them yields plaintext.
var ErrOpen = errors.New("crypto: cannot open sealed value")

// Wire format of a sealed value (S15):
//
//	version (1) | key id (4) | nonce (12) | ciphertext | GCM tag (16)
//
// The version byte and key id are also prepended to the caller's additional data,
// so neither can be rewritten without failing authentication.
const (
	formatV1   = 0x01
	headerSize = 1 + keyIDSize
	nonceSize  = 12 // the GCM standard nonce size, NIST SP 800-38D §8.2.2
	tagSize    = 16
	overhead   = headerSize + nonceSize + tagSize
)

// Sealer seals values with AES-256-GCM under a key ring: the first key seals, every
// key opens, so keys can rotate without losing stored data. It is safe for concurrent
// use.
type Sealer struct {
	keys []ringKey // keys[0] seals
}

type ringKey struct {
	id   [keyIDSize]byte
	aead cipher.AEAD
}

// NewSealer builds a Sealer over keys, the first of which seals. Each key must be
// KeySize bytes and the key ids must be distinct. The AEADs are built once here so
// Seal and Open do no key setup.
func NewSealer(keys ...[]byte) (*Sealer, error) {
	if len(keys) == 0 {
		return nil, errors.New("crypto: new sealer: no keys")
	}
	s := &Sealer{keys: make([]ringKey, 0, len(keys))}
	for i, key := range keys {
		if len(key) != KeySize {
			return nil, fmt.Errorf("crypto: new sealer: key %d is %d bytes, want %d", i, len(key), KeySize)
		}
		id := keyIDBytes(key)
		for _, k := range s.keys {
			if k.id == id {
				// Also catches a 32-bit id collision of distinct keys, which would make
				// Open ambiguous.
				return nil, fmt.Errorf("crypto: new sealer: key %d has duplicate key id %x", i, id)
			}
		}
		block, err := aes.NewCipher(key)
		if err != nil {
			return nil, fmt.Errorf("crypto: new sealer: %w", err)
		}
		aead, err := cipher.NewGCM(block)
		if err != nil {
			return nil, fmt.Errorf("crypto: new sealer: %w", err)
		}
		s.keys = append(s.keys, ringKey{id: id, aead: aead})
	}
	return s, nil
}

// Seal encrypts and authenticates plaintext under the first key with a random 96-bit
// nonce (NIST SP 800-38D §8.2.2), binding additionalData, and returns the versioned
// wire format. The result is a new slice.
func (s *Sealer) Seal(plaintext, additionalData []byte) ([]byte, error) {
	k := &s.keys[0]
	out := make([]byte, headerSize+nonceSize, overhead+len(plaintext))
	out[0] = formatV1
	copy(out[1:headerSize], k.id[:])
	nonce := out[headerSize : headerSize+nonceSize]
	if _, err := rand.Read(nonce); err != nil {
		return nil, fmt.Errorf("crypto: seal: nonce: %w", err)
	}
	ad := boundAD(out[:headerSize], additionalData)
	sealed := k.aead.Seal(out, nonce, plaintext, *ad)
	adBufs.Put(ad)
	return sealed, nil
}

// Open parses a value produced by Seal, picks the key named by its key id and
// returns the authenticated plaintext as a new, non-nil slice. Every failure wraps
// ErrOpen; no input makes it panic.
func (s *Sealer) Open(sealed, additionalData []byte) ([]byte, error) {
	return s.AppendOpen(nil, sealed, additionalData)
}

// AppendOpen is Open that appends the plaintext to dst, as cipher.AEAD's Open
// does, so a caller can open into a buffer it reuses. dst must not overlap
// sealed. On failure it returns nil.
func (s *Sealer) AppendOpen(dst, sealed, additionalData []byte) ([]byte, error) {
	if len(sealed) < overhead {
		return nil, fmt.Errorf("%w: %d bytes is too short", ErrOpen, len(sealed))
	}
	if sealed[0] != formatV1 {
		return nil, fmt.Errorf("%w: unknown format version %#x", ErrOpen, sealed[0])
	}
	id := [keyIDSize]byte(sealed[1:headerSize])
	for i := range s.keys {
		k := &s.keys[i]
		if k.id != id {
			continue
		}
		nonce := sealed[headerSize : headerSize+nonceSize]
		ad := boundAD(sealed[:headerSize], additionalData)
		pt, err := k.aead.Open(dst, nonce, sealed[headerSize+nonceSize:], *ad)
		adBufs.Put(ad)
		if err != nil {
			return nil, fmt.Errorf("%w: authentication failed", ErrOpen)
		}
		if pt == nil {
			pt = []byte{} // an empty plaintext is a value, not a miss
		}
		return pt, nil
	}
	return nil, fmt.Errorf("%w: unknown key id %x", ErrOpen, id)
}

// KeyIDs returns the ids of the ring's keys, sealing key first, for logs.
func (s *Sealer) KeyIDs() []string {
	ids := make([]string, len(s.keys))
	for i, k := range s.keys {
		ids[i] = fmt.Sprintf("%x", k.id)
	}
	return ids
}

// boundAD returns header || additionalData, the additional data GCM
// authenticates, in a buffer from adBufs to give back once GCM is done with it
// (it keeps no reference): every stored record is sealed or opened with one,
// and a whole sign-in does about thirty (issue 16).
func boundAD(header, additionalData []byte) *[]byte {
	ad := adBufs.Get().(*[]byte)
	*ad = append(append((*ad)[:0], header...), additionalData...)
	return ad
}

var adBufs = sync.Pool{New: func() any { return new([]byte) }}
