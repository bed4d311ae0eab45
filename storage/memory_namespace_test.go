package storage

import (
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// tableLen is how many namespaces m's table holds.
func tableLen(m *Memory) int {
	ids := m.namespaces.ids.Load()
	if ids == nil {
		return 0
	}
	return len(*ids)
}

// Count and Scan take any string a caller passes: looking one up must never
// add it to the table, or asking about many names would grow it.
func TestNamespaceTableIgnoresReads(t *testing.T) {
	ctx := t.Context()
	m := NewMemory()
	for i := range 3 * namespaceLimit {
		ns := fmt.Sprintf("asked%d:", i)
		n, err := m.Count(ctx, ns)
		require.NoError(t, err)
		assert.Zero(t, n)
		_, _, err = m.Scan(ctx, ns, "", 10)
		require.NoError(t, err)
		_, err = m.Get(ctx, ns+"k")
		require.ErrorIs(t, err, ErrNotFound)
		_, err = m.Take(ctx, ns+"k")
		require.ErrorIs(t, err, ErrNotFound)
		require.NoError(t, m.Delete(ctx, ns+"k"))
	}
	assert.Zero(t, tableLen(m))
}

// Past namespaceLimit namespaces the table stops growing, and the namespaces
// that found it full are still counted exactly, entry by entry as they come
// and go, beside those that have ids.
func TestNamespaceTableIsBounded(t *testing.T) {
	ctx := t.Context()
	var now time.Time
	m := NewMemoryWithClock(func() time.Time { return now })
	const namespaces = namespaceLimit + 10
	const perNamespace = 40
	name := func(n int) string { return fmt.Sprintf("ns%d:", n) }
	for n := range namespaces {
		for i := range perNamespace {
			ttl := time.Duration(0)
			if i%2 == 1 {
				ttl = time.Second // half expire, to be removed by Cleanup
			}
			require.NoError(t, m.Save(ctx, fmt.Sprintf("%s%d", name(n), i), nil, ttl))
		}
	}
	assert.Equal(t, namespaceLimit, tableLen(m))
	_, found := m.namespaces.lookup(name(namespaces - 1))
	assert.False(t, found, "a namespace past the bound got an id")
	checkInvariants(t, m)
	requireCounts := func(want int) {
		t.Helper()
		for n := range namespaces {
			got, err := m.Count(ctx, name(n))
			require.NoError(t, err)
			require.Equal(t, want, got, "Count(%q)", name(n))
		}
	}
	requireCounts(perNamespace)
	requireOverflowKeysOwned(t, m)

	// Overwrites leave counts alone; removals by each path lower them.
	for n := range namespaces {
		require.NoError(t, m.Save(ctx, name(n)+"0", []byte("again"), time.Hour))
		require.NoError(t, m.Delete(ctx, name(n)+"0"))
		_, err := m.Take(ctx, name(n)+"2")
		require.NoError(t, err)
	}
	requireCounts(perNamespace - 2)
	now = now.Add(time.Second)
	require.NoError(t, m.Cleanup(ctx))
	requireCounts(perNamespace/2 - 2)
	checkInvariants(t, m)

	// Once every overflow entry is gone, the overflow maps hold nothing.
	for n := range namespaces {
		for i := range perNamespace {
			require.NoError(t, m.Delete(ctx, fmt.Sprintf("%s%d", name(n), i)))
		}
	}
	requireCounts(0)
	for i := range m.shards {
		if c := m.shards[i].counts; c != nil {
			assert.Empty(t, c.overflow, "shard %d", i)
		}
	}
	assert.Equal(t, namespaceLimit, tableLen(m), "the table keeps its ids")
}

// Keys without a namespace are stored but counted nowhere, and never reach
// the table.
func TestNamespaceTableSkipsKeysWithoutNamespace(t *testing.T) {
	ctx := t.Context()
	m := NewMemory()
	require.NoError(t, m.Save(ctx, "plain", []byte("v"), time.Hour))
	assert.Zero(t, tableLen(m))
	assert.Equal(t, 1, m.Len())
	checkInvariants(t, m)
}
