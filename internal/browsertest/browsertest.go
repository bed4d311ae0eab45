// Package browsertest starts a headless Chromium for a test and drives it with
// chromedp: one browser process per test (own profile, loopback only),
// stopped with every helper process when the test ends, and isolated tabs
// (each its own browser context: no shared cookies) for subtests. A failing
// test leaves a screenshot, the page URL and the console behind and says
// where.
package browsertest

import (
	"context"
	"errors"
	"iter"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// RequireEnv names the environment variable that turns a missing browser from
// a skip into a failure; make test sets it, because make test installs the
// browser and a skip there would hide a broken setup.
const RequireEnv = "OAUTHPROXY_REQUIRE_BROWSER"

// Timeout bounds everything one test does in the browser. It is generous: the
// tests run on shared, noisy machines, and nothing waits for it unless
// something is broken.
const Timeout = 90 * time.Second

// Browser is one running Chromium.
type Browser struct {
	root    context.Context // the first tab; its context owns the process
	dataDir string
}

// Tab is a tab in a browser context of its own, so it shares no cookies or
// storage with any other tab.
type Tab struct {
	// Ctx runs actions in the tab; it ends with the test or after Timeout.
	Ctx context.Context

	t   testing.TB
	tab context.Context

	mu      sync.Mutex
	console []string
}

// ExecPath finds Chromium (or Chrome) on PATH.
func ExecPath() (string, error) {
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome", "google-chrome-stable"} {
		if p, err := exec.LookPath(name); err == nil {
			return p, nil
		}
	}
	return "", errors.New("no chromium, chromium-browser or google-chrome on PATH")
}

// New starts a browser for t, or skips t when none is installed (fails when
// OAUTHPROXY_REQUIRE_BROWSER=1). Call it before the servers the test starts
// in subtests, or after the servers of t itself, so the browser stops first.
func New(t testing.TB) *Browser {
	t.Helper()
	path, err := ExecPath()
	if err != nil {
		if os.Getenv(RequireEnv) == "1" {
			t.Fatalf("browser test needs Chromium: %v (install it with `apt-get install chromium`; %s=1 is set, so this is a failure, not a skip)", err, RequireEnv)
		}
		t.Skipf("skipping browser test: %v; `make test` installs it (apt-get install chromium), set %s=1 to fail instead", err, RequireEnv)
	}

	b := &Browser{dataDir: t.TempDir()}
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(context.Background(),
		chromedp.ExecPath(path),
		chromedp.Headless,
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.NoFirstRun,
		chromedp.NoDefaultBrowserCheck,
		chromedp.UserDataDir(b.dataDir),
		chromedp.WindowSize(1000, 900),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-default-apps", true),
		chromedp.Flag("disable-extensions", true),
		chromedp.Flag("disable-breakpad", true),
		chromedp.Flag("disable-crash-reporter", true),
		chromedp.Flag("disable-client-side-phishing-detection", true),
		chromedp.Flag("disable-dev-shm-usage", true),
		chromedp.Flag("no-pings", true),
		chromedp.Flag("metrics-recording-only", true),
		chromedp.Flag("password-store", "basic"),
		chromedp.Flag("use-mock-keychain", true),
		chromedp.Flag("hide-scrollbars", true),
		chromedp.Flag("mute-audio", true),
		chromedp.Flag("force-color-profile", "srgb"),
		// Keep http://127.0.0.1 as it is: no HTTPS upgrade, no proxy.
		chromedp.Flag("disable-features", "HttpsUpgrades,HttpsFirstBalancedModeAutoEnable,Translate,OptimizationHints,MediaRouter"),
		chromedp.Flag("no-proxy-server", true),
	)
	root, cancelRoot := chromedp.NewContext(allocCtx, chromedp.WithLogf(t.Logf))
	b.root = root

	stop := func() {
		var helpers []process
		if c := chromedp.FromContext(root); c != nil && c.Browser != nil && c.Browser.Process() != nil {
			helpers = processTree(c.Browser.Process().Pid)
		}
		cctx, ccancel := context.WithTimeout(root, 20*time.Second)
		if err := chromedp.Cancel(cctx); err != nil && !errors.Is(err, context.Canceled) {
			t.Logf("browsertest: closing the browser: %v", err)
		}
		ccancel()
		cancelRoot()
		cancelAlloc()
		reapLeftovers(t, helpers)
	}
	// The first action starts the browser. Its life is tied to root, which
	// has no deadline; tabs carry the time budgets.
	if err := chromedp.Do(root); err != nil {
		stop()
		t.Fatalf("browsertest: starting %s: %v", path, err)
	}
	t.Cleanup(stop)
	return b
}

