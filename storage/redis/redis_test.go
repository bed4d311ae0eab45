package redis_test

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"net"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/oauthproxy-go/oauthproxy/crypto"
	"github.com/oauthproxy-go/oauthproxy/storage"
	"github.com/oauthproxy-go/oauthproxy/storage/redis"
	"github.com/oauthproxy-go/oauthproxy/storage/redis/redistest"
	"github.com/oauthproxy-go/oauthproxy/storage/storagetest"
)

// One server serves a whole conformance run; each subtest gets its own prefix, so
// subtests cannot see each other's keys.
func TestConformance(t *testing.T) {
	t.Parallel()
	client := redistest.NewClient(t, redistest.Start(t))
	storagetest.Run(t, func(t *testing.T) storage.TokenStorage {
		return redis.New(client, redis.WithPrefix(t.Name()+":"), redis.WithEveryNamespaceCounted())
	})
}

func TestEncryptedConformance(t *testing.T) {
	t.Parallel()
	client := redistest.NewClient(t, redistest.Start(t))
	sealer := newSealer(t)
	storagetest.Run(t, func(t *testing.T) storage.TokenStorage {
		return storage.NewEncrypted(redis.New(client, redis.WithPrefix(t.Name()+":"), redis.WithEveryNamespaceCounted()), sealer)
	})
}

func TestPersistent(t *testing.T) {
	// No server needed: New does not talk to Redis.
	s := redis.New(redistest.NewClient(t, "127.0.0.1:1"))
	assert.True(t, s.Persistent())
	assert.True(t, storage.NewEncrypted(s, newSealer(t)).Persistent())
}

func TestNewPanicsWithoutClient(t *testing.T) {
	assert.Panics(t, func() { redis.New(nil) })
}

func TestTTLIsMilliseconds(t *testing.T) {
	ctx := t.Context()
	client := redistest.NewClient(t, redistest.Start(t))
	s := redis.New(client)

	require.NoError(t, s.Save(ctx, "a", []byte("v"), 1500*time.Millisecond))
	pttl, err := client.PTTL(ctx, redis.DefaultPrefix+"a").Result()
	require.NoError(t, err)
	assert.Greater(t, pttl, time.Second, "a 1.5 s TTL is not rounded down to whole seconds")
	assert.LessOrEqual(t, pttl, 1500*time.Millisecond)

	// A sub-millisecond TTL becomes 1 ms, not "no expiry" (PX 0 is an error).
	require.NoError(t, s.Save(ctx, "tiny", []byte("v"), time.Microsecond))
	require.Eventually(t, func() bool {
		_, err := s.Get(ctx, "tiny")
		return errors.Is(err, storage.ErrNotFound)
	}, time.Second, 5*time.Millisecond)

	for _, ttl := range []time.Duration{0, -time.Second} {
		k := fmt.Sprintf("forever%d", ttl)
		require.NoError(t, s.Save(ctx, k, []byte("v"), ttl))
		pttl, err := client.PTTL(ctx, redis.DefaultPrefix+k).Result()
		require.NoError(t, err)
		assert.Equal(t, time.Duration(-1), pttl, "ttl %v stores a key without expiry", ttl)
	}
}

func TestKeyPrefix(t *testing.T) {
	ctx := t.Context()
	client := redistest.NewClient(t, redistest.Start(t))

	require.NoError(t, redis.New(client).Save(ctx, "code:1", []byte("default"), time.Hour))
	require.NoError(t, redis.New(client, redis.WithPrefix("app1:")).Save(ctx, "code:1", []byte("custom"), time.Hour))
	require.NoError(t, redis.New(client, redis.WithPrefix("")).Save(ctx, "code:1", []byte("bare"), time.Hour))

	for raw, want := range map[string]string{
		"oauthproxy:code:1": "default",
		"app1:code:1":       "custom",
		"code:1":            "bare",
	} {
		got, err := client.Get(ctx, raw).Result()
		require.NoError(t, err, raw)
		assert.Equal(t, want, got, raw)
	}

	// Stores with different prefixes do not see each other's keys.
	require.NoError(t, redis.New(client, redis.WithPrefix("app1:")).Delete(ctx, "code:1"))
	got, err := redis.New(client).Get(ctx, "code:1")
	require.NoError(t, err)
	assert.Equal(t, []byte("default"), got)
}

