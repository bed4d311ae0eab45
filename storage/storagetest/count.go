package storagetest

import (
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/oauthproxy-go/oauthproxy/storage"
)

// countTests are the storage.Counter part of the suite. They run only when the
// store implements Counter (and, for a wrapper such as storage.Encrypted, the
// store it wraps does too).
var countTests = []struct {
	name string
	fn   func(t *testing.T, s storage.TokenStorage, c storage.Counter)
}{
	{"CountNamespaces", testCountNamespaces},
	{"CountOverwrite", testCountOverwrite},
	{"CountTakeDelete", testCountTakeDelete},
	{"CountExpiry", testCountExpiry},
	{"CountConcurrent", testCountConcurrent},
	{"CountInvalidNamespace", testCountInvalidNamespace},
}

// counter returns s as a storage.Counter, skipping the test when s cannot count.
func counter(t *testing.T, s storage.TokenStorage) storage.Counter {
	t.Helper()
	c, ok := s.(storage.Counter)
	if !ok {
		t.Skipf("%T does not implement storage.Counter", s)
	}
	_, err := c.Count(t.Context(), namespace(t, "probe"))
	if errors.Is(err, storage.ErrCountUnsupported) {
		t.Skipf("%T wraps a store that does not implement storage.Counter", s)
	}
	require.NoError(t, err, "Count of an empty namespace")
	return c
}

// namespace returns a namespace (one ':', at the end) private to the running
// test, so parallel runs against one server cannot see each other's keys.
func namespace(t *testing.T, name string) string {
	return "storagetest." + strings.ReplaceAll(t.Name(), ":", "_") + "." + name + ":"
}

// requireCount asserts that ns holds want keys.
func requireCount(t *testing.T, c storage.Counter, ns string, want int, msgAndArgs ...any) {
	t.Helper()
	got, err := c.Count(t.Context(), ns)
	require.NoError(t, err, msgAndArgs...)
	require.Equal(t, want, got, msgAndArgs...)
}

func testCountNamespaces(t *testing.T, s storage.TokenStorage, c storage.Counter) {
	ctx := t.Context()
	clients, txns, empty := namespace(t, "client"), namespace(t, "txn"), namespace(t, "empty")
	for i := range 3 {
		require.NoError(t, s.Save(ctx, fmt.Sprintf("%s%d", clients, i), []byte("c"), time.Hour))
	}
	require.NoError(t, s.Save(ctx, txns+"a", []byte("t"), time.Hour))
	// Keys that merely resemble the namespace are not in it.
	require.NoError(t, s.Save(ctx, strings.TrimSuffix(clients, ":")+"x:1", []byte("o"), time.Hour))
	require.NoError(t, s.Save(ctx, "x"+clients+"1", []byte("o"), time.Hour))

	requireCount(t, c, clients, 3)
	requireCount(t, c, txns, 1)
	requireCount(t, c, empty, 0, "a namespace nothing was saved in")

	require.NoError(t, s.Delete(ctx, txns+"a"))
	requireCount(t, c, txns, 0)
	requireCount(t, c, clients, 3, "a change in one namespace leaves the others alone")
}

func testCountOverwrite(t *testing.T, s storage.TokenStorage, c storage.Counter) {
	ctx := t.Context()
	ns := namespace(t, "client")
	require.NoError(t, s.Save(ctx, ns+"a", []byte("1"), time.Hour))
	require.NoError(t, s.Save(ctx, ns+"a", []byte("2"), time.Hour))
	require.NoError(t, s.Save(ctx, ns+"a", []byte("3"), 0))
	requireCount(t, c, ns, 1, "saving an existing key does not count it twice")
}

func testCountTakeDelete(t *testing.T, s storage.TokenStorage, c storage.Counter) {
	ctx := t.Context()
	ns := namespace(t, "txn")
	for _, k := range []string{"a", "b", "c"} {
		require.NoError(t, s.Save(ctx, ns+k, []byte("v"), time.Hour))
	}
	requireCount(t, c, ns, 3)

	_, err := s.Take(ctx, ns+"a")
	require.NoError(t, err)
	requireCount(t, c, ns, 2, "after Take")

	require.NoError(t, s.Delete(ctx, ns+"b"))
	requireCount(t, c, ns, 1, "after Delete")

	// Misses change nothing.
	_, err = s.Take(ctx, ns+"a")
	require.ErrorIs(t, err, storage.ErrNotFound)
	require.NoError(t, s.Delete(ctx, ns+"b"))
	require.NoError(t, s.Delete(ctx, ns+"never-saved"))
	requireCount(t, c, ns, 1, "after Take and Delete of missing keys")
}

func testCountExpiry(t *testing.T, s storage.TokenStorage, c storage.Counter) {
	ctx := t.Context()
	ns := namespace(t, "txn")
	expiring := []string{ns + "e1", ns + "e2", ns + "e3"}
	for _, k := range expiring {
		require.NoError(t, s.Save(ctx, k, []byte("x"), shortTTL))
	}
	require.NoError(t, s.Save(ctx, ns+"live", []byte("v"), time.Hour))
	require.NoError(t, s.Save(ctx, ns+"forever", []byte("v"), 0))
	// A key made permanent by an overwrite stops expiring in the count too.
	require.NoError(t, s.Save(ctx, ns+"kept", []byte("v"), shortTTL))
	require.NoError(t, s.Save(ctx, ns+"kept", []byte("v"), 0))
	requireCount(t, c, ns, 6, "before expiry")

	for _, k := range expiring {
		waitExpired(t, s, k)
	}
	// Backends may go on counting expired keys until Cleanup removes them; none
	// may after it.
	require.NoError(t, s.Cleanup(ctx))
	requireCount(t, c, ns, 3, "after expiry and Cleanup")
}

func testCountConcurrent(t *testing.T, s storage.TokenStorage, c storage.Counter) {
	const (
		workers = 16
		perWork = 40
	)
	ctx := t.Context()
	ns := namespace(t, "client")
	var (
		wg    sync.WaitGroup
		start = make(chan struct{})
	)
	for w := range workers {
		wg.Go(func() {
			<-start
			for i := range perWork {
				k := fmt.Sprintf("%s%d-%d", ns, w, i)
				if !assert.NoError(t, s.Save(ctx, k, []byte("v"), time.Hour)) {
					return
				}
				switch i % 4 {
				case 0: // taken: gone
					_, err := s.Take(ctx, k)
					assert.NoError(t, err)
				case 1: // deleted: gone
					assert.NoError(t, s.Delete(ctx, k))
				case 2: // saved again: still one key
					assert.NoError(t, s.Save(ctx, k, []byte("w"), time.Hour))
				}
			}
		})
	}
	close(start)
	wg.Wait()
	requireCount(t, c, ns, workers*perWork/2, "Save, Take and Delete from %d goroutines", workers)
}

func testCountInvalidNamespace(t *testing.T, _ storage.TokenStorage, c storage.Counter) {
	for _, ns := range []string{"", "client", "a:b:", ":x", "client:abc"} {
		_, err := c.Count(t.Context(), ns)
		require.ErrorIs(t, err, storage.ErrInvalidNamespace, "namespace %q", ns)
	}
}
