package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/oauthproxy-go/oauthproxy/oauthproxytest"
	"github.com/stretchr/testify/require"
	"golang.org/x/oauth2"
)

// Deadlines of the end-to-end tests: bounds on waiting for the process,
// never measurements.
const (
	waitFor = 30 * time.Second
	tick    = 10 * time.Millisecond
)

// clientRedirect is the MCP client's loopback redirect URI; the browser
// stops there.
const clientRedirect = "http://127.0.0.1:53682/callback"

// gatewayProcess is the built command running as its own process on
// loopback, provider oidc at a stand-in IdP, memory storage.
type gatewayProcess struct {
	cmd     *exec.Cmd
	logs    *syncWriter // the process's stderr: JSON log lines
	base    string      // public origin, also base_url
	metrics string      // metrics_listen origin
	addr    string      // public listen address
	exited  chan struct{}
	client  *http.Client // the test's own client: no idle connections outlive the test
}

// startGateway runs the command in front of backendURL with shutdownTimeout
// and waits until it serves. A port picked free can be taken by another
// process before the gateway binds it; then it tries other ports.
func startGateway(t *testing.T, backendURL string, shutdownTimeout time.Duration) *gatewayProcess {
	t.Helper()
	bin := gatewayBinary(t)
	secret := rand.Text()
	idp := oauthproxytest.NewServer(oauthproxytest.Options{ClientID: "gateway", ClientSecret: secret, IssueIDToken: true, LoginPage: true})
	t.Cleanup(idp.Close)
	tr := &http.Transport{}
	t.Cleanup(tr.CloseIdleConnections)
	client := &http.Client{Transport: tr}

	for attempt := 1; ; attempt++ {
		g := &gatewayProcess{addr: freeAddr(t), logs: &syncWriter{}, exited: make(chan struct{}), client: client}
		metricsAddr := freeAddr(t)
		g.base, g.metrics = "http://"+g.addr, "http://"+metricsAddr
		config := fmt.Sprintf(`listen: %s
metrics_listen: %s
base_url: %s
backend:
  url: %s
provider:
  name: oidc
  issuer: %s
  client_id: gateway
storage:
  type: memory
shutdown_timeout: %s
`, g.addr, metricsAddr, g.base, backendURL, idp.Issuer(), shutdownTimeout)
		path := filepath.Join(t.TempDir(), "oauthproxy.yaml")
		require.NoError(t, os.WriteFile(path, []byte(config), 0o600))

		g.cmd = exec.Command(bin, "-config", path)
		// The secret comes only from the environment (README, Secrets);
		// the test's own OAUTHPROXY_* variables must not leak in.
		g.cmd.Env = append(environWithout("OAUTHPROXY_"), "OAUTHPROXY_UPSTREAM_CLIENT_SECRET="+secret)
		g.cmd.Stderr = g.logs
		require.NoError(t, g.cmd.Start())
		go func() {
			_ = g.cmd.Wait()
			close(g.exited)
		}()
		t.Cleanup(func() {
			select {
			case <-g.exited:
			default:
				_ = g.cmd.Process.Kill()
				<-g.exited
			}
			if t.Failed() {
				t.Logf("gateway logs:\n%s", g.logs)
			}
		})

		if g.waitServing(t) {
			return g
		}
		if attempt == 3 || !strings.Contains(g.logs.String(), "address already in use") {
			t.Fatalf("the gateway exited before serving: %s\n%s", g.cmd.ProcessState, g.logs)
		}
	}
}

// waitServing waits for the log line the gateway writes once both
// listeners are bound; false if the process exited first.
func (g *gatewayProcess) waitServing(t *testing.T) bool {
	t.Helper()
	deadline := time.After(waitFor)
	for {
		if strings.Contains(g.logs.String(), `"msg":"gateway: serving"`) {
			return true
		}
		select {
		case <-g.exited:
			return false
		case <-deadline:
			t.Fatalf("the gateway did not serve within %s:\n%s", waitFor, g.logs)
		case <-time.After(tick):
		}
	}
}

// waitExit waits for the process to end on its own within bound and
// returns how it ended.
func (g *gatewayProcess) waitExit(t *testing.T, bound time.Duration) *os.ProcessState {
	t.Helper()
	select {
	case <-g.exited:
		return g.cmd.ProcessState
	case <-time.After(bound):
		t.Fatalf("the gateway still runs %s after SIGTERM:\n%s", bound, g.logs)
		return nil
	}
}

// signIn registers a public client, signs the stand-in IdP's default user
// in through the consent and login pages (PKCE, RFC 8707 resource), and
// returns the access token.
func (g *gatewayProcess) signIn(t *testing.T) string {
	t.Helper()
	body := `{"redirect_uris":["` + clientRedirect + `"],"token_endpoint_auth_method":"none","client_name":"sigterm test"}`
	resp, err := g.client.Post(g.base+"/oauth/register", "application/json", strings.NewReader(body))
	require.NoError(t, err)
	defer resp.Body.Close()
	require.Equal(t, http.StatusCreated, resp.StatusCode)
	var reg struct {
		ClientID string `json:"client_id"`
	}
	require.NoError(t, json.NewDecoder(resp.Body).Decode(&reg))

	resource := g.base + "/mcp"
	oc := &oauth2.Config{
		ClientID:    reg.ClientID,
		RedirectURL: clientRedirect,
		Endpoint:    oauth2.Endpoint{AuthURL: g.base + "/oauth/authorize", TokenURL: g.base + "/oauth/token", AuthStyle: oauth2.AuthStyleInParams},
	}
	verifier := oauth2.GenerateVerifier()
	res, err := oauthproxytest.NewBrowser(t).Authorize(oc.AuthCodeURL("state-1", oauth2.S256ChallengeOption(verifier),
		oauth2.SetAuthURLParam("resource", resource)))
	require.NoError(t, err)
	require.NotEmpty(t, res.Code, "%+v", res)
	ctx := context.WithValue(t.Context(), oauth2.HTTPClient, g.client)
	tok, err := oc.Exchange(ctx, res.Code, oauth2.VerifierOption(verifier), oauth2.SetAuthURLParam("resource", resource))
	require.NoError(t, err)
	return tok.AccessToken
}

// requestLogs lists the request log lines (README, Operations: one per
// request) of method and path as "status", or "status aborted" for a
// response cut off mid-stream.
func (g *gatewayProcess) requestLogs(t *testing.T, method, path string) []string {
	t.Helper()
	var out []string
	for _, line := range strings.Split(strings.TrimSpace(g.logs.String()), "\n") {
		var rec struct {
			Msg     string `json:"msg"`
			Method  string `json:"method"`
			Path    string `json:"path"`
			Status  int    `json:"status"`
			Aborted bool   `json:"aborted"`
		}
		require.NoError(t, json.Unmarshal([]byte(line), &rec), "a JSON log line: %s", line)
		if rec.Msg != "request" || rec.Method != method || rec.Path != path {
			continue
		}
		entry := strconv.Itoa(rec.Status)
		if rec.Aborted {
			entry += " aborted"
		}
		out = append(out, entry)
	}
	return out
}

// freeAddr is a loopback address whose port was free a moment ago.
func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	addr := ln.Addr().String()
	require.NoError(t, ln.Close())
	return addr
}

// environWithout is the test's environment less the variables starting
// with prefix.
func environWithout(prefix string) []string {
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, prefix) {
			env = append(env, kv)
		}
	}
	return env
}

// syncWriter is the process's stderr, read by the test while it is written.
type syncWriter struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (w *syncWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.buf.Write(p)
}

func (w *syncWriter) String() string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.buf.String()
}
