package storage_test

import (
	"bytes"
	"context"
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/oauthproxy-go/oauthproxy/crypto"
	"github.com/oauthproxy-go/oauthproxy/storage"
)

func TestEncryptedInnerNeverHoldsPlaintext(t *testing.T) {
	ctx := t.Context()
	inner := storage.NewMemory()
	enc := storage.NewEncrypted(inner, newSealer(t))
	plaintext := []byte("gho_upstream-access-token-0123456789")

	require.NoError(t, enc.Save(ctx, "grant:1", plaintext, time.Hour))

	stored, err := inner.Get(ctx, "grant:1")
	require.NoError(t, err)
	assert.False(t, bytes.Contains(stored, plaintext), "inner store holds the plaintext")
	assert.False(t, bytes.Contains(stored, plaintext[:8]), "inner store holds a plaintext prefix")

	got, err := enc.Get(ctx, "grant:1")
	require.NoError(t, err)
	assert.Equal(t, plaintext, got)
}

func TestEncryptedValueMovedToAnotherKey(t *testing.T) {
	ctx := t.Context()
	inner := storage.NewMemory()
	enc := storage.NewEncrypted(inner, newSealer(t))
	require.NoError(t, enc.Save(ctx, "grant:alice", []byte("alice's tokens"), time.Hour))

	sealed, err := inner.Get(ctx, "grant:alice")
	require.NoError(t, err)
	require.NoError(t, inner.Save(ctx, "grant:mallory", sealed, time.Hour))

	// Get before Take: Take consumes the value.
	for _, r := range []struct {
		name string
		read func(context.Context, string) ([]byte, error)
	}{{"Get", enc.Get}, {"Take", enc.Take}} {
		name := r.name
		got, err := r.read(ctx, "grant:mallory")
		require.ErrorIs(t, err, storage.ErrCorrupt, name)
		require.ErrorIs(t, err, crypto.ErrOpen, name)
		require.NotErrorIs(t, err, storage.ErrNotFound, "%s: a failure is not a miss", name)
		assert.Nil(t, got, name)
	}
}

func TestEncryptedTamperedValue(t *testing.T) {
	ctx := t.Context()
	inner := storage.NewMemory()
	enc := storage.NewEncrypted(inner, newSealer(t))
	require.NoError(t, enc.Save(ctx, "k", []byte("value"), time.Hour))

	sealed, err := inner.Get(ctx, "k")
	require.NoError(t, err)
	sealed[len(sealed)-1] ^= 1
	require.NoError(t, inner.Save(ctx, "k", sealed, time.Hour))

	_, err = enc.Get(ctx, "k")
	require.ErrorIs(t, err, storage.ErrCorrupt)
}

func TestEncryptedErrorsPassThrough(t *testing.T) {
	ctx := t.Context()
	enc := storage.NewEncrypted(storage.NewMemory(), newSealer(t))
	for name, read := range map[string]func(context.Context, string) ([]byte, error){
		"Get": enc.Get, "Take": enc.Take,
	} {
		_, err := read(ctx, "missing")
		require.ErrorIs(t, err, storage.ErrNotFound, name)
		require.NotErrorIs(t, err, storage.ErrCorrupt, name)
	}

	boom := errors.New("backend down")
	enc = storage.NewEncrypted(failingStore{err: boom}, newSealer(t))
	_, err := enc.Get(ctx, "k")
	require.Same(t, boom, err, "inner errors are returned unchanged")
	_, err = enc.Take(ctx, "k")
	require.Same(t, boom, err)
	require.Same(t, boom, enc.Save(ctx, "k", []byte("v"), 0))
	require.Same(t, boom, enc.Delete(ctx, "k"))
	require.Same(t, boom, enc.Cleanup(ctx))
}

func TestEncryptedSealFailureStoresNothing(t *testing.T) {
	ctx := t.Context()
	inner := storage.NewMemory()
	boom := errors.New("no entropy")
	enc := storage.NewEncrypted(inner, failingCipher{err: boom})

	require.ErrorIs(t, enc.Save(ctx, "k", []byte("v"), time.Hour), boom)
	assert.Zero(t, inner.Len())
}