func TestEncryptedValuesAreSealedInRedis(t *testing.T) {
	ctx := t.Context()
	client := redistest.NewClient(t, redistest.Start(t))
	s := storage.NewEncrypted(redis.New(client), newSealer(t))

	require.NoError(t, s.Save(ctx, "grant:1", []byte("upstream-refresh-token"), time.Hour))
	raw, err := client.Get(ctx, redis.DefaultPrefix+"grant:1").Bytes()
	require.NoError(t, err)
	assert.NotContains(t, string(raw), "upstream-refresh-token")
}

func TestStoppedServerIsAnErrorNotAMiss(t *testing.T) {
	ctx := t.Context()
	server := redistest.StartWithOptions(t, redistest.Options{})
	s := redis.New(redistest.NewClient(t, server.Addr()), redis.WithEveryNamespaceCounted())
	require.NoError(t, s.Save(ctx, "code:1", []byte("v"), time.Hour))
	server.Stop()

	calls := map[string]func() error{
		"Save":   func() error { return s.Save(ctx, "code:1", []byte("v"), time.Hour) },
		"Get":    func() error { _, err := s.Get(ctx, "code:1"); return err },
		"Take":   func() error { _, err := s.Take(ctx, "code:1"); return err },
		"Delete": func() error { return s.Delete(ctx, "code:1") },
		// A count that fails must not read as an empty namespace, or a quota
		// would admit everything during an outage.
		"Count":   func() error { _, err := s.Count(ctx, "code:"); return err },
		"Cleanup": func() error { return s.Cleanup(ctx) },
	}
	for name, call := range calls {
		err := call()
		require.Error(t, err, name)
		assert.NotErrorIs(t, err, storage.ErrNotFound, name)
		assert.Contains(t, err.Error(), "storage/redis:", name)
	}

	// The store recovers when the server comes back.
	server.Start()
	_, err := s.Get(ctx, "code:1")
	require.ErrorIs(t, err, storage.ErrNotFound, "a non-persistent server restarts empty")
}

func TestContextDeadline(t *testing.T) {
	addr := redistest.Start(t)
	admin := redistest.NewClient(t, addr)
	s := redis.New(redistest.NewClient(t, addr))
	require.NoError(t, s.Save(t.Context(), "code:1", []byte("v"), time.Hour))

	// CLIENT PAUSE holds every command, as an overloaded server would. It cannot
	// be lifted early (UNPAUSE is held too), but stopping the server ends it.
	require.NoError(t, admin.Do(t.Context(), "client", "pause", 10_000, "all").Err())
	assertDeadlineHonoured(t, s)
}

// TestContextDeadlineSilentServer points the store at a listener that accepts
// connections and never answers, so even the connection handshake hangs.
func TestContextDeadlineSilentServer(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	t.Cleanup(func() { _ = l.Close() })
	go func() {
		for {
			conn, err := l.Accept()
			if err != nil {
				return
			}
			t.Cleanup(func() { _ = conn.Close() })
		}
	}()
	assertDeadlineHonoured(t, redis.New(redistest.NewClient(t, l.Addr().String())))
}

// assertDeadlineHonoured checks that Get, Take and Save against a server that
// does not answer return a deadline error soon after a 100 ms deadline. The bound
// is loose for loaded CI machines; without the deadline they would wait seconds.
func assertDeadlineHonoured(t *testing.T, s *redis.Store) {
	t.Helper()
	calls := []struct {
		name string
		fn   func(ctx context.Context) error
	}{
		{"Get", func(ctx context.Context) error { _, err := s.Get(ctx, "code:1"); return err }},
		{"Take", func(ctx context.Context) error { _, err := s.Take(ctx, "code:1"); return err }},
		{"Save", func(ctx context.Context) error { return s.Save(ctx, "code:2", []byte("w"), time.Hour) }},
	}
	for _, c := range calls {
		ctx, cancel := context.WithTimeout(t.Context(), 100*time.Millisecond)
		start := time.Now()
		err := c.fn(ctx)
		elapsed := time.Since(start)
		cancel()
		require.Error(t, err, c.name)
		assert.ErrorIs(t, err, context.DeadlineExceeded, c.name)
		assert.NotErrorIs(t, err, storage.ErrNotFound, c.name)
		assert.Less(t, elapsed, time.Second, "%s outlived its deadline", c.name)
	}
}

func newSealer(t testing.TB) *crypto.Sealer {
	t.Helper()
	key := make([]byte, crypto.KeySize)
	_, _ = rand.Read(key) // crypto/rand.Read never fails
	sealer, err := crypto.NewSealer(key)
	require.NoError(t, err)
	return sealer
}
