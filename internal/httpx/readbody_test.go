package httpx

import (
	"bytes"
	"io"
	"strings"
	"testing"
	"testing/iotest"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestReadBody_SameBytesWhateverTheDeclaredLength(t *testing.T) {
	for _, n := range []int{0, 1, 511, 512, 513, 3000, maxPresized, maxPresized + 1, 200 << 10} {
		body := strings.Repeat("x", n)
		for _, declared := range []int64{-1, 0, int64(n) - 1, int64(n), int64(n) + 1, 1 << 20} {
			got, err := ReadBody(strings.NewReader(body), declared)
			require.NoError(t, err)
			require.Equal(t, n, len(got), "body %d, declared %d", n, declared)
			require.Equal(t, body, string(got))
		}
	}
}

// A truthful Content-Length of a usual body costs one buffer, not the
// series of growing copies reading a body of unknown length makes (measured
// against that, so the race detector's own allocations count on both sides:
// 2 against 5 here, 3 against 9 under -race).
func TestReadBody_OneAllocationForADeclaredBody(t *testing.T) {
	body := bytes.Repeat([]byte("y"), 3000)
	declared := testing.AllocsPerRun(100, func() {
		_, _ = ReadBody(bytes.NewReader(body), int64(len(body)))
	})
	unknown := testing.AllocsPerRun(100, func() {
		_, _ = ReadBody(bytes.NewReader(body), -1)
	})
	assert.LessOrEqual(t, 2*declared, unknown, "declared length: %v allocations, unknown: %v", declared, unknown)
}

// A sender who declares a large body and sends none makes ReadBody allocate
// no more than maxPresized up front (S19: bounded memory per request).
func TestSecurity_S19_DeclaredLengthDoesNotPresizeBeyondTheCap(t *testing.T) {
	got, err := ReadBody(io.LimitReader(strings.NewReader(""), 0), 1<<20)
	require.NoError(t, err)
	assert.Empty(t, got)
	assert.LessOrEqual(t, cap(got), maxPresized+bytes.MinRead)

	got, err = ReadBody(strings.NewReader(""), maxPresized)
	require.NoError(t, err)
	assert.LessOrEqual(t, cap(got), 2*(maxPresized+bytes.MinRead), "at the cap it is presized once")
}

// A body cut short says so (net/http's reader returns io.ErrUnexpectedEOF):
// that is an error, not a shorter body.
func TestReadBody_TruncatedBodyIsAnError(t *testing.T) {
	for _, declared := range []int64{-1, 10, 100} {
		r := io.MultiReader(strings.NewReader("0123"), iotest.ErrReader(io.ErrUnexpectedEOF))
		_, err := ReadBody(r, declared)
		assert.ErrorIs(t, err, io.ErrUnexpectedEOF, "declared %d", declared)
	}
}
