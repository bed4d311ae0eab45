// Package storagetest is a conformance suite for storage.TokenStorage backends.
// Every backend's tests should call Run, so all backends agree on the contract in
// package storage.
package storagetest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/oauthproxy-go/oauthproxy/storage"
)

const (
	// shortTTL is long enough to read a value back right after saving it, even
	// under the race detector, and short enough to keep the suite fast.
	shortTTL = 150 * time.Millisecond
	// waitFor bounds every Eventually; expiry should happen well within it.
	waitFor = 5 * time.Second
	tick    = 10 * time.Millisecond
	// hangTimeout is how long a call with a cancelled context may take before the
	// suite calls it hung.
	hangTimeout = 5 * time.Second
)

// Run runs the conformance suite. newStorage is called once per subtest and must
// return a store that is empty, or at least holds none of the keys the subtest uses
// (keys and namespaces are named after the subtest so shared servers are safe).
// The Count subtests run when the store implements storage.Counter, and the
// Scan subtests when it implements storage.Scanner; they are skipped otherwise.
func Run(t *testing.T, newStorage func(t *testing.T) storage.TokenStorage) {
	t.Helper()
	tests := []struct {
		name string
		fn   func(t *testing.T, s storage.TokenStorage)
	}{
		{"RoundTrip", testRoundTrip},
		{"Overwrite", testOverwrite},
		{"NotFound", testNotFound},
		{"TTLExpiry", testTTLExpiry},
		{"NoExpiry", testNoExpiry},
		{"TakeOnce", testTakeOnce},
		{"TakeExpired", testTakeExpired},
		{"TakeConcurrent", testTakeConcurrent},
		{"Delete", testDelete},
		{"Cleanup", testCleanup},
		{"LargeValue", testLargeValue},
		{"BinaryValues", testBinaryValues},
		{"NoAliasing", testNoAliasing},
		{"CancelledContext", testCancelledContext},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.fn(t, newStorage(t))
		})
	}
	for _, tt := range countTests {
		t.Run(tt.name, func(t *testing.T) {
			s := newStorage(t)
			tt.fn(t, s, counter(t, s))
		})
	}
	for _, tt := range scanTests {
		t.Run(tt.name, func(t *testing.T) {
			s := newStorage(t)
			tt.fn(t, s, scanner(t, s))
		})
	}
}

// key namespaces k by the running test, so parallel runs against one server and
// leftovers from earlier runs cannot collide.
func key(t *testing.T, k string) string {
	return "storagetest:" + t.Name() + ":" + k
}

func testRoundTrip(t *testing.T, s storage.TokenStorage) {
	ctx := t.Context()
	k := key(t, "a")
	require.NoError(t, s.Save(ctx, k, []byte("value-a"), time.Hour))

	got, err := s.Get(ctx, k)
	require.NoError(t, err)
	assert.Equal(t, []byte("value-a"), got)

	again, err := s.Get(ctx, k)
	require.NoError(t, err, "Get does not consume")
	assert.Equal(t, []byte("value-a"), again)
}

func testOverwrite(t *testing.T, s storage.TokenStorage) {
	ctx := t.Context()
	k := key(t, "a")
	require.NoError(t, s.Save(ctx, k, []byte("first, longer value"), time.Hour))
	require.NoError(t, s.Save(ctx, k, []byte("second"), time.Hour))

	got, err := s.Get(ctx, k)
	require.NoError(t, err)
	assert.Equal(t, []byte("second"), got)

	// An overwrite also replaces the TTL: a short-lived value made permanent stays.
	short := key(t, "short")
	require.NoError(t, s.Save(ctx, short, []byte("v1"), shortTTL))
	require.NoError(t, s.Save(ctx, short, []byte("v2"), 0))
	waitExpired(t, s, shortLived(t, s))
	got, err = s.Get(ctx, short)
	require.NoError(t, err)
	assert.Equal(t, []byte("v2"), got)
}

func testNotFound(t *testing.T, s storage.TokenStorage) {
	ctx := t.Context()
	k := key(t, "missing")

	got, err := s.Get(ctx, k)
	require.ErrorIs(t, err, storage.ErrNotFound)
	assert.Nil(t, got)

	got, err = s.Take(ctx, k)
	require.ErrorIs(t, err, storage.ErrNotFound)
	assert.Nil(t, got)
}

func testTTLExpiry(t *testing.T, s storage.TokenStorage) {
	ctx := t.Context()
	k := key(t, "a")
	require.NoError(t, s.Save(ctx, k, []byte("v"), shortTTL))
	got, err := s.Get(ctx, k)
	require.NoError(t, err, "readable before its TTL")
	assert.Equal(t, []byte("v"), got)

	waitExpired(t, s, k)
}

