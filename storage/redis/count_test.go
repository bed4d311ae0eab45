package redis_test

import (
	"math"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/oauthproxy-go/oauthproxy/storage"
	"github.com/oauthproxy-go/oauthproxy/storage/redis"
	"github.com/oauthproxy-go/oauthproxy/storage/redis/redistest"
)

// indexKey is where the store keeps the count index of namespace.
func indexKey(namespace string) string { return redis.DefaultPrefix + "idx:" + namespace }

// The index of a namespace is a sorted set of its keys scored by expiry in Unix
// milliseconds, +inf for keys that never expire; keys in no namespace are not
// indexed.
func TestCountIndexLayout(t *testing.T) {
	ctx := t.Context()
	client := redistest.NewClient(t, redistest.Start(t))
	s := redis.New(client, redis.WithEveryNamespaceCounted())

	before := time.Now().UnixMilli()
	require.NoError(t, s.Save(ctx, "client:a", []byte("v"), time.Hour))
	after := time.Now().UnixMilli()
	require.NoError(t, s.Save(ctx, "client:b", []byte("v"), 0))
	require.NoError(t, s.Save(ctx, "plain", []byte("v"), time.Hour))

	score, err := client.ZScore(ctx, indexKey("client:"), "client:a").Result()
	require.NoError(t, err)
	assert.GreaterOrEqual(t, score, float64(before+time.Hour.Milliseconds()))
	assert.LessOrEqual(t, score, float64(after+time.Hour.Milliseconds()))

	score, err = client.ZScore(ctx, indexKey("client:"), "client:b").Result()
	require.NoError(t, err)
	assert.True(t, math.IsInf(score, 1), "no TTL scores +inf, got %v", score)

	keys, err := client.Keys(ctx, "*").Result()
	require.NoError(t, err)
	assert.ElementsMatch(t, []string{
		redis.DefaultPrefix + "client:a", redis.DefaultPrefix + "client:b",
		redis.DefaultPrefix + "plain", indexKey("client:"),
	}, keys, "one index per namespace, none for keys outside one")
}

// Replicas share one index, so each sees the others' writes in its count: a
// quota holds across replicas.
func TestCountSharedAcrossReplicas(t *testing.T) {
	ctx := t.Context()
	addr := redistest.Start(t)
	a := redis.New(redistest.NewClient(t, addr), redis.WithEveryNamespaceCounted())
	b := redis.New(redistest.NewClient(t, addr), redis.WithEveryNamespaceCounted())

	require.NoError(t, a.Save(ctx, "client:1", []byte("v"), time.Hour))
	require.NoError(t, b.Save(ctx, "client:2", []byte("v"), time.Hour))
	requireCount(t, a, "client:", 2)
	requireCount(t, b, "client:", 2)

	_, err := b.Take(ctx, "client:1")
	require.NoError(t, err)
	requireCount(t, a, "client:", 1)
	require.NoError(t, a.Delete(ctx, "client:2"))
	requireCount(t, b, "client:", 0)
}

// The index is ordinary Redis data, so it is as durable as the keys: with
// persistence on, a restart keeps the count.
func TestCountSurvivesRestart(t *testing.T) {
	ctx := t.Context()
	server := redistest.StartWithOptions(t, redistest.Options{Persistent: true})
	s := redis.New(redistest.NewClient(t, server.Addr()), redis.WithEveryNamespaceCounted())
	for _, k := range []string{"client:1", "client:2", "txn:1"} {
		require.NoError(t, s.Save(ctx, k, []byte("v"), time.Hour))
	}
	server.Restart()

	requireCount(t, s, "client:", 2)
	requireCount(t, s, "txn:", 1)
}

// Redis expires keys without telling the index; Count drops index entries past
// their expiry itself, so expired keys stop counting without Cleanup.
func TestCountDropsExpiredWithoutCleanup(t *testing.T) {
	ctx := t.Context()
	client := redistest.NewClient(t, redistest.Start(t))
	s := redis.New(client, redis.WithEveryNamespaceCounted())
	require.NoError(t, s.Save(ctx, "txn:short", []byte("v"), 50*time.Millisecond))
	require.NoError(t, s.Save(ctx, "txn:long", []byte("v"), time.Hour))
	requireCount(t, s, "txn:", 2)

	require.Eventually(t, func() bool {
		n, err := s.Count(ctx, "txn:")
		return err == nil && n == 1
	}, 5*time.Second, 10*time.Millisecond)
	members, err := client.ZRange(ctx, indexKey("txn:"), 0, -1).Result()
	require.NoError(t, err)
	assert.Equal(t, []string{"txn:long"}, members, "Count pruned the index")
}

