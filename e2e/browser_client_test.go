package e2e

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"strconv"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/oauthproxy-go/oauthproxy"
	"github.com/oauthproxy-go/oauthproxy/internal/browsertest"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestBrowserClient is a browser-based MCP client (the MCP Inspector's
// direct connection, a web IDE) in a real Chromium: a page on another
// loopback origin (testdata/browser_client.html) that uses nothing but fetch
// against go-sdk and mcp-go servers behind the proxy, in swap and
// pass-through mode. Every cross-origin call it makes to the protected
// resource works only with the CORS answers of RequireBearer (Fetch standard
// CORS protocol): the preflights, the 401 whose WWW-Authenticate
// resource_metadata starts discovery (RFC 9728 §5.1), Mcp-Session-Id.
func TestBrowserClient(t *testing.T) {
	page, err := os.ReadFile("testdata/browser_client.html")
	require.NoError(t, err)
	browser := browsertest.New(t)
	for _, m := range modes {
		for _, kind := range serverKinds {
			t.Run(m.name+"/"+string(kind), func(t *testing.T) {
				runBrowserClient(t, browser, page, m, kind, false)
			})
		}
	}
	// With ResourceAllowedOrigins: the listed page works, another is refused.
	t.Run("listed-origin/swap/go-sdk-server", func(t *testing.T) {
		runBrowserClient(t, browser, page, modes[0], goSDKServer, true)
	})
	t.Run("unlisted-origin/swap/go-sdk-server", func(t *testing.T) {
		app := servePage(t, page)
		e := newEnv(t, modes[0], goSDKServer, func(c *oauthproxy.Config) {
			c.ResourceAllowedOrigins = []string{"https://app.example.com"}
		})
		tab := browser.NewTab(t)
		require.NoError(t, chromedp.Do(tab.Ctx, chromedp.Navigate(app+"/")))
		_, err := chromedp.Run(tab.Ctx, chromedp.Evaluate[json.RawMessage](`client.discover(`+strconv.Quote(e.mcpURL)+`)`, chromedp.EvalAwaitPromise))
		require.Error(t, err)
		assert.Contains(t, err.Error(), "Failed to fetch", "the browser refuses the call")
		assert.Equal(t, 1, e.log.count("OPTIONS /mcp 403"), "the preflight was refused")
		assert.Zero(t, e.log.count("POST /mcp 401"), "the call itself was never sent")
	})
}

// servePage serves the browser client page on a loopback origin of its own
// and returns that origin.
func servePage(t *testing.T, page []byte) string {
	t.Helper()
	app := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		_, _ = w.Write(page)
	}))
	t.Cleanup(app.Close)
	return app.URL
}

// rpcResult is what the page's rpc() saw of one MCP request.
type rpcResult struct {
	Status    int             `json:"status"`
	Challenge string          `json:"challenge"`
	SessionID string          `json:"sessionId"`
	Body      json.RawMessage `json:"body"`
}

// pageTokens is what the page got from the token endpoint.
type pageTokens struct {
	Status int            `json:"status"`
	Body   map[string]any `json:"body"`
	Error  string         `json:"error"` // the page refused the authorization response
}

