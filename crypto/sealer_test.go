package crypto

import (
	"bytes"
	"encoding/hex"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func newKey(t testing.TB) []byte {
	t.Helper()
	k, err := GenerateKey()
	require.NoError(t, err)
	return k
}

func newSealer(t testing.TB, keys ...[]byte) *Sealer {
	t.Helper()
	s, err := NewSealer(keys...)
	require.NoError(t, err)
	return s
}

func TestNewSealerRejects(t *testing.T) {
	k := newKey(t)
	tests := []struct {
		name string
		keys [][]byte
	}{
		{"no keys", nil},
		{"nil key", [][]byte{nil}},
		{"AES-128 size", [][]byte{make([]byte, 16)}},
		{"one byte long", [][]byte{make([]byte, KeySize+1)}},
		{"bad second key", [][]byte{k, make([]byte, 31)}},
		{"duplicate", [][]byte{k, bytes.Clone(k)}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, err := NewSealer(tt.keys...)
			require.Error(t, err)
			assert.Nil(t, s)
		})
	}
}

func TestSealOpenRoundTrip(t *testing.T) {
	s := newSealer(t, newKey(t))
	tests := []struct {
		name      string
		plaintext []byte
		ad        []byte
	}{
		{"empty", []byte{}, nil},
		{"nil plaintext", nil, []byte("k")},
		{"short", []byte("upstream-token"), []byte("grant:abc")},
		{"all bytes", allBytes(), []byte{0, 1, 2}},
		{"large", bytes.Repeat([]byte("x"), 1<<20), []byte("big")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			sealed, err := s.Seal(tt.plaintext, tt.ad)
			require.NoError(t, err)
			assert.Len(t, sealed, overhead+len(tt.plaintext))
			assert.Equal(t, byte(formatV1), sealed[0])
			assert.Equal(t, s.KeyIDs()[0], hexOf(sealed[1:headerSize]))

			got, err := s.Open(sealed, tt.ad)
			require.NoError(t, err)
			require.NotNil(t, got, "an opened value is never nil")
			assert.Equal(t, len(tt.plaintext), len(got))
			assert.True(t, bytes.Equal(tt.plaintext, got))
		})
	}
}

func TestOpenTamperedByte(t *testing.T) {
	s := newSealer(t, newKey(t))
	ad := []byte("key")
	sealed, err := s.Seal([]byte("secret value"), ad)
	require.NoError(t, err)

	for i := range sealed {
		for _, mask := range []byte{0x01, 0x80, 0xff} {
			tampered := bytes.Clone(sealed)
			tampered[i] ^= mask
			_, err := s.Open(tampered, ad)
			require.ErrorIs(t, err, ErrOpen, "byte %d ^ %#x", i, mask)
		}
	}
}

func TestOpenTruncatedOrExtended(t *testing.T) {
	s := newSealer(t, newKey(t))
	sealed, err := s.Seal([]byte("v"), nil)
	require.NoError(t, err)

	for n := range len(sealed) {
		_, err := s.Open(sealed[:n], nil)
		require.ErrorIs(t, err, ErrOpen, "truncated to %d", n)
	}
	_, err = s.Open(append(bytes.Clone(sealed), 0), nil)
	require.ErrorIs(t, err, ErrOpen, "extended")
}

func TestOpenWrongAdditionalData(t *testing.T) {
	s := newSealer(t, newKey(t))
	sealed, err := s.Seal([]byte("v"), []byte("grant:1"))
	require.NoError(t, err)

	for _, ad := range [][]byte{nil, []byte("grant:2"), []byte("grant:1 "), []byte("grant:")} {
		_, err := s.Open(sealed, ad)
		require.ErrorIs(t, err, ErrOpen, "ad %q", ad)
	}
}

