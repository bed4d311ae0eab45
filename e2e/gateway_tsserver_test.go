package e2e

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// RequireNodeEnv makes the TypeScript server's tests fail instead of skip
// where node or npm is missing: make test sets it, since it installs them.
const RequireNodeEnv = "OAUTHPROXY_REQUIRE_NODE"

// tsServerDir is the TypeScript MCP server's source: package.json,
// package-lock.json (dependencies pinned) and server.mjs.
const tsServerDir = "testdata/tsserver"

var tsInstall struct {
	once sync.Once
	dir  string
	err  error
}

// tsServerInstalled returns a directory holding the server and its
// node_modules, installed with npm ci once per test binary, and reused
// between runs from the user's cache while the sources are unchanged.
func tsServerInstalled(t *testing.T) string {
	t.Helper()
	_, nodeErr := exec.LookPath("node")
	_, npmErr := exec.LookPath("npm")
	if nodeErr != nil || npmErr != nil {
		if os.Getenv(RequireNodeEnv) != "" {
			t.Fatalf("node and npm are required (%s is set): %v %v", RequireNodeEnv, nodeErr, npmErr)
		}
		t.Skipf("node or npm is missing; set %s=1 to fail instead (make deps installs them)", RequireNodeEnv)
	}
	tsInstall.once.Do(func() { tsInstall.dir, tsInstall.err = installTSServer() })
	if tsInstall.err != nil {
		t.Fatal(tsInstall.err)
	}
	return tsInstall.dir
}

func installTSServer() (string, error) {
	files := []string{"package.json", "package-lock.json", "server.mjs"}
	sum := sha256.New()
	contents := map[string][]byte{}
	for _, f := range files {
		b, err := os.ReadFile(filepath.Join(tsServerDir, f))
		if err != nil {
			return "", err
		}
		contents[f] = b
		sum.Write(b)
	}
	cache, err := os.UserCacheDir()
	if err != nil {
		cache = os.TempDir()
	}
	dir := filepath.Join(cache, "oauthproxy-e2e", "tsserver-"+hex.EncodeToString(sum.Sum(nil))[:16])
	if _, err := os.Stat(filepath.Join(dir, "node_modules", "@modelcontextprotocol", "sdk", "package.json")); err == nil {
		return dir, nil
	}
	// Install beside it and rename, so two test binaries never see half an install.
	if err := os.MkdirAll(filepath.Dir(dir), 0o755); err != nil {
		return "", err
	}
	tmp, err := os.MkdirTemp(filepath.Dir(dir), "install-")
	if err != nil {
		return "", err
	}
	defer os.RemoveAll(tmp)
	for f, b := range contents {
		if err := os.WriteFile(filepath.Join(tmp, f), b, 0o644); err != nil {
			return "", err
		}
	}
	cmd := exec.Command("npm", "ci", "--no-audit", "--no-fund", "--loglevel=error")
	cmd.Dir = tmp
	if out, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("npm ci: %v\n%s", err, out)
	}
	if err := os.Rename(tmp, dir); err != nil {
		if _, statErr := os.Stat(dir); statErr == nil {
			return dir, nil // another binary won the race
		}
		return "", err
	}
	return dir, nil
}

// startTSBackend runs the TypeScript MCP server with node on a loopback
// port, and stops it with SIGTERM when the test ends.
func startTSBackend(t *testing.T) mcpBackend {
	t.Helper()
	dir := tsServerInstalled(t)
	cmd := exec.Command("node", "server.mjs")
	cmd.Dir = dir
	stderr := &lockedBuffer{}
	cmd.Stderr = stderr
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	line, err := bufio.NewReader(stdout).ReadString('\n')
	go func() { done <- cmd.Wait() }()
	t.Cleanup(func() {
		_ = cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			_ = cmd.Process.Kill()
			<-done
		}
	})
	port, ok := strings.CutPrefix(strings.TrimSpace(line), "listening ")
	if err != nil || !ok {
		t.Fatalf("the TypeScript server did not start: %q %v\n%s", line, err, stderr.String())
	}
	base := "http://127.0.0.1:" + port
	return mcpBackend{name: "ts-backend", url: base + "/mcp", release: releaseTS(t, base)}
}

// lockedBuffer collects a child's stderr while the test may read it.
type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}
