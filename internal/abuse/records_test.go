package abuse

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/oauthproxy-go/oauthproxy/storage"
)

// The record counter counts what the store holds: saves by namespace, a
// key saved twice once, taken, deleted and expired keys not at all.
func TestRecordCounterCountsLiveRecordsByNamespace(t *testing.T) {
	ctx := context.Background()
	now := time.Unix(1_700_000_000, 0)
	clock := func() time.Time { return now }
	c := newRecordCounter(storage.NewMemoryWithClock(clock))
	c.now = clock

	require.NoError(t, c.Save(ctx, "client:a", []byte("12345"), 0))
	require.NoError(t, c.Save(ctx, "client:b", []byte("1"), time.Hour))
	require.NoError(t, c.Save(ctx, "client:b", []byte("12"), time.Hour)) // replaced, not added
	require.NoError(t, c.Save(ctx, "txn:x", []byte("1"), time.Minute))
	require.NoError(t, c.Save(ctx, "txn:y", []byte("1"), time.Hour))
	require.NoError(t, c.Save(ctx, "code:z", []byte("1"), time.Hour))
	require.NoError(t, c.Save(ctx, "nonamespace", []byte("1"), time.Hour))
	assert.Equal(t, []NamespaceCount{
		{"(none)", 1, 1}, {"client", 2, 7}, {"code", 1, 1}, {"txn", 2, 2},
	}, c.Count())

	_, err := c.Take(ctx, "code:z")
	require.NoError(t, err)
	require.NoError(t, c.Delete(ctx, "txn:y"))
	_, err = c.Take(ctx, "code:z") // a miss changes nothing
	require.ErrorIs(t, err, storage.ErrNotFound)
	now = now.Add(2 * time.Minute) // txn:x expires
	assert.Equal(t, []NamespaceCount{{"(none)", 1, 1}, {"client", 2, 7}}, c.Count())
	assert.Equal(t, 4, c.Tracked(), "expired keys are still tracked until the store drops them")

	v, err := c.Get(ctx, "client:a")
	require.NoError(t, err)
	assert.Equal(t, "12345", string(v), "values pass through")
	assert.False(t, c.Persistent())
}