func TestOpenHeaderIsAuthenticated(t *testing.T) {
	// Rewriting the version byte or key id to another valid-looking value must fail
	// authentication, not just parsing: they are bound into the additional data.
	k1, k2 := newKey(t), newKey(t)
	s := newSealer(t, k1, k2)
	sealed, err := s.Seal([]byte("v"), nil)
	require.NoError(t, err)

	relabelled := bytes.Clone(sealed)
	id2 := keyIDBytes(k2)
	copy(relabelled[1:headerSize], id2[:])
	_, err = s.Open(relabelled, nil)
	require.ErrorIs(t, err, ErrOpen)
}

func TestOpenErrors(t *testing.T) {
	s := newSealer(t, newKey(t))
	valid, err := s.Seal([]byte("v"), nil)
	require.NoError(t, err)
	badVersion := bytes.Clone(valid)
	badVersion[0] = 0x02
	unknownKey := bytes.Clone(valid)
	unknownKey[1] ^= 0xff

	tests := []struct {
		name   string
		sealed []byte
	}{
		{"nil", nil},
		{"empty", []byte{}},
		{"header only", valid[:headerSize]},
		{"no tag", valid[:headerSize+nonceSize]},
		{"version 0", append([]byte{0}, valid[1:]...)},
		{"version 2", badVersion},
		{"unknown key id", unknownKey},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := s.Open(tt.sealed, nil)
			require.ErrorIs(t, err, ErrOpen)
			assert.Nil(t, got)
		})
	}
}

func TestKeyRotation(t *testing.T) {
	oldKey, newKeyBytes := newKey(t), newKey(t)

	before := newSealer(t, oldKey)
	sealedOld, err := before.Seal([]byte("old"), []byte("k"))
	require.NoError(t, err)

	// Prepend the new key: old values still open, new values use the new key.
	rotated := newSealer(t, newKeyBytes, oldKey)
	assert.Equal(t, []string{KeyID(newKeyBytes), KeyID(oldKey)}, rotated.KeyIDs())
	got, err := rotated.Open(sealedOld, []byte("k"))
	require.NoError(t, err)
	assert.Equal(t, []byte("old"), got)

	sealedNew, err := rotated.Seal([]byte("new"), []byte("k"))
	require.NoError(t, err)
	assert.Equal(t, KeyID(newKeyBytes), hexOf(sealedNew[1:headerSize]))
	_, err = before.Open(sealedNew, []byte("k"))
	require.ErrorIs(t, err, ErrOpen, "the old ring does not know the new key")

	// Retire the old key: its values no longer open.
	retired := newSealer(t, newKeyBytes)
	_, err = retired.Open(sealedOld, []byte("k"))
	require.ErrorIs(t, err, ErrOpen)
	got, err = retired.Open(sealedNew, []byte("k"))
	require.NoError(t, err)
	assert.Equal(t, []byte("new"), got)
}

func TestSealNonceIsFresh(t *testing.T) {
	s := newSealer(t, newKey(t))
	a, err := s.Seal([]byte("same"), nil)
	require.NoError(t, err)
	b, err := s.Seal([]byte("same"), nil)
	require.NoError(t, err)

	assert.NotEqual(t, a[headerSize:headerSize+nonceSize], b[headerSize:headerSize+nonceSize])
	assert.NotEqual(t, a, b)
}

func TestSealDoesNotAliasInputs(t *testing.T) {
	s := newSealer(t, newKey(t))
	pt := []byte("plaintext")
	ad := []byte("ad")
	sealed, err := s.Seal(pt, ad)
	require.NoError(t, err)
	assert.Equal(t, []byte("plaintext"), pt)
	assert.Equal(t, []byte("ad"), ad)

	got, err := s.Open(sealed, ad)
	require.NoError(t, err)
	got[0] = 'X'
	again, err := s.Open(sealed, ad)
	require.NoError(t, err)
	assert.Equal(t, []byte("plaintext"), again)
}

func allBytes() []byte {
	b := make([]byte, 256)
	for i := range b {
		b[i] = byte(i)
	}
	return b
}

func hexOf(b []byte) string { return hex.EncodeToString(b) }
