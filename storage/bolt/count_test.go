package bolt_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/oauthproxy-go/oauthproxy/storage"
	"github.com/oauthproxy-go/oauthproxy/storage/bolt"
)

// The count is read from the records themselves, so a restart keeps it: a quota
// on registered clients holds across restarts.
func TestCountSurvivesReopen(t *testing.T) {
	ctx := t.Context()
	path := dbPath(t)
	s, err := bolt.Open(path)
	require.NoError(t, err)
	for _, k := range []string{"client:a", "client:b", "client:c", "txn:x"} {
		require.NoError(t, s.Save(ctx, k, []byte("v"), time.Hour))
	}
	require.NoError(t, s.Delete(ctx, "client:c"))
	require.NoError(t, s.Close())

	s = open(t, path)
	n, err := s.Count(ctx, "client:")
	require.NoError(t, err)
	assert.Equal(t, 2, n)
	n, err = s.Count(ctx, "txn:")
	require.NoError(t, err)
	assert.Equal(t, 1, n)

	enc := storage.NewEncrypted(s, newSealer(t))
	n, err = enc.Count(ctx, "client:")
	require.NoError(t, err)
	assert.Equal(t, 2, n, "through the encrypted wrapper the proxy uses")
}

// bolt reads each record's expiry header, so expired records stop counting at
// once, before Cleanup deletes them.
func TestCountSkipsExpiredBeforeCleanup(t *testing.T) {
	ctx := t.Context()
	clock := newFakeClock()
	s := open(t, dbPath(t), bolt.WithClock(clock.Now))
	require.NoError(t, s.Save(ctx, "txn:a", []byte("v"), time.Minute))
	require.NoError(t, s.Save(ctx, "txn:b", []byte("v"), time.Hour))
	require.NoError(t, s.Save(ctx, "txn:c", []byte("v"), 0))

	clock.Advance(time.Minute)
	n, err := s.Count(ctx, "txn:")
	require.NoError(t, err)
	assert.Equal(t, 2, n, "the expired record is not counted")

	clock.Advance(time.Hour)
	n, err = s.Count(ctx, "txn:")
	require.NoError(t, err)
	assert.Equal(t, 1, n, "only the record without expiry is left")
}
