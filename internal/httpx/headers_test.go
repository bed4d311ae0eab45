package httpx

import (
	"net/http"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestSetHeaders_AsSet(t *testing.T) {
	want, got := http.Header{"X-Old": {"1"}, "Pragma": {"x", "y"}}, http.Header{"X-Old": {"1"}, "Pragma": {"x", "y"}}
	pairs := []string{"cache-control", "no-store", "Pragma", "no-cache", "X-Frame-Options", "DENY"}
	for i := 0; i < len(pairs); i += 2 {
		want.Set(pairs[i], pairs[i+1])
	}
	SetHeaders(got, pairs...)
	require.Equal(t, want, got)

	// The values share an array: adding to one must leave the next alone.
	got.Add("Cache-Control", "private")
	require.Equal(t, []string{"no-cache"}, got["Pragma"])
	require.Equal(t, []string{"no-store", "private"}, got["Cache-Control"])
}
