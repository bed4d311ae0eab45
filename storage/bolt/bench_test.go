package bolt_test

import (
	"fmt"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/oauthproxy-go/oauthproxy/storage/bolt"
)

// benchSizes are typical value sizes: a code record and an upstream token set.
var benchSizes = []int{64, 1024}

// benchKeys is the working-set size for Save and Get.
const benchKeys = 10_000

func openBench(b *testing.B) *bolt.Store {
	b.Helper()
	s, err := bolt.Open(b.TempDir() + "/bench.db")
	require.NoError(b, err)
	b.Cleanup(func() { require.NoError(b, s.Close()) })
	return s
}

// Save fsyncs every write, so it measures the disk as much as the code.
func BenchmarkSave(b *testing.B) {
	for _, size := range benchSizes {
		b.Run(fmt.Sprintf("size=%d", size), func(b *testing.B) {
			ctx := b.Context()
			s := openBench(b)
			value := make([]byte, size)
			b.ReportAllocs()
			b.SetBytes(int64(size))
			i := 0
			for b.Loop() {
				if err := s.Save(ctx, "grant:"+strconv.Itoa(i%benchKeys), value, time.Hour); err != nil {
					b.Fatal(err)
				}
				i++
			}
		})
	}
}

func BenchmarkGet(b *testing.B) {
	for _, size := range benchSizes {
		b.Run(fmt.Sprintf("size=%d", size), func(b *testing.B) {
			ctx := b.Context()
			s := openBench(b)
			value := make([]byte, size)
			keys := make([]string, 100)
			for i := range keys {
				keys[i] = "grant:" + strconv.Itoa(i)
				if err := s.Save(ctx, keys[i], value, time.Hour); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportAllocs()
			b.SetBytes(int64(size))
			i := 0
			for b.Loop() {
				if _, err := s.Get(ctx, keys[i%len(keys)]); err != nil {
					b.Fatal(err)
				}
				i++
			}
		})
	}
}

func BenchmarkTake(b *testing.B) {
	for _, size := range benchSizes {
		b.Run(fmt.Sprintf("size=%d", size), func(b *testing.B) {
			ctx := b.Context()
			s := openBench(b)
			value := make([]byte, size)
			// Every Take needs a value to take, so fill b.N keys outside the timer.
			keys := make([]string, b.N)
			for i := range keys {
				keys[i] = "code:" + strconv.Itoa(i)
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
