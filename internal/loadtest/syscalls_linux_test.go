//go:build linux

package loadtest

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The floor line's syscall counts come from /proc/self/io: a write and a read
// of a file must show up in them.
func TestSyscallsCountsReadsAndWrites(t *testing.T) {
	name := filepath.Join(t.TempDir(), "f")
	before := Syscalls()
	require.NotZero(t, before, "the process has made syscalls before this test")
	require.NoError(t, os.WriteFile(name, []byte("x"), 0o600))
	_, err := os.ReadFile(name)
	require.NoError(t, err)
	assert.GreaterOrEqual(t, Syscalls(), before+2)
}