func testNoExpiry(t *testing.T, s storage.TokenStorage) {
	ctx := t.Context()
	zero, negative := key(t, "zero"), key(t, "negative")
	require.NoError(t, s.Save(ctx, zero, []byte("z"), 0))
	require.NoError(t, s.Save(ctx, negative, []byte("n"), -time.Second))

	// Outlive a value with a real TTL, and a cleanup, before checking.
	waitExpired(t, s, shortLived(t, s))
	require.NoError(t, s.Cleanup(ctx))

	for k, want := range map[string]string{zero: "z", negative: "n"} {
		got, err := s.Get(ctx, k)
		require.NoError(t, err, "ttl <= 0 never expires: %s", k)
		assert.Equal(t, []byte(want), got)
	}
}

func testTakeOnce(t *testing.T, s storage.TokenStorage) {
	ctx := t.Context()
	k := key(t, "code")
	require.NoError(t, s.Save(ctx, k, []byte("grant-1"), time.Hour))

	got, err := s.Take(ctx, k)
	require.NoError(t, err)
	assert.Equal(t, []byte("grant-1"), got)

	_, err = s.Take(ctx, k)
	require.ErrorIs(t, err, storage.ErrNotFound, "second Take")
	_, err = s.Get(ctx, k)
	require.ErrorIs(t, err, storage.ErrNotFound, "Get after Take")
}

func testTakeExpired(t *testing.T, s storage.TokenStorage) {
	ctx := t.Context()
	k := shortLived(t, s)
	waitExpired(t, s, k)
	_, err := s.Take(ctx, k)
	require.ErrorIs(t, err, storage.ErrNotFound)
}

func testTakeConcurrent(t *testing.T, s storage.TokenStorage) {
	const takers = 50
	ctx := t.Context()
	k := key(t, "code")
	require.NoError(t, s.Save(ctx, k, []byte("once"), time.Hour))

	var (
		wg    sync.WaitGroup
		start = make(chan struct{})
		errs  = make(chan error, takers)
		wins  = make(chan []byte, takers)
	)
	for range takers {
		wg.Go(func() {
			<-start
			v, err := s.Take(ctx, k)
			if err != nil {
				errs <- err
				return
			}
			wins <- v
		})
	}
	close(start)
	wg.Wait()
	close(errs)
	close(wins)

	require.Len(t, wins, 1, "exactly one Take succeeds")
	assert.Equal(t, []byte("once"), <-wins)
	for err := range errs {
		require.ErrorIs(t, err, storage.ErrNotFound)
	}
}

func testDelete(t *testing.T, s storage.TokenStorage) {
	ctx := t.Context()
	k, other := key(t, "a"), key(t, "b")
	require.NoError(t, s.Save(ctx, k, []byte("v"), time.Hour))
	require.NoError(t, s.Save(ctx, other, []byte("w"), time.Hour))

	require.NoError(t, s.Delete(ctx, k))
	_, err := s.Get(ctx, k)
	require.ErrorIs(t, err, storage.ErrNotFound)

	got, err := s.Get(ctx, other)
	require.NoError(t, err, "Delete touches only its key")
	assert.Equal(t, []byte("w"), got)

	require.NoError(t, s.Delete(ctx, k), "deleting twice")
	require.NoError(t, s.Delete(ctx, key(t, "never-saved")), "deleting a missing key")
}

func testCleanup(t *testing.T, s storage.TokenStorage) {
	ctx := t.Context()
	live, forever := key(t, "live"), key(t, "forever")
	expiring := make([]string, 10)
	for i := range expiring {
		expiring[i] = key(t, fmt.Sprintf("expiring-%d", i))
		require.NoError(t, s.Save(ctx, expiring[i], []byte("x"), shortTTL))
	}
	require.NoError(t, s.Save(ctx, live, []byte("live"), time.Hour))
	require.NoError(t, s.Save(ctx, forever, []byte("forever"), 0))

	for _, k := range expiring {
		waitExpired(t, s, k)
	}
	require.NoError(t, s.Cleanup(ctx))
	require.NoError(t, s.Cleanup(ctx), "cleanup with nothing to do")

	for _, k := range expiring {
		_, err := s.Get(ctx, k)
		require.ErrorIs(t, err, storage.ErrNotFound)
	}
	for k, want := range map[string]string{live: "live", forever: "forever"} {
		got, err := s.Get(ctx, k)
		require.NoError(t, err, "Cleanup keeps live entries: %s", k)
		assert.Equal(t, []byte(want), got)
	}
}

func testLargeValue(t *testing.T, s storage.TokenStorage) {
	ctx := t.Context()
	k := key(t, "big")
	value := make([]byte, 1<<20)
	for i := range value {
		value[i] = byte(i * 31)
	}
	require.NoError(t, s.Save(ctx, k, value, time.Hour))

	got, err := s.Get(ctx, k)
	require.NoError(t, err)
	require.True(t, bytes.Equal(value, got), "1 MiB value round trips")

	got, err = s.Take(ctx, k)
	require.NoError(t, err)
	require.True(t, bytes.Equal(value, got))
}