// Cleanup prunes the indexes of namespaces nobody counts, so they do not grow
// with every key ever saved.
func TestCleanupPrunesIndexes(t *testing.T) {
	ctx := t.Context()
	client := redistest.NewClient(t, redistest.Start(t))
	s := redis.New(client, redis.WithEveryNamespaceCounted())
	for _, k := range []string{"grant:1", "grant:2", "code:1"} {
		require.NoError(t, s.Save(ctx, k, []byte("v"), time.Millisecond))
	}
	require.NoError(t, s.Save(ctx, "grant:kept", []byte("v"), time.Hour))
	time.Sleep(5 * time.Millisecond) // past every short expiry, on this clock

	require.NoError(t, s.Cleanup(ctx))
	grants, err := client.ZRange(ctx, indexKey("grant:"), 0, -1).Result()
	require.NoError(t, err)
	assert.Equal(t, []string{"grant:kept"}, grants)
	codes, err := client.ZCard(ctx, indexKey("code:")).Result()
	require.NoError(t, err)
	assert.Zero(t, codes)
}

// TestWithCountedNamespaces: by default, and with WithCountedNamespaces, only
// the named namespaces are indexed; the default is what the proxy's quotas
// count, so grants and refresh tokens cost no index.
func TestWithCountedNamespaces(t *testing.T) {
	for name, opts := range map[string][]redis.Option{
		"default":  nil,
		"explicit": {redis.WithCountedNamespaces("client:", "txn:")},
	} {
		t.Run(name, func(t *testing.T) { testCountedNamespaces(t, opts) })
	}
}

func testCountedNamespaces(t *testing.T, opts []redis.Option) {
	ctx := t.Context()
	client := redistest.NewClient(t, redistest.Start(t))
	s := redis.New(client, opts...)
	require.NoError(t, s.Save(ctx, "client:1", []byte("v"), time.Hour))
	require.NoError(t, s.Save(ctx, "grant:1", []byte("v"), time.Hour))
	requireCount(t, s, "client:", 1)
	requireCount(t, s, "txn:", 0)

	_, err := s.Count(ctx, "grant:")
	require.ErrorIs(t, err, storage.ErrCountUnsupported)
	exists, err := client.Exists(ctx, indexKey("grant:")).Result()
	require.NoError(t, err)
	assert.Zero(t, exists, "no index is kept for a namespace not counted")
	_, _, err = s.Scan(ctx, "grant:", "", 10)
	require.ErrorIs(t, err, storage.ErrScanUnsupported, "a namespace without an index cannot be listed")

	assert.Panics(t, func() { redis.WithCountedNamespaces("client") })
}

// Keys in the index namespace are refused, so no Save, Take or Delete can
// clobber an index or read one as a value.
func TestIndexNamespaceIsReserved(t *testing.T) {
	ctx := t.Context()
	client := redistest.NewClient(t, redistest.Start(t))
	s := redis.New(client, redis.WithEveryNamespaceCounted())
	require.NoError(t, s.Save(ctx, "client:1", []byte("v"), time.Hour))

	k := "idx:client:"
	require.Error(t, s.Save(ctx, k, []byte("v"), time.Hour))
	_, err := s.Get(ctx, k)
	require.Error(t, err)
	require.NotErrorIs(t, err, storage.ErrNotFound)
	_, err = s.Take(ctx, k)
	require.Error(t, err)
	require.Error(t, s.Delete(ctx, k))
	requireCount(t, s, "client:", 1)
}

// A Take whose ZREM fails has still consumed the value, so it returns it; the
// index then counts the key until its expiry, never too few.
func TestTakeReturnsValueWhenIndexFails(t *testing.T) {
	ctx := t.Context()
	client := redistest.NewClient(t, redistest.Start(t))
	s := redis.New(client, redis.WithEveryNamespaceCounted())
	require.NoError(t, s.Save(ctx, "code:1", []byte("v"), time.Hour))
	require.NoError(t, client.Set(ctx, indexKey("code:"), "not a sorted set", 0).Err())

	got, err := s.Take(ctx, "code:1")
	require.NoError(t, err)
	assert.Equal(t, []byte("v"), got)
	_, err = s.Get(ctx, "code:1")
	require.ErrorIs(t, err, storage.ErrNotFound, "the value was consumed")

	err = s.Save(ctx, "code:2", []byte("v"), time.Hour)
	require.Error(t, err, "a Save whose index fails is an error")
	assert.Contains(t, err.Error(), "WRONGTYPE")
}

func requireCount(t *testing.T, c storage.Counter, namespace string, want int) {
	t.Helper()
	n, err := c.Count(t.Context(), namespace)
	require.NoError(t, err)
	require.Equal(t, want, n, namespace)
}