// runBrowserClient runs the whole flow from the page; listed puts the
// page's origin in ResourceAllowedOrigins, otherwise any origin is allowed.
func runBrowserClient(t *testing.T, browser *browsertest.Browser, page []byte, m mode, kind serverKind, listed bool) {
	appURL := servePage(t, page)
	e := newEnv(t, m, kind, func(c *oauthproxy.Config) {
		if listed {
			c.ResourceAllowedOrigins = []string{"https://app.example.com", appURL}
		}
	})
	require.NotEqual(t, appURL, e.base, "the page is on another origin")
	tab := browser.NewTab(t)
	run := func(expr string, v any) {
		t.Helper()
		raw, err := chromedp.Run(tab.Ctx, chromedp.Evaluate[json.RawMessage](expr, chromedp.EvalAwaitPromise))
		require.NoError(t, err, "%s; console: %q", expr, tab.Console())
		require.NoError(t, json.Unmarshal(raw, v), "%s", raw)
	}

	require.NoError(t, chromedp.Do(tab.Ctx, chromedp.Navigate(appURL+"/")))

	// First contact: 401, then discovery from the challenge.
	var disc struct {
		Status    int            `json:"status"`
		Challenge string         `json:"challenge"`
		PRMURL    string         `json:"prmURL"`
		PRM       map[string]any `json:"prm"`
		AS        map[string]any `json:"as"`
	}
	run(`client.discover(`+strconv.Quote(e.mcpURL)+`)`, &disc)
	require.Equal(t, http.StatusUnauthorized, disc.Status)
	require.NotEmpty(t, disc.Challenge, "the page reads WWW-Authenticate")
	assert.Equal(t, e.base+"/.well-known/oauth-protected-resource/mcp", disc.PRMURL, "the page read resource_metadata")
	assert.Equal(t, e.mcpURL, disc.PRM["resource"])
	assert.Equal(t, e.base, disc.AS["issuer"])

	var reg struct {
		Status int `json:"status"`
		Body   struct {
			ClientID string `json:"client_id"`
		} `json:"body"`
	}
	run(`client.register()`, &reg)
	require.Equal(t, http.StatusCreated, reg.Status)

	// The user approves the consent page and signs in upstream; the code
	// comes back to the page's origin.
	var authURL string
	run(`client.authorize()`, &authURL)
	u, err := url.Parse(authURL)
	require.NoError(t, err)
	assert.Equal(t, e.base+"/oauth/authorize", u.Scheme+"://"+u.Host+u.Path)
	assert.Equal(t, e.mcpURL, u.Query().Get("resource"), "RFC 8707 resource from the metadata")
	assert.Equal(t, appURL+"/callback", u.Query().Get("redirect_uri"))
	require.NoError(t, chromedp.Do(tab.Ctx, chromedp.WaitVisible(chromedp.CSS("button.approve"))))
	require.NoError(t, chromedp.Do(tab.Ctx, chromedp.Click(chromedp.CSS("button.approve"))))
	login := chromedp.CSS(`form[action="/login"] button[value="approve"]`)
	require.NoError(t, chromedp.Do(tab.Ctx, chromedp.WaitVisible(login)))
	require.NoError(t, chromedp.Do(tab.Ctx, chromedp.Click(login)))
	back := `location.href.startsWith(` + strconv.Quote(appURL+"/callback?") + `) && document.readyState === "complete" && !!window.client`
	require.Eventually(t, func() bool {
		// Evaluation fails while the tab navigates; try again.
		ok, err := chromedp.Run(tab.Ctx, chromedp.Evaluate[bool](back))
		return err == nil && ok
	}, browsertest.Timeout/2, 50*time.Millisecond, "the browser came back to the page's redirect URI")

	var tok pageTokens
	run(`client.redeem()`, &tok)
	require.Empty(t, tok.Error)
	require.Equal(t, http.StatusOK, tok.Status, tok.Body)
	require.NotEmpty(t, tok.Body["refresh_token"])

	var init struct {
		Init        rpcResult `json:"init"`
		Initialized rpcResult `json:"initialized"`
	}
	run(`client.initialize()`, &init)
	require.Equal(t, http.StatusOK, init.Init.Status, "%s", init.Init.Body)
	require.NotEmpty(t, init.Init.SessionID, "the page read Mcp-Session-Id")
	assert.Equal(t, http.StatusAccepted, init.Initialized.Status)

	whoamiOf := func(id int) whoami {
		t.Helper()
		var res rpcResult
		run(`client.callTool("whoami", `+strconv.Itoa(id)+`)`, &res)
		require.Equal(t, http.StatusOK, res.Status, "%s", res.Body)
		var body struct {
			Result struct {
				IsError           bool   `json:"isError"`
				StructuredContent whoami `json:"structuredContent"`
			} `json:"result"`
		}
		require.NoError(t, json.Unmarshal(res.Body, &body), "%s", res.Body)
		require.False(t, body.Result.IsError, "%s", res.Body)
		return body.Result.StructuredContent
	}
	e.checkWhoami(t, whoamiOf(2), reg.Body.ClientID)

	// The access token expires: the page reads the 401, refreshes, calls again.
	e.clock.Advance(time.Hour + time.Minute)
	var expired rpcResult
	run(`client.callTool("whoami", 3)`, &expired)
	require.Equal(t, http.StatusUnauthorized, expired.Status)
	assert.Contains(t, expired.Challenge, `error="invalid_token"`, "the page reads the challenge of a refused token")
	run(`client.refresh()`, &tok)
	require.Equal(t, http.StatusOK, tok.Status, tok.Body)
	e.checkWhoami(t, whoamiOf(4), reg.Body.ClientID)

	var closed struct {
		Status int `json:"status"`
	}
	run(`client.close()`, &closed)
	assert.Less(t, closed.Status, 300, "DELETE ends the session")

	// The preflights were answered before the MCP server, without a token.
	assert.Positive(t, e.log.count("OPTIONS /mcp 204"), "the browser sent CORS preflights")
	assert.Zero(t, e.log.count("OPTIONS /mcp 401"))
	assert.Equal(t, 1, e.log.count("POST /oauth/token refresh_token 200"))
}