func testBinaryValues(t *testing.T, s storage.TokenStorage) {
	all := make([]byte, 256)
	for i := range all {
		all[i] = byte(i)
	}
	tests := []struct {
		name  string
		value []byte
	}{
		{"all byte values", all},
		{"NUL only", []byte{0}},
		{"invalid UTF-8", []byte{0xff, 0xfe, 0xc0, 0x80}},
		{"empty", []byte{}},
		{"nil", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx := t.Context()
			k := key(t, "v")
			require.NoError(t, s.Save(ctx, k, tt.value, time.Hour))

			got, err := s.Get(ctx, k)
			require.NoError(t, err, "an empty value is a value, not a miss")
			require.NotNil(t, got, "a hit never returns a nil value")
			assert.True(t, bytes.Equal(tt.value, got), "got %x", got)

			got, err = s.Take(ctx, k)
			require.NoError(t, err)
			require.NotNil(t, got)
			assert.True(t, bytes.Equal(tt.value, got), "got %x", got)
		})
	}
}

func testNoAliasing(t *testing.T, s storage.TokenStorage) {
	ctx := t.Context()
	k := key(t, "a")
	value := []byte("original")
	require.NoError(t, s.Save(ctx, k, value, time.Hour))
	copy(value, "MUTATED!")

	got, err := s.Get(ctx, k)
	require.NoError(t, err)
	assert.Equal(t, []byte("original"), got, "mutating the saved slice changed the store")

	copy(got, "MUTATED!")
	again, err := s.Get(ctx, k)
	require.NoError(t, err)
	assert.Equal(t, []byte("original"), again, "mutating a returned value changed the store")

	// Two Gets must not share a buffer either.
	a, err := s.Get(ctx, k)
	require.NoError(t, err)
	b, err := s.Get(ctx, k)
	require.NoError(t, err)
	a[0] = 'X'
	assert.Equal(t, byte('o'), b[0])
}

func testCancelledContext(t *testing.T, s storage.TokenStorage) {
	// Seed with a live context so Get and Take have something to find.
	k := key(t, "a")
	require.NoError(t, s.Save(t.Context(), k, []byte("v"), time.Hour))

	ctx, cancel := context.WithCancel(t.Context())
	cancel()

	// Each call may fail or succeed, but must return promptly. Get and Take run
	// before Delete, so a hit must be the seeded value and a failure must not pose
	// as a miss.
	calls := []struct {
		name string
		fn   func() ([]byte, error)
	}{
		{"Save", func() ([]byte, error) { return nil, s.Save(ctx, key(t, "b"), []byte("w"), time.Hour) }},
		{"Get", func() ([]byte, error) { return s.Get(ctx, k) }},
		{"Take", func() ([]byte, error) { return s.Take(ctx, k) }},
		{"Delete", func() ([]byte, error) { return nil, s.Delete(ctx, k) }},
		{"Cleanup", func() ([]byte, error) { return nil, s.Cleanup(ctx) }},
	}
	if c, ok := s.(storage.Counter); ok {
		calls = append(calls, struct {
			name string
			fn   func() ([]byte, error)
		}{"Count", func() ([]byte, error) { _, err := c.Count(ctx, namespace(t, "a")); return nil, err }})
	}
	type result struct {
		value []byte
		err   error
	}
	for _, c := range calls {
		done := make(chan result, 1)
		go func() {
			v, err := c.fn()
			done <- result{v, err}
		}()
		select {
		case r := <-done:
			if c.name != "Get" && c.name != "Take" {
				continue
			}
			if r.err == nil {
				assert.Equal(t, []byte("v"), r.value, c.name)
			} else {
				assert.NotErrorIs(t, r.err, storage.ErrNotFound, "%s reported a present key as missing", c.name)
			}
		case <-time.After(hangTimeout):
			t.Fatalf("%s with a cancelled context did not return within %v", c.name, hangTimeout)
		}
	}
}

// shortLived saves a throwaway value with shortTTL and returns its key.
func shortLived(t *testing.T, s storage.TokenStorage) string {
	t.Helper()
	k := key(t, "short-lived")
	require.NoError(t, s.Save(t.Context(), k, []byte("x"), shortTTL))
	return k
}

// waitExpired waits until Get of k reports ErrNotFound.
func waitExpired(t *testing.T, s storage.TokenStorage, k string) {
	t.Helper()
	require.Eventually(t, func() bool {
		_, err := s.Get(t.Context(), k)
		return errors.Is(err, storage.ErrNotFound)
	}, waitFor, tick, "%s did not expire", k)
}
