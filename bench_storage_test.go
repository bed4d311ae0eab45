package oauthproxy_test

import (
	"context"
	"crypto/rand"
	"fmt"
	"runtime"
	"runtime/debug"
	"slices"
	"sync/atomic"
	"testing"
	"time"

	"github.com/oauthproxy-go/oauthproxy/internal/loadtest"
	"github.com/oauthproxy-go/oauthproxy/storage"
)

// BenchmarkStorage times the in-memory store, bare and under the proxy's
// encryption, with the proxy's key shapes and a typical grant (the upstream
// token set with a Google-sized id_token). get-miss is the bearer check's
// revocation lookup. The Redis and bolt backends have their own benchmarks.
func BenchmarkStorage(b *testing.B) {
	f := newBenchFixture(b)
	_, tok := f.tokens(b)
	grant := f.grantJSON(b, tok.AccessToken)
	const live = 10_000
	keys := make([]string, live)
	for i := range keys {
		keys[i] = "grant:" + fakeUUID(i)
	}
	for _, backend := range []struct {
		name string
		new  func() storage.TokenStorage
	}{
		{"memory", func() storage.TokenStorage { return storage.NewMemory() }},
		{"encrypted", func() storage.TokenStorage { return storage.NewEncrypted(storage.NewMemory(), newSealer(b)) }},
	} {
		ctx := context.Background()
		s := backend.new()
		for _, k := range keys {
			if err := s.Save(ctx, k, grant, time.Hour); err != nil {
				b.Fatal(err)
			}
		}
		b.Run(backend.name+"/save", func(b *testing.B) {
			i := 0
			measure(b, nil, func() {
				if err := s.Save(ctx, keys[i%live], grant, time.Hour); err != nil {
					b.Fatal(err)
				}
				i++
			})
		})
		b.Run(backend.name+"/get", func(b *testing.B) {
			i := 0
			measure(b, nil, func() {
				if _, err := s.Get(ctx, keys[i%live]); err != nil {
					b.Fatal(err)
				}
				i++
			})
		})
		b.Run(backend.name+"/get-miss", func(b *testing.B) {
			miss := "revoked:" + fakeUUID(live+1)
			measure(b, nil, func() {
				if _, err := s.Get(ctx, miss); err == nil {
					b.Fatal("hit")
				}
			})
		})
		b.Run(backend.name+"/take", func(b *testing.B) {
			// Take empties the slot it reads: after a pass over the keys they
			// are put back with the timer stopped. (-count reruns this with the
			// same store, so start full.)
			refill := func() {
				for _, k := range keys {
					if err := s.Save(ctx, k, grant, time.Hour); err != nil {
						b.Fatal(err)
					}
				}
			}
			refill()
			var paused time.Duration
			i := 0
			loadtest.Measure(b, &paused, func() {
				if i == live {
					b.StopTimer()
					t := loadtest.CPUTime()
					refill()
					paused += loadtest.CPUTime() - t
					b.StartTimer()
					i = 0
				}
				if _, err := s.Take(ctx, keys[i]); err != nil {
					b.Fatal(err)
				}
				i++
			})
		})
	}
}

// fakeUUID is a UUID-shaped key part (36 bytes), distinct per i.
func fakeUUID(i int) string {
	return fmt.Sprintf("%08x-%04x-4%03x-8%03x-%012x", i, i>>16&0xffff, i&0xfff, i>>8&0xfff, i*2654435761&0xffffffffffff)
}