func TestEncryptedKeyRotation(t *testing.T) {
	ctx := t.Context()
	oldKey, err := crypto.GenerateKey()
	require.NoError(t, err)
	newKey, err := crypto.GenerateKey()
	require.NoError(t, err)
	oldRing, err := crypto.NewSealer(oldKey)
	require.NoError(t, err)
	newRing, err := crypto.NewSealer(newKey, oldKey)
	require.NoError(t, err)
	retired, err := crypto.NewSealer(newKey)
	require.NoError(t, err)

	inner := storage.NewMemory()
	require.NoError(t, storage.NewEncrypted(inner, oldRing).Save(ctx, "grant:1", []byte("v"), time.Hour))

	got, err := storage.NewEncrypted(inner, newRing).Get(ctx, "grant:1")
	require.NoError(t, err)
	assert.Equal(t, []byte("v"), got)

	_, err = storage.NewEncrypted(inner, retired).Get(ctx, "grant:1")
	require.ErrorIs(t, err, storage.ErrCorrupt)
}

func TestEncryptedPersistentForwards(t *testing.T) {
	tests := []struct {
		name  string
		inner storage.TokenStorage
		want  bool
	}{
		{"memory", storage.NewMemory(), false},
		{"persistent backend", persistentStore{TokenStorage: storage.NewMemory(), persistent: true}, true},
		{"backend that does not say", failingStore{}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			enc := storage.NewEncrypted(tt.inner, newSealer(t))
			assert.Equal(t, tt.want, enc.Persistent())
		})
	}
}

func TestEncryptedCountForwards(t *testing.T) {
	ctx := t.Context()
	inner := storage.NewMemory()
	enc := storage.NewEncrypted(inner, newSealer(t))
	require.NoError(t, enc.Save(ctx, "client:a", []byte("v"), time.Hour))
	require.NoError(t, inner.Save(ctx, "client:b", []byte("saved around the wrapper"), time.Hour))
	n, err := enc.Count(ctx, "client:")
	require.NoError(t, err)
	assert.Equal(t, 2, n, "keys are not encrypted, so the inner count is the count")

	boom := errors.New("backend down")
	_, err = storage.NewEncrypted(countingStore{failingStore{err: boom}}, newSealer(t)).Count(ctx, "client:")
	require.Same(t, boom, err, "inner errors are returned unchanged")
}

func TestEncryptedCountUnsupported(t *testing.T) {
	enc := storage.NewEncrypted(failingStore{}, newSealer(t))
	_, err := enc.Count(t.Context(), "client:")
	require.ErrorIs(t, err, storage.ErrCountUnsupported)
}

func TestNewEncryptedRejectsNil(t *testing.T) {
	assert.Panics(t, func() { storage.NewEncrypted(nil, newSealer(t)) })
	assert.Panics(t, func() { storage.NewEncrypted(storage.NewMemory(), nil) })
}

// failingStore fails every call with err and does not implement Persistence.
type failingStore struct{ err error }

func (f failingStore) Save(context.Context, string, []byte, time.Duration) error { return f.err }
func (f failingStore) Get(context.Context, string) ([]byte, error)               { return nil, f.err }
func (f failingStore) Take(context.Context, string) ([]byte, error)              { return nil, f.err }
func (f failingStore) Delete(context.Context, string) error                      { return f.err }
func (f failingStore) Cleanup(context.Context) error                             { return f.err }

// countingStore is a failingStore that is also a Counter, failing with err.
type countingStore struct{ failingStore }

func (c countingStore) Count(context.Context, string) (int, error) { return 0, c.err }

type persistentStore struct {
	storage.TokenStorage
	persistent bool
}

func (p persistentStore) Persistent() bool { return p.persistent }

type failingCipher struct{ err error }

func (f failingCipher) Seal([]byte, []byte) ([]byte, error) { return nil, f.err }
func (f failingCipher) Open([]byte, []byte) ([]byte, error) { return nil, f.err }
