package storage_test

import (
	"fmt"
	"strconv"
	"testing"
	"time"

	"github.com/oauthproxy-go/oauthproxy/storage"
)

// benchSizes are typical value sizes: a code record and an upstream token set.
var benchSizes = []int{64, 1024}

// benchKeys is the working-set size: large enough that lookups are not all cache
// hits, small enough to build quickly.
const benchKeys = 10_000

func benchKey(i int) string { return "grant:" + strconv.Itoa(i%benchKeys) }

func BenchmarkMemorySave(b *testing.B) {
	for _, size := range benchSizes {
		b.Run(fmt.Sprintf("size=%d", size), func(b *testing.B) {
			ctx := b.Context()
			m := storage.NewMemory()
			value := make([]byte, size)
			b.ReportAllocs()
			b.SetBytes(int64(size))
			i := 0
			for b.Loop() {
				if err := m.Save(ctx, benchKey(i), value, time.Hour); err != nil {
					b.Fatal(err)
				}
				i++
			}
		})
	}
}

func BenchmarkMemoryGet(b *testing.B) {
	for _, size := range benchSizes {
		b.Run(fmt.Sprintf("size=%d", size), func(b *testing.B) {
			benchGet(b, storage.NewMemory(), size)
		})
	}
}

func BenchmarkEncryptedGet(b *testing.B) {
	for _, size := range benchSizes {
		b.Run(fmt.Sprintf("size=%d", size), func(b *testing.B) {
			benchGet(b, storage.NewEncrypted(storage.NewMemory(), newSealer(b)), size)
		})
	}
}

func benchGet(b *testing.B, s storage.TokenStorage, size int) {
	ctx := b.Context()
	value := make([]byte, size)
	keys := make([]string, benchKeys)
	for i := range keys {
		keys[i] = benchKey(i)
		if err := s.Save(ctx, keys[i], value, time.Hour); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportAllocs()
	b.SetBytes(int64(size))
	i := 0
	for b.Loop() {
		if _, err := s.Get(ctx, keys[i%benchKeys]); err != nil {
			b.Fatal(err)
		}
		i++
	}
}

func BenchmarkMemoryTake(b *testing.B) {
	for _, size := range benchSizes {
		b.Run(fmt.Sprintf("size=%d", size), func(b *testing.B) {
			ctx := b.Context()
			m := storage.NewMemory()
			value := make([]byte, size)
			// Every Take needs a value to take, so fill b.N keys outside the timer.
			keys := make([]string, b.N)
			for i := range keys {
				keys[i] = "code:" + strconv.Itoa(i)
				if err := m.Save(ctx, keys[i], value, time.Hour); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportAllocs()
			b.SetBytes(int64(size))
			b.ResetTimer()
			for i := range b.N {
				if _, err := m.Take(ctx, keys[i]); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkMemoryCount counts a small namespace in a store that holds many
// entries in another: the cost must not grow with the store.
func BenchmarkMemoryCount(b *testing.B) {
	for _, grants := range []int{0, 100_000} {
		b.Run(fmt.Sprintf("grants=%d", grants), func(b *testing.B) {
			ctx := b.Context()
			m := storage.NewMemory()
			for i := range grants {
				if err := m.Save(ctx, "grant:"+strconv.Itoa(i), nil, time.Hour); err != nil {
					b.Fatal(err)
				}
			}
			for i := range 1000 {
				if err := m.Save(ctx, "client:"+strconv.Itoa(i), nil, time.Hour); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportAllocs()
			for b.Loop() {
				if n, err := m.Count(ctx, "client:"); err != nil || n != 1000 {
					b.Fatal(n, err)
				}
			}
		})
	}
}
