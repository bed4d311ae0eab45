package upstream

import (
	"bytes"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// Token responses are read into a reused buffer: a Token must keep what it
// was given after the buffer has been filled with the next responses, in
// every field the decoder can fill (strings, numbers, keys of Extra, nested
// values).
func TestToken_OutlivesTheResponseBuffer(t *testing.T) {
	var n atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		i := n.Add(1)
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprintf(w, `{"access_token":"at-%[1]d","token_type":"Bearer","expires_in":%[1]d00,`+
			`"refresh_token":"rt-%[1]d","id_token":"%[2]s","scope":"s%[1]d","extra_%[1]d":{"n":%[1]d.5,"l":["v%[1]d"]}}`,
			i, strings.Repeat(fmt.Sprint(i%10), 1500))
	}))
	defer srv.Close()
	c := testClient(srv.URL)
	now := time.Unix(1_800_000_000, 0)

	first, err := c.ExchangeCode(t.Context(), "code", "https://proxy.example/cb", "verifier", now)
	require.NoError(t, err)
	for range 20 {
		_, err := c.ExchangeCode(t.Context(), "code", "https://proxy.example/cb", "verifier", now)
		require.NoError(t, err)
	}
	assert.Equal(t, "at-1", first.AccessToken)
	assert.Equal(t, "rt-1", first.RefreshToken)
	assert.Equal(t, strings.Repeat("1", 1500), first.IDToken)
	assert.Equal(t, "s1", first.Scope)
	assert.Equal(t, int64(100), first.ExpiresIn)
	require.Contains(t, first.Extra, "extra_1")
	extra := first.Extra["extra_1"].(map[string]any)
	assert.Equal(t, "1.5", fmt.Sprint(extra["n"]))
	assert.Equal(t, []any{"v1"}, extra["l"])
}

// A buffer grown past 64 KiB by an unusually large response is left to the
// GC: the pool keeps only buffers of the usual size, so one large answer does
// not pin its memory for the life of the process. A buffer of the usual size
// is kept for the next response.
func TestPutBodyBuf_KeepsOnlyUsualSizes(t *testing.T) {
	for range 20 {
		big := new(bytes.Buffer)
		big.Grow(1 << 20)
		putBodyBuf(big)
		got := bodyBufs.Get().(*bytes.Buffer)
		require.LessOrEqual(t, got.Cap(), 64<<10, "a 1 MiB buffer came back from the pool")
	}
	kept := 0
	for range 20 {
		usual := new(bytes.Buffer)
		usual.Grow(4 << 10)
		usual.WriteString("left over")
		putBodyBuf(usual)
		if got := bodyBufs.Get().(*bytes.Buffer); got == usual {
			require.Zero(t, got.Len(), "a pooled buffer must come back empty")
			kept++
		}
	}
	// sync.Pool may drop what it is given (the race detector drops a quarter
	// on purpose), but not all of twenty.
	require.Positive(t, kept, "no usual-size buffer was kept")
}
