package storage_test

import (
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/oauthproxy-go/oauthproxy/storage"
)

// onlyStore hides Memory's in-place methods, so Encrypted takes the path any
// other backend gets.
type onlyStore struct{ storage.TokenStorage }

// View gives fn what Get returns, on the in-place path (Memory) and the
// general one, and a value seen through View stays what it was after later
// Views reuse the buffer — as long as fn copied it, which is its contract.
func TestEncryptedViewSeesWhatGetReturns(t *testing.T) {
	for name, inner := range map[string]storage.TokenStorage{
		"memory":  storage.NewMemory(),
		"general": onlyStore{storage.NewMemory()},
	} {
		t.Run(name, func(t *testing.T) {
			ctx := t.Context()
			enc := storage.NewEncrypted(inner, newSealer(t))
			var kept []string
			for i := range 50 {
				key := fmt.Sprintf("k:%d", i)
				value := fmt.Sprintf("value %d %s", i, string(make([]byte, i*97)))
				require.NoError(t, enc.Save(ctx, key, []byte(value), time.Hour))
				require.NoError(t, enc.View(ctx, key, func(v []byte) error {
					kept = append(kept, string(v))
					return nil
				}))
				got, err := enc.Get(ctx, key)
				require.NoError(t, err)
				require.Equal(t, value, string(got))
			}
			for i, v := range kept {
				assert.Equal(t, fmt.Sprintf("value %d %s", i, string(make([]byte, i*97))), v)
			}
		})
	}
}

func TestEncryptedViewErrors(t *testing.T) {
	ctx := t.Context()
	inner := storage.NewMemory()
	enc := storage.NewEncrypted(inner, newSealer(t))
	called := false
	fn := func([]byte) error { called = true; return nil }

	require.ErrorIs(t, enc.View(ctx, "missing", fn), storage.ErrNotFound)
	assert.False(t, called, "no value, no call")

	require.NoError(t, enc.Save(ctx, "k", []byte("value"), time.Hour))
	sealed, err := inner.Get(ctx, "k")
	require.NoError(t, err)
	require.NoError(t, inner.Save(ctx, "moved", sealed, time.Hour))
	require.ErrorIs(t, enc.View(ctx, "moved", fn), storage.ErrCorrupt, "a value moved to another key does not open")
	assert.False(t, called, "a value that does not open is never shown")

	boom := errors.New("boom")
	require.ErrorIs(t, enc.View(ctx, "k", func([]byte) error { return boom }), boom)
	down := errors.New("backend down")
	require.ErrorIs(t, storage.NewEncrypted(failingStore{down}, newSealer(t)).View(ctx, "k", fn), down)
	assert.False(t, called)
}

// Consume is Take's single use without opening the value.
func TestEncryptedConsume(t *testing.T) {
	ctx := t.Context()
	inner := storage.NewMemory()
	enc := storage.NewEncrypted(inner, newSealer(t))
	require.NoError(t, enc.Save(ctx, "code:1", []byte("value"), time.Hour))

	require.NoError(t, enc.Consume(ctx, "code:1"))
	require.ErrorIs(t, enc.Consume(ctx, "code:1"), storage.ErrNotFound, "single use")
	_, err := enc.Get(ctx, "code:1")
	require.ErrorIs(t, err, storage.ErrNotFound)

	down := errors.New("backend down")
	require.ErrorIs(t, storage.NewEncrypted(failingStore{down}, newSealer(t)).Consume(ctx, "k"), down)
}
