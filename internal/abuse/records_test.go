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
	// TokenStorage's methods only: the store's own count (StoreCount) is
	// TestRecordCounterAsksAStoreThatCounts's.
	c := newRecordCounter(struct{ storage.TokenStorage }{storage.NewMemoryWithClock(clock)})
	c.now = clock

	require.NoError(t, c.Save(ctx, "client:a", []byte("12345"), 0))
	require.NoError(t, c.Save(ctx, "client:b", []byte("1"), time.Hour))
	require.NoError(t, c.Save(ctx, "client:b", []byte("12"), time.Hour)) // replaced, not added
	require.NoError(t, c.Save(ctx, "txn:x", []byte("1"), time.Minute))
	require.NoError(t, c.Save(ctx, "txn:y", []byte("1"), time.Hour))
	require.NoError(t, c.Save(ctx, "code:z", []byte("1"), time.Hour))
	require.NoError(t, c.Save(ctx, "nonamespace", []byte("1"), time.Hour))
	assert.Equal(t, []NamespaceCount{
		{"(none)", 1, 1, -1}, {"client", 2, 7, -1}, {"code", 1, 1, -1}, {"txn", 2, 2, -1},
	}, c.Live(ctx))

	_, err := c.Take(ctx, "code:z")
	require.NoError(t, err)
	require.NoError(t, c.Delete(ctx, "txn:y"))
	_, err = c.Take(ctx, "code:z") // a miss changes nothing
	require.ErrorIs(t, err, storage.ErrNotFound)
	now = now.Add(2 * time.Minute) // txn:x expires
	assert.Equal(t, []NamespaceCount{{"(none)", 1, 1, -1}, {"client", 2, 7, -1}}, c.Live(ctx))
	assert.Equal(t, 4, c.Tracked(), "expired keys are still tracked until the store drops them")

	v, err := c.Get(ctx, "client:a")
	require.NoError(t, err)
	assert.Equal(t, "12345", string(v), "values pass through")
	assert.False(t, c.Persistent())
	assert.True(t, newRecordCounter(persistentStore{storage.NewMemory()}).Persistent(), "a persistent store stays persistent")
}

// countingStore is a store that counts namespaces itself, as issue 11's
// storage.Counter does.
type countingStore struct {
	*storage.Memory
	asked []string
}

func (s *countingStore) Count(_ context.Context, namespace string) (int, error) {
	s.asked = append(s.asked, namespace)
	return 40 + len(s.asked), nil
}

// A store that can count reports its own count beside the counter's.
func TestRecordCounterAsksAStoreThatCounts(t *testing.T) {
	ctx := context.Background()
	inner := &countingStore{Memory: storage.NewMemory()}
	c := newRecordCounter(inner)
	require.NoError(t, c.Save(ctx, "client:a", []byte("1"), 0))
	require.NoError(t, c.Save(ctx, "nonamespace", []byte("1"), 0))
	assert.Equal(t, []NamespaceCount{{"(none)", 1, 1, -1}, {"client", 1, 1, 41}}, c.Live(ctx))
	assert.Equal(t, []string{"client:"}, inner.asked, "asked with the namespace's ':'")

	// The proxy's quotas count through the wrapper.
	n, err := c.Count(ctx, "txn:")
	require.NoError(t, err)
	assert.Equal(t, 42, n)
	assert.Equal(t, "txn:", inner.asked[1])
	cannotCount := struct{ storage.TokenStorage }{storage.NewMemory()} // TokenStorage's methods only
	_, err = newRecordCounter(cannotCount).Count(ctx, "txn:")
	assert.ErrorIs(t, err, errCannotCount, "a store that cannot count says so")
}

type persistentStore struct{ storage.TokenStorage }

func (persistentStore) Persistent() bool { return true }
