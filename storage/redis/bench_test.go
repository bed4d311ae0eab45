package redis_test

import (
	"fmt"
	"strconv"
	"testing"
	"time"

	"github.com/oauthproxy-go/oauthproxy/storage/redis"
	"github.com/oauthproxy-go/oauthproxy/storage/redis/redistest"
)

// benchSizes are typical value sizes: a code record and an upstream token set.
var benchSizes = []int{64, 1024}

func newBenchStore(b *testing.B) *redis.Store {
	b.Helper()
	return redis.New(redistest.NewClient(b, redistest.Start(b)))
}

func BenchmarkSave(b *testing.B) {
	s := newBenchStore(b)
	for _, size := range benchSizes {
		b.Run(fmt.Sprintf("size=%d", size), func(b *testing.B) {
			ctx := b.Context()
			value := make([]byte, size)
			b.ReportAllocs()
			b.SetBytes(int64(size))
			i := 0
			for b.Loop() {
				if err := s.Save(ctx, "grant:"+strconv.Itoa(i%10_000), value, time.Hour); err != nil {
					b.Fatal(err)
				}
				i++
			}
		})
	}
}

func BenchmarkGet(b *testing.B) {
	s := newBenchStore(b)
	for _, size := range benchSizes {
		b.Run(fmt.Sprintf("size=%d", size), func(b *testing.B) {
			ctx := b.Context()
			key := fmt.Sprintf("grant:%d", size)
			if err := s.Save(ctx, key, make([]byte, size), time.Hour); err != nil {
				b.Fatal(err)
			}
			b.ReportAllocs()
			b.SetBytes(int64(size))
			for b.Loop() {
				if _, err := s.Get(ctx, key); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func BenchmarkTake(b *testing.B) {
	s := newBenchStore(b)
	for _, size := range benchSizes {
		b.Run(fmt.Sprintf("size=%d", size), func(b *testing.B) {
			ctx := b.Context()
			value := make([]byte, size)
			// Every Take needs a value to take, so fill b.N keys outside the timer.
			keys := make([]string, b.N)
			for i := range keys {
				keys[i] = fmt.Sprintf("code:%d:%d", size, i)
				if err := s.Save(ctx, keys[i], value, time.Hour); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportAllocs()
			b.SetBytes(int64(size))
			b.ResetTimer()
			for i := range b.N {
				if _, err := s.Take(ctx, keys[i]); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
