package oauthproxy_test

// The proxy's lifecycle: New starts one cleanup goroutine, Destroy stops it,
// once, from any number of goroutines, and leaves nothing running.

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/oauthproxy-go/oauthproxy"
	"github.com/oauthproxy-go/oauthproxy/storage"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"
)

// TestMain fails the package if any test leaves a goroutine behind: every
// Proxy destroyed, every httptest server closed, every idle connection of a
// test's own transport closed.
func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

// lifecycleConfig is a valid Config whose cleanup loop ticks every 10 ms.
func lifecycleConfig(store storage.TokenStorage) oauthproxy.Config {
	cfg := validConfig()
	cfg.CleanupInterval = 10 * time.Millisecond
	cfg.TokenStorage = store
	return cfg
}

func TestDestroy_Idempotent(t *testing.T) {
	p, err := oauthproxy.New(lifecycleConfig(nil))
	require.NoError(t, err)
	p.Destroy()
	p.Destroy()
	p.Destroy()
}

func TestDestroy_ConcurrentSafe(t *testing.T) {
	store := newRecordingStore(storage.NewMemory())
	p, err := oauthproxy.New(lifecycleConfig(store))
	require.NoError(t, err)
	require.Eventually(t, func() bool { return store.cleanupCount() > 0 }, 5*time.Second, time.Millisecond)

	var wg sync.WaitGroup
	start := make(chan struct{})
	for range 16 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			p.Destroy()
		}()
	}
	close(start)
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("concurrent Destroy calls did not all return")
	}
	p.Destroy() // and once more after all of them
}

func TestDestroy_LeavesNoGoroutine(t *testing.T) {
	before := goleak.IgnoreCurrent()
	store := newRecordingStore(storage.NewMemory())
	p, err := oauthproxy.New(lifecycleConfig(store))
	require.NoError(t, err)
	// Let the loop tick a few times, so its per-tick goroutines have run too.
	require.Eventually(t, func() bool { return store.cleanupCount() >= 3 }, 5*time.Second, time.Millisecond)
	p.Destroy()
	goleak.VerifyNone(t, before)
}

func TestDestroy_LeavesNoGoroutineAfterAFlow(t *testing.T) {
	before := goleak.IgnoreCurrent()
	t.Run("flow", func(t *testing.T) {
		// Its cleanups (Destroy, closing the upstream and idle connections)
		// run when the subtest ends.
		d := newDirect(t)
		tok := d.tokens(d.register("none"))
		_, err := d.p.LoadUpstreamTokens(d.ctx, tok.AccessToken)
		require.NoError(t, err)
	})
	goleak.VerifyNone(t, before)
}

func TestCleanupLoop_CallsStorageCleanup(t *testing.T) {
	store := newRecordingStore(storage.NewMemory())
	p, err := oauthproxy.New(lifecycleConfig(store))
	require.NoError(t, err)
	require.Eventually(t, func() bool { return store.cleanupCount() >= 3 }, 5*time.Second, time.Millisecond,
		"Cleanup runs every CleanupInterval")

	p.Destroy()
	stopped := store.cleanupCount()
	time.Sleep(50 * time.Millisecond) // five intervals
	assert.Equal(t, stopped, store.cleanupCount(), "no Cleanup after Destroy")
}

func TestCleanupLoop_RemovesExpiredEntries(t *testing.T) {
	clock := newStepClock()
	mem := storage.NewMemoryWithClock(clock.Now)
	cfg := lifecycleConfig(mem)
	cfg.Now = clock.Now
	p, err := oauthproxy.New(cfg)
	require.NoError(t, err)
	defer p.Destroy()

	_, err = p.RegisterClient(context.Background(), &oauthproxy.ClientMetadata{
		RedirectURIs: []string{clientRedirect}, TokenEndpointAuthMethod: "none",
	})
	require.NoError(t, err)
	require.Equal(t, 1, mem.Len())
	clock.Advance(oauthproxy.DefaultClientIdleTTL)
	require.Eventually(t, func() bool { return mem.Len() == 0 }, 5*time.Second, time.Millisecond,
		"the idle client's registration is removed by the loop, not only hidden")
}

// blockingStore's Cleanup blocks until its context ends and reports why.
type blockingStore struct {
	storage.TokenStorage
	entered chan struct{}
	once    sync.Once
	ended   chan error
}

func (s *blockingStore) Cleanup(ctx context.Context) error {
	s.once.Do(func() { close(s.entered) })
	<-ctx.Done()
	select {
	case s.ended <- ctx.Err():
	default:
	}
	return ctx.Err()
}

func TestDestroy_CancelsASlowCleanup(t *testing.T) {
	store := &blockingStore{TokenStorage: storage.NewMemory(), entered: make(chan struct{}), ended: make(chan error, 1)}
	cfg := lifecycleConfig(store)
	cfg.CleanupInterval = 500 * time.Millisecond // also Cleanup's own deadline
	p, err := oauthproxy.New(cfg)
	require.NoError(t, err)
	select {
	case <-store.entered:
	case <-time.After(5 * time.Second):
		t.Fatal("Cleanup was never called")
	}

	done := make(chan struct{})
	go func() { p.Destroy(); close(done) }()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("Destroy waited for a Cleanup that does not return")
	}
	err = <-store.ended
	assert.True(t, errors.Is(err, context.Canceled), "Destroy cancels Cleanup rather than waiting for its deadline: %v", err)
}

func TestDestroy_StorageOutlivesTheProxy(t *testing.T) {
	// The storage belongs to the caller: a new proxy over it, with the same
	// keys, still knows what the old one stored.
	mem := storage.NewMemory()
	p, err := oauthproxy.New(lifecycleConfig(mem))
	require.NoError(t, err)
	info, err := p.RegisterClient(context.Background(), &oauthproxy.ClientMetadata{RedirectURIs: []string{clientRedirect}})
	require.NoError(t, err)
	p.Destroy()

	p2, err := oauthproxy.New(lifecycleConfig(mem))
	require.NoError(t, err)
	defer p2.Destroy()
	_, err = p2.ExchangeAuthorizationCode(context.Background(), &oauthproxy.TokenRequest{
		GrantType: "authorization_code", Code: "x", CodeVerifier: "y",
		Client: oauthproxy.ClientCredentials{ClientID: info.ClientID, ClientSecret: info.ClientSecret, Method: "client_secret_basic"},
	})
	// The client authenticated (so it is known); only the code is unknown.
	assert.Equal(t, oauthproxy.ErrCodeInvalidGrant, oauthErr(t, err).Code)
}
