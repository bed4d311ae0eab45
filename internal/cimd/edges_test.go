package cimd

import (
	"context"
	"io"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestValidateClientIDURL_Edges pins each end of the ranges the client_id
// URL check uses: the lowest and highest port, the longest label, the first
// and last letters and digits of a label, and every spelling of a last label
// a URL parser reads as an IPv4 number (decimal, 0x or 0X hex, a bare 0x).
func TestValidateClientIDURL_Edges(t *testing.T) {
	label63 := strings.Repeat("a", 63)
	for _, raw := range []string{
		"https://app.example.com:1/c.json",
		"https://app.example.com:65535/c.json",
		"https://" + label63 + ".example.com/c.json",
		"https://az.AZ.09.a-b.a_b.example.com/c.json",
		"https://z.example/c.json", "https://Z.example/c.json",
		"https://a.example/c.json", "https://A.example/c.json",
	} {
		_, err := ValidateClientIDURL(raw)
		assert.NoError(t, err, raw)
	}
	for raw, want := range map[string]error{
		"https://app.example.com/a b.json":            errURLCharacters,
		"https://app.example.com/a\x7f.json":          errURLCharacters,
		"https://app.example.com:65536/c.json":        errURLPort,
		"https://a" + label63 + ".example.com/c.json": errURLHost,
		"https://exa$mple.com/c.json":                 errURLHost,
		"https://exa@mple.com/c.json":                 errURLUserinfo,
		"https://example.10/c.json":                   errURLHost,
		"https://example.0/c.json":                    errURLHost,
		"https://example.9/c.json":                    errURLHost,
		"https://example.0x/c.json":                   errURLHost,
		"https://example.0xa/c.json":                  errURLHost,
		"https://example.0xf/c.json":                  errURLHost,
		"https://example.0xA/c.json":                  errURLHost,
		"https://example.0xF/c.json":                  errURLHost,
		"https://0X7F000001/c.json":                   errURLHost,
		"https://example.0X7f/c.json":                 errURLHost,
	} {
		_, err := ValidateClientIDURL(raw)
		assert.ErrorIs(t, err, want, raw)
	}
}

// TestIsHTTPSURL_Length: client_uri and logo_uri may be as long as a
// client_id URL and no longer.
func TestIsHTTPSURL_Length(t *testing.T) {
	at := "https://app.example.com/" + strings.Repeat("a", maxURLLength-len("https://app.example.com/"))
	assert.True(t, isHTTPSURL(at))
	assert.False(t, isHTTPSURL(at+"a"))
}

// TestFetchLimits_Release: releasing one of a host's fetches frees exactly
// one slot, and a host with none in flight is forgotten (the map stays as
// small as the fetches in flight).
func TestFetchLimits_Release(t *testing.T) {
	l := newFetchLimits(10, 2)
	require.True(t, l.acquire("a"))
	require.True(t, l.acquire("a"))
	require.False(t, l.acquire("a"), "the host's limit")
	l.release("a")
	require.True(t, l.acquire("a"), "one slot freed")
	require.False(t, l.acquire("a"), "only one")
	l.release("a")
	l.release("a")
	assert.Empty(t, l.perHost)
	assert.Zero(t, l.total)
}

// TestFetcher_RetryAfter is the fetch timeout, also on a nil Fetcher.
func TestFetcher_RetryAfter(t *testing.T) {
	var nilFetcher *Fetcher
	assert.Equal(t, defaultTimeout, nilFetcher.RetryAfter())
	assert.Equal(t, defaultTimeout, (&Fetcher{}).RetryAfter())
	assert.Equal(t, 3*time.Second, (&Fetcher{Timeout: 3 * time.Second}).RetryAfter())
}

// TestFetch_ContentLength: a declared length of exactly the cap is read; a
// body cut short of its declared length is a fetch failure, never parsed.
func TestFetch_ContentLength(t *testing.T) {
	ts := newTestServer(t)
	base := docJSON(t, ts.clientID(), map[string]any{"pad": ""})
	exact := strings.Replace(base, `"pad":""`, `"pad":"`+strings.Repeat("x", defaultMaxBytes-len(base))+`"`, 1)
	require.Len(t, exact, defaultMaxBytes)
	ts.mux.HandleFunc(docPath, func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Content-Length", strconv.Itoa(len(exact)))
		_, _ = io.WriteString(w, exact)
	})
	ts.mux.HandleFunc("/short", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Content-Length", "1000")
		_, _ = io.WriteString(w, `{"client_id":`) // and the connection closes
	})
	f := ts.fetcher(true)
	doc, err := f.Fetch(context.Background(), ts.clientID())
	require.NoError(t, err)
	assert.Equal(t, ts.clientID(), doc.ClientID)

	_, err = f.Fetch(context.Background(), ts.URL+"/short")
	require.ErrorIs(t, err, ErrFetch)
	assert.NotErrorIs(t, err, ErrInvalidDocument)
}