// BenchmarkMemoryGrants fills the in-memory store with a million live grants
// and reports the heap each costs beyond its sealed payload (overhead-B/grant:
// map slot, entry, key copy, expiry-heap slot, size-class rounding), then
// times Get at that size. sealed=512 is a GitHub grant, sealed=2078 a Google
// one with its id_token.
func BenchmarkMemoryGrants(b *testing.B) {
	const grants = 1_000_000
	for _, size := range []int{512, 2078} {
		b.Run(fmt.Sprintf("grants=1e6/sealed=%d", size), func(b *testing.B) {
			ctx := context.Background()
			keys := make([]string, grants)
			for i := range keys {
				keys[i] = "grant:" + fakeUUID(i)
			}
			value := make([]byte, size)
			_, _ = rand.Read(value)
			// Collect often while filling, so the peak stays near the live heap.
			defer debug.SetGCPercent(debug.SetGCPercent(20))
			before := liveHeap()
			m := storage.NewMemory()
			for _, k := range keys {
				if err := m.Save(ctx, k, value, 30*24*time.Hour); err != nil {
					b.Fatal(err)
				}
			}
			after := liveHeap()
			debug.SetGCPercent(100)

			i := 0
			measure(b, nil, func() {
				if _, err := m.Get(ctx, keys[i%grants]); err != nil {
					b.Fatal(err)
				}
				i += 7919 // a prime stride: no cache-friendly order
			})
			runtime.KeepAlive(m)
			perGrant := float64(after-before) / grants
			b.ReportMetric(perGrant, "heap-B/grant")
			b.ReportMetric(perGrant-float64(size), "overhead-B/grant")
		})
	}
}

func liveHeap() uint64 {
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return ms.HeapAlloc
}

// BenchmarkMemoryCleanup measures what cleaning up a million expired entries
// does to requests: the latency of Get on live keys with no cleanup running,
// then while Cleanup removes the million, on two CPUs (the reader and the
// sweeper). It reports both p99s, their ratio (target: at most 2), the worst
// Get and how long the cleanup took.
func BenchmarkMemoryCleanup(b *testing.B) {
	const expired, live = 1_000_000, 10_000
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(max(2, runtime.GOMAXPROCS(0))))
	ctx := context.Background()
	var clock atomic.Int64
	clock.Store(time.Now().UnixNano())
	m := storage.NewMemoryWithClock(func() time.Time { return time.Unix(0, clock.Load()) })
	value := make([]byte, 256) // a code, transaction or refresh record
	liveKeys := make([]string, live)
	for i := range liveKeys {
		liveKeys[i] = "refresh:" + fakeUUID(i)
		if err := m.Save(ctx, liveKeys[i], value, time.Hour); err != nil {
			b.Fatal(err)
		}
	}
	for i := range expired {
		if err := m.Save(ctx, "code:"+fakeUUID(live+i), value, time.Second); err != nil {
			b.Fatal(err)
		}
	}
	clock.Add(int64(2 * time.Second))
	runtime.GC()

	// reads times Gets until done is closed.
	reads := func(done <-chan struct{}) []time.Duration {
		lat := make([]time.Duration, 0, 1<<20)
		for i := 0; ; i++ {
			select {
			case <-done:
				return lat
			default:
			}
			t := time.Now()
			if _, err := m.Get(ctx, liveKeys[i%live]); err != nil {
				b.Error(err)
				return lat
			}
			lat = append(lat, time.Since(t))
		}
	}

	var base, during []time.Duration
	var took time.Duration
	for b.Loop() { // once: the store is emptied by the first cleanup
		if base != nil {
			continue
		}
		stop := make(chan struct{})
		time.AfterFunc(time.Second, func() { close(stop) })
		base = reads(stop)

		cleaned := make(chan struct{})
		start := time.Now()
		go func() {
			defer close(cleaned)
			if err := m.Cleanup(ctx); err != nil {
				b.Error(err)
			}
			took = time.Since(start)
		}()
		during = reads(cleaned)
	}
	if m.Len() != live {
		b.Fatalf("%d entries left, want %d", m.Len(), live)
	}
	slices.Sort(base)
	slices.Sort(during)
	p99 := func(d []time.Duration) float64 { return float64(d[len(d)*99/100]) }
	b.ReportMetric(p99(base), "p99-get-ns")
	b.ReportMetric(p99(during), "p99-get-during-cleanup-ns")
	b.ReportMetric(p99(during)/p99(base), "p99-ratio")
	b.ReportMetric(float64(during[len(during)-1])/1e3, "max-get-during-cleanup-µs")
	b.ReportMetric(float64(took)/1e6, "cleanup-ms")
}
