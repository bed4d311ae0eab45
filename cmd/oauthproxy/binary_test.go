package main

import (
	"os/exec"
	"path/filepath"
	"sync"
	"testing"
)

// binaryDir is the test binary's temporary directory (TestMain).
var binaryDir string

var (
	buildOnce   sync.Once
	builtBinary string
	buildErr    error
	buildOutput []byte
)

// gatewayBinary builds this command once per test binary, so the
// end-to-end tests run the real program (signal handling, exit code) and
// not only run().
func gatewayBinary(t *testing.T) string {
	t.Helper()
	buildOnce.Do(func() {
		path := filepath.Join(binaryDir, "oauthproxy")
		cmd := exec.Command("go", "build", "-o", path, ".")
		buildOutput, buildErr = cmd.CombinedOutput()
		builtBinary = path
	})
	if buildErr != nil {
		t.Fatalf("go build: %v\n%s", buildErr, buildOutput)
	}
	return builtBinary
}
