package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestReport: a lived mutant listed as equivalent leaves the kill rate's
// denominator and the survivor list; one not listed stays in both.
func TestReport(t *testing.T) {
	dir := t.TempDir()
	write := func(name, content string) string {
		p := filepath.Join(dir, name)
		require.NoError(t, os.WriteFile(p, []byte(content), 0o600))
		return p
	}
	eq := write("equivalent.md", "| mutant | type | why |\n|---|---|---|\n"+
		"| `internal/x/a.go:3:7` | CONDITIONALS_BOUNDARY | both sides agree at the boundary |\n")
	res := write("x.json", `{"files":[{"file_name":"a.go","mutations":[
		{"type":"CONDITIONALS_BOUNDARY","status":"LIVED","line":3,"column":7},
		{"type":"CONDITIONALS_NEGATION","status":"LIVED","line":4,"column":2},
		{"type":"CONDITIONALS_NEGATION","status":"KILLED","line":3,"column":7},
		{"type":"ARITHMETIC_BASE","status":"KILLED","line":5,"column":1},
		{"type":"ARITHMETIC_BASE","status":"TIMED OUT","line":6,"column":1},
		{"type":"ARITHMETIC_BASE","status":"NOT COVERED","line":7,"column":1}]}],"elapsed_time":12.3}`)
	runs := write("runs.tsv", "internal/x (a.go)\tgremlins unleash ./internal/x\t"+res+"\n")

	var out bytes.Buffer
	require.NoError(t, run(&out, eq, runs))
	report := out.String()
	// 2 killed + 1 timed out of 4 run, 1 of the lived equivalent: 3 of 4 = 75%.
	assert.Contains(t, report, "| internal/x (a.go) | 2 | 2 | 1 | 1 | 0 | 1 | 75.0% | 12s |")
	assert.Contains(t, report, "    gremlins unleash ./internal/x")
	assert.Contains(t, report, "- `internal/x/a.go:4:2 CONDITIONALS_NEGATION`")
	assert.NotContains(t, report, "a.go:3:7 CONDITIONALS_BOUNDARY`")
	assert.True(t, strings.HasPrefix(report, "| package |"))
}
