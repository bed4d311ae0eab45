package oauthproxy_test

// Destroy in the middle of traffic (issue 8, item 3): it stops the cleanup
// loop and nothing else; requests keep getting answers, nothing panics and no
// goroutine stays behind.

import (
	"context"
	"net/http"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/oauthproxy-go/oauthproxy"
	"github.com/oauthproxy-go/oauthproxy/storage"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"
)

// TestShutdown_DestroyDuringTraffic destroys the proxy while flows of every
// kind (bad requests included) run over loopback HTTP: Destroy returns at
// once from several goroutines, the cleanup loop stops, and the traffic goes
// on getting the answers it expects, before and after. Then nothing is left
// running.
func TestShutdown_DestroyDuringTraffic(t *testing.T) {
	leakBaseline := goleak.IgnoreCurrent()
	t.Run("traffic", func(t *testing.T) {
		const workers, before, after, maxFlows = 8, 40, 40, 2000
		store := newRecordingStore(storage.NewMemory())
		rig := newShutRig(t, soakRigOptions{Concurrency: workers, Serve: true, Store: store, Config: func(c *oauthproxy.Config) {
			c.CleanupInterval = 5 * time.Millisecond
		}})
		ledger := newSoakLedger()
		done := func() int {
			ledger.mu.Lock()
			defer ledger.mu.Unlock()
			n := 0
			for _, k := range ledger.flows {
				n += k
			}
			return n + len(ledger.failures)
		}
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
		defer cancel()
		stop := make(chan struct{})
		var next atomic.Int64
		var wg sync.WaitGroup
		for range workers {
			wg.Go(func() {
				for {
					select {
					case <-stop:
						return
					default:
					}
					i := int(next.Add(1)) - 1
					if i >= maxFlows || ctx.Err() != nil {
						return
					}
					(&soakFlow{ctx: ctx, rig: rig, l: ledger, kind: soakKind(i % int(soakKinds)), i: i, rnd: newSoakRand(i)}).run()
				}
			})
		}
		waitFor := func(what string, cond func() bool) {
			t.Helper()
			deadline := time.Now().Add(time.Minute)
			for !cond() {
				if time.Now().After(deadline) {
					close(stop)
					wg.Wait()
					t.Fatalf("timed out waiting for %s", what)
				}
				time.Sleep(5 * time.Millisecond)
			}
		}
		waitFor("flows before Destroy", func() bool { return done() >= before && store.cleanupCount() > 0 })

		var destroyers sync.WaitGroup
		destroyStart := time.Now()
		for range 4 {
			destroyers.Go(rig.p.Destroy)
		}
		destroyers.Wait()
		destroyTook := time.Since(destroyStart)
		atDestroy, cleanups := done(), store.cleanupCount()

		waitFor("flows after Destroy", func() bool { return done() >= atDestroy+after })
		close(stop)
		wg.Wait()
		sum := ledger.summary()
		t.Logf("Destroy took %s with %d flows done; %d flows in all; cleanups %d", destroyTook, atDestroy, sum.Flows, cleanups)

		assert.Less(t, destroyTook, shutPrompt, "Destroy does not wait for the traffic")
		assert.Empty(t, sum.Failures, "every request before and after Destroy got its expected answer:\n%v", errorsJoinShort(sum.Errs, soakMaxErrs))
		assert.LessOrEqual(t, sum.MaxCodeWins, 1)
		assert.LessOrEqual(t, sum.MaxRTWins, 1)
		assert.Equal(t, cleanups, store.cleanupCount(), "no storage cleanup after Destroy")
	})
	// Every server closed, every connection gone, the cleanup loop ended.
	goleak.VerifyNone(t, leakBaseline)
}

// TestShutdown_DestroyWithRequestsInFlight: a callback hung at the upstream
// does not hold Destroy up, and completes normally when the upstream answers.
func TestShutdown_DestroyWithRequestsInFlight(t *testing.T) {
	leakBaseline := goleak.IgnoreCurrent()
	t.Run("in flight", func(t *testing.T) {
		sig := &shutSignal{}
		rig := newShutRig(t, soakRigOptions{Config: func(c *oauthproxy.Config) {
			sig.next = c.HTTPClient.Transport
			c.HTTPClient = &http.Client{Transport: sig, Timeout: time.Minute}
		}})
		f := &shutFlow{t: t, rig: rig}
		step := f.until("callback")
		entered := sig.expect("/token")
		release := make(chan struct{})
		rig.idp.HangNext(release)
		result := make(chan error, 1)
		go func() { result <- step(f, context.Background()) }()
		select {
		case <-entered:
		case <-time.After(shutReach):
			close(release)
			t.Fatal("the callback never reached the upstream")
		}
		destroyed := make(chan struct{})
		go func() { rig.p.Destroy(); close(destroyed) }()
		select {
		case <-destroyed:
		case <-time.After(shutPrompt):
			close(release)
			<-destroyed
			t.Fatal("Destroy waited for a request in flight")
		}
		close(release)
		require.NoError(t, <-result, "the request in flight completes after Destroy")
		_, err := rig.p.ExchangeAuthorizationCode(context.Background(), codeRequest(f.client, f.code, f.verifier))
		require.NoError(t, err, "and its code is good")
	})
	goleak.VerifyNone(t, leakBaseline)
}