// NewTab opens a tab in a fresh browser context for t, closed when t ends.
// Its Ctx times out after Timeout.
func (b *Browser) NewTab(t testing.TB) *Tab {
	t.Helper()
	tab, cancelTab := chromedp.NewContext(b.root, chromedp.WithNewBrowserContext())
	if err := chromedp.Do(tab); err != nil {
		cancelTab()
		t.Fatalf("browsertest: opening a tab: %v", err)
	}
	ctx, cancelCtx := context.WithTimeout(tab, Timeout)
	tb := &Tab{Ctx: ctx, t: t, tab: tab}
	go tb.collectConsole(chromedp.Console(tab))
	t.Cleanup(func() {
		if t.Failed() {
			tb.saveFailure()
		}
		cancelCtx()
		cancelTab()
	})
	return tb
}

// collectConsole keeps every console message and browser log entry (CSP
// violations among them) for assertions and failure reports.
func (b *Tab) collectConsole(messages iter.Seq2[chromedp.ConsoleMessage, error]) {
	for m, err := range messages {
		if err != nil {
			return
		}
		b.mu.Lock()
		b.console = append(b.console, string(m.Type)+": "+m.Text)
		b.mu.Unlock()
	}
}

// Console returns the console messages and browser log entries so far.
func (b *Tab) Console() []string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return append([]string(nil), b.console...)
}

// Screenshot captures the viewport as PNG.
func (b *Tab) Screenshot(ctx context.Context) ([]byte, error) {
	return chromedp.Run(ctx, chromedp.CaptureScreenshot())
}

// saveFailure writes a screenshot, the page URL and the console of a failed
// test to a directory that outlives the test (t.TempDir is removed when the
// test ends) and says where.
func (b *Tab) saveFailure() {
	dir, err := os.MkdirTemp("", "oauthproxy-browsertest-"+safeName(b.t.Name())+"-")
	if err != nil {
		b.t.Logf("browsertest: cannot save the failure screenshot: %v", err)
		return
	}
	ctx, cancel := context.WithTimeout(b.tab, 15*time.Second)
	defer cancel()
	var notes []string
	if loc, err := chromedp.Run(ctx, chromedp.Location()); err == nil {
		notes = append(notes, "url: "+loc)
	}
	notes = append(notes, "console:")
	notes = append(notes, b.Console()...)
	_ = os.WriteFile(filepath.Join(dir, "browser.txt"), []byte(strings.Join(notes, "\n")+"\n"), 0o644)
	png, err := b.Screenshot(ctx)
	if err != nil {
		b.t.Logf("browsertest: taking the failure screenshot: %v (notes in %s)", err, dir)
		return
	}
	shot := filepath.Join(dir, "screenshot.png")
	if err := os.WriteFile(shot, png, 0o644); err != nil {
		b.t.Logf("browsertest: writing the failure screenshot: %v", err)
		return
	}
	b.t.Logf("browsertest: the test failed; screenshot at %s, URL and console in %s", shot, filepath.Join(dir, "browser.txt"))
}

// reapLeftovers makes sure no process of this browser outlives the test. The
// main process has exited when chromedp.Cancel returns; its helpers
// (zygote, renderers, crash handler), listed before the shutdown, get a few
// seconds to follow and are then killed by pid.
func reapLeftovers(t testing.TB, helpers []process) {
	deadline := time.Now().Add(5 * time.Second)
	for {
		var alive []process
		for _, p := range helpers {
			if p.alive() {
				alive = append(alive, p)
			}
		}
		if len(alive) == 0 {
			return
		}
		if time.Now().After(deadline) {
			for _, p := range alive {
				t.Logf("browsertest: killing leftover browser process %d", p.pid)
				p.kill()
			}
			if deadline.Add(5 * time.Second).Before(time.Now()) {
				t.Errorf("browsertest: browser processes still running after shutdown: %v", alive)
				return
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
}

var unsafeChars = regexp.MustCompile(`[^A-Za-z0-9_.-]+`)

func safeName(name string) string { return unsafeChars.ReplaceAllString(name, "_") }
