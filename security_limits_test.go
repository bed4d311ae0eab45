package oauthproxy_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/oauthproxy-go/oauthproxy"
	"github.com/oauthproxy-go/oauthproxy/internal/pkce"
	"github.com/oauthproxy-go/oauthproxy/storage"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// countingStore is a memory store the test can ask how many live records each
// namespace holds (storage.Counter), to prove a refused request stored
// nothing.
type countingStore struct{ *storage.Memory }

func (s countingStore) live(t *testing.T, namespace string) int {
	t.Helper()
	n, err := s.Count(context.Background(), namespace)
	require.NoError(t, err)
	return n
}

func withCountingStore() (countingStore, envOption) {
	return withCountingStoreAt(time.Now)
}

// withCountingStoreAt is withCountingStore on the clock now.
func withCountingStoreAt(now func() time.Time) (countingStore, envOption) {
	s := countingStore{storage.NewMemoryWithClock(now)}
	return s, withConfig(func(c *oauthproxy.Config) { c.TokenStorage = s.Memory })
}

// TestSecurity_S19_AuthorizationParametersBounded: every value /authorize
// stores or echoes has a size limit, checked before any lookup; an oversized
// value gets an error page (never a redirect that would echo it) and no
// transaction is stored. Values at the limit pass.
func TestSecurity_S19_AuthorizationParametersBounded(t *testing.T) {
	store, withStore := withCountingStore()
	e := newEnv(t, withStore, withConfig(func(c *oauthproxy.Config) { c.Scopes = nil }))
	c := e.register("none")
	challenge := pkce.Challenge(pkce.GenerateVerifier())
	manyScopes := strings.TrimSpace(strings.Repeat("s ", 51))

	for _, tc := range []struct {
		name, param, value string
	}{
		{"state over 1 KiB", "state", strings.Repeat("s", 1025)},
		{"state of 1 MB", "state", strings.Repeat("s", 1<<20)},
		{"scope over 1 KiB", "scope", strings.Repeat("a", 1025)},
		{"scope with 51 values", "scope", manyScopes},
		{"resource over 2 KiB", "resource", e.cfg.BaseURL + "/mcp?" + strings.Repeat("r", 2049)},
		{"code_challenge over 128", "code_challenge", strings.Repeat("A", 129)},
		{"client_id over 2 KiB", "client_id", strings.Repeat("c", 2049)},
		{"redirect_uri over 2 KiB", "redirect_uri", clientRedirect + "?" + strings.Repeat("x", 2049)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			params := authorizeParams(c, challenge)
			params.Set(tc.param, tc.value)
			h := e.secAuthorize(newSecBrowser(t), params)
			secErrorPage(t, h, http.StatusBadRequest)
			assert.Contains(t, strings.ToLower(h.Body), tc.param, "the page names the parameter")
			assert.NotContains(t, h.Body, tc.value[len(tc.value)-64:], "the page must not echo the value")
			assert.Zero(t, store.live(t, "txn:"), "nothing may be stored")
		})
	}

	t.Run("values at the limits pass", func(t *testing.T) {
		params := authorizeParams(c, challenge)
		params.Set("state", strings.Repeat("s", 1024))
		scope := strings.TrimSpace(strings.Repeat("s ", 50))
		params.Set("scope", scope)
		h := e.secAuthorize(newSecBrowser(t), params)
		require.Equal(t, http.StatusFound, h.Status, h.Body)
		require.Equal(t, "/oauth/consent", h.Location.Path)
		assert.Equal(t, 1, store.live(t, "txn:"))
	})
}

// TestSecurity_S19_CodeChallengeHasTheExactS256Shape: an S256 challenge is
// the unpadded base64url of 32 bytes (RFC 7636 §4.2): 43 characters whose last
// one carries two zero bits. Anything else is refused before it is stored.
func TestSecurity_S19_CodeChallengeHasTheExactS256Shape(t *testing.T) {
	store, withStore := withCountingStore()
	e := newEnv(t, withStore)
	c := e.register("none")
	good := pkce.Challenge(pkce.GenerateVerifier())
	// The last character of a canonical challenge encodes 4 bits and two zero
	// bits: 'A' (000000) is canonical, 'B' (000001) is not.
	canonical := good[:42] + "A"
	nonCanonical := good[:42] + "B"

	for name, challenge := range map[string]string{
		"42 characters":       good[:42],
		"44 characters":       good + "A",
		"padding":             good[:42] + "=",
		"standard base64":     good[:41] + "+/",
		"non-canonical bits":  nonCanonical,
		"verifier-like 64 ch": strings.Repeat("a", 64),
	} {
		t.Run(name, func(t *testing.T) {
			h := e.secAuthorize(newSecBrowser(t), authorizeParams(c, challenge))
			q := secClientRedirect(t, h, clientRedirect)
			assert.Equal(t, "invalid_request", q.Get("error"))
			assert.Zero(t, store.live(t, "txn:"))
		})
	}
	h := e.secAuthorize(newSecBrowser(t), authorizeParams(c, canonical))
	require.Equal(t, http.StatusFound, h.Status)
	require.Equal(t, "/oauth/consent", h.Location.Path)
}

// TestSecurity_S19_TokenParametersBounded: the token endpoint refuses
// oversized values before any lookup, with invalid_request.
func TestSecurity_S19_TokenParametersBounded(t *testing.T) {
	e := newEnv(t)
	c := e.register("none")
	for name, form := range map[string]url.Values{
		"scope":        {"grant_type": {"refresh_token"}, "refresh_token": {"x"}, "scope": {strings.Repeat("a", 1025)}},
		"resource":     {"grant_type": {"refresh_token"}, "refresh_token": {"x"}, "resource": {strings.Repeat("r", 2049)}},
		"redirect_uri": {"grant_type": {"authorization_code"}, "code": {"x"}, "code_verifier": {strings.Repeat("v", 43)}, "redirect_uri": {strings.Repeat("u", 2049)}},
	} {
		t.Run(name, func(t *testing.T) {
			res := e.token(c, form)
			require.Equal(t, http.StatusBadRequest, res.Status, "%v", res.Body)
			assert.Equal(t, "invalid_request", res.str("error"))
			assert.Contains(t, res.str("error_description"), name)
			assert.Equal(t, "no-store", res.Header.Get("Cache-Control"))
		})
	}
}

// TestSecurity_S19_RegistrationBounded: every client metadata field has a
// limit, and so has the whole stored record (4 KiB), whatever mix of fields
// reaches it. Refusals store nothing.
func TestSecurity_S19_RegistrationBounded(t *testing.T) {
	store, withStore := withCountingStore()
	e := newEnv(t, withStore, withConfig(func(c *oauthproxy.Config) { c.Scopes = nil }))
	longURI := func(n int) string {
		return "https://app.example.com/" + strings.Repeat("p", n-len("https://app.example.com/"))
	}
	loopback := func(i, n int) string {
		prefix := "http://127.0.0.1:" + string(rune('1'+i)) + "000/"
		return prefix + strings.Repeat("p", n-len(prefix))
	}
	base := func() map[string]any {
		return map[string]any{"redirect_uris": []string{clientRedirect}, "token_endpoint_auth_method": "none"}
	}
	with := func(k string, v any) map[string]any { md := base(); md[k] = v; return md }

	for _, tc := range []struct {
		name string
		md   map[string]any
		code string
	}{
		{"11 redirect URIs", with("redirect_uris", func() []string {
			var u []string
			for i := 0; i < 11; i++ {
				u = append(u, clientRedirect)
			}
			return u
		}()), "invalid_redirect_uri"},
		{"redirect URI over 2 KiB", with("redirect_uris", []string{loopback(0, 2049)}), "invalid_redirect_uri"},
		{"client_name over 200 bytes", with("client_name", strings.Repeat("n", 201)), "invalid_client_metadata"},
		{"client_uri over 2 KiB", with("client_uri", longURI(2049)), "invalid_client_metadata"},
		{"logo_uri over 2 KiB", with("logo_uri", longURI(2049)), "invalid_client_metadata"},
		{"scope over 1 KiB", with("scope", strings.Repeat("a", 1025)), "invalid_client_metadata"},
		{"scope with 51 values", with("scope", strings.TrimSpace(strings.Repeat("s ", 51))), "invalid_client_metadata"},
		{"5 grant_types", with("grant_types", []string{"authorization_code", "authorization_code", "authorization_code", "authorization_code", "refresh_token"}), "invalid_client_metadata"},
		{"5 response_types", with("response_types", []string{"code", "code", "code", "code", "code"}), "invalid_client_metadata"},
		// Each field within its limit, the whole record over 4 KiB.
		{"record over 4 KiB", func() map[string]any {
			md := with("redirect_uris", []string{loopback(0, 1500), loopback(1, 1500), loopback(2, 1500)})
			return md
		}(), "invalid_client_metadata"},
		{"record over 4 KiB from URIs and name", func() map[string]any {
			md := with("client_uri", longURI(2000))
			md["logo_uri"] = longURI(2000)
			md["client_name"] = strings.Repeat("n", 200)
			return md
		}(), "invalid_client_metadata"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			body, err := json.Marshal(tc.md)
			require.NoError(t, err)
			res := secRegister(t, e.srv.URL, string(body))
			require.Equal(t, http.StatusBadRequest, res.Status, "%v", res.Body)
			assert.Equal(t, tc.code, res.str("error"))
			assert.Equal(t, "no-store", res.Header.Get("Cache-Control"))
			assert.Zero(t, store.live(t, "client:"), "nothing may be stored")
		})
	}

	t.Run("the largest accepted shape is under 4 KiB", func(t *testing.T) {
		md := with("redirect_uris", []string{loopback(0, 600), loopback(1, 600), loopback(2, 600)})
		md["client_name"] = strings.Repeat("n", 200)
		md["client_uri"] = longURI(800)
		md["scope"] = strings.TrimSpace(strings.Repeat("s ", 50))
		body, err := json.Marshal(md)
		require.NoError(t, err)
		res := secRegister(t, e.srv.URL, string(body))
		require.Equal(t, http.StatusCreated, res.Status, "%v", res.Body)
		assert.Equal(t, 1, store.live(t, "client:"))
	})
}

// TestSecurity_S19_MetadataDocumentsBoundedLikeRegistrations: a Client ID
// Metadata Document passes the registration limits, the 4 KiB record cap
// included, and a cached document counts against MaxClients.
func TestSecurity_S19_MetadataDocumentsBoundedLikeRegistrations(t *testing.T) {
	long := func(port string) string {
		prefix := "http://127.0.0.1:" + port + "/"
		return prefix + strings.Repeat("p", 1500-len(prefix))
	}
	authorize := func(e *env, clientID, redirect string) secHop {
		params := authorizeParams(registered{ID: clientID}, pkce.Challenge(pkce.GenerateVerifier()))
		params.Set("redirect_uri", redirect)
		return e.secAuthorize(newSecBrowser(t), params)
	}

	t.Run("record over 4 KiB", func(t *testing.T) {
		docs := newDocServer(t)
		uris := []string{long("1000"), long("2000"), long("3000")}
		clientID := docs.serveDocument("/big.json", uris...)
		store, withStore := withCountingStore()
		e := newEnv(t, withStore, withCIMD(docs.pool(), true))
		h := authorize(e, clientID, uris[0])
		secErrorPage(t, h, http.StatusBadRequest)
		assert.Contains(t, h.Body, "limited to 4096 bytes")
		assert.EqualValues(t, 1, docs.requests.Load())
		assert.Zero(t, store.live(t, "client:"), "nothing may be stored")
	})

	t.Run("counts against MaxClients", func(t *testing.T) {
		docs := newDocServer(t)
		clientID := docs.serveDocument("/client.json", clientRedirect)
		store, withStore := withCountingStore()
		e := newEnv(t, withStore, withCIMD(docs.pool(), true), withConfig(func(c *oauthproxy.Config) { c.MaxClients = 1 }))
		e.register("none")
		h := authorize(e, clientID, clientRedirect)
		require.Equal(t, http.StatusServiceUnavailable, h.Status, h.Body)
		assert.Equal(t, "60", h.Header.Get("Retry-After"))
		assert.Empty(t, h.Header.Get("Location"))
		assert.Equal(t, 1, store.live(t, "client:"))
	})
}

// TestSecurity_S19_MaxHeaderBytesFitsTheLargestRequest: a server with
// MaxHeaderBytes set to oauthproxy.MaxHeaderBytes still reads an
// authorization request with every parameter at its limit in characters
// that percent-encode to three bytes each, and a browser's cookies.
func TestSecurity_S19_MaxHeaderBytesFitsTheLargestRequest(t *testing.T) {
	e := newEnv(t)
	srv := httptest.NewUnstartedServer(e.proxy.Handler())
	srv.Config.MaxHeaderBytes = oauthproxy.MaxHeaderBytes
	srv.Start()
	t.Cleanup(srv.Close)

	wide := func(n int) string { return strings.Repeat("\"", n) } // %22 on the wire
	params := url.Values{
		"response_type":         {"code"},
		"client_id":             {wide(2048)},
		"redirect_uri":          {wide(2048)},
		"state":                 {wide(1024)},
		"scope":                 {wide(1024)},
		"resource":              {wide(2048)},
		"code_challenge":        {wide(128)},
		"code_challenge_method": {"S256"},
	}
	req, err := http.NewRequest(http.MethodGet, srv.URL+"/oauth/authorize?"+params.Encode(), nil)
	require.NoError(t, err)
	for i := 0; i < 8; i++ { // remembered-consent and binding cookies
		req.AddCookie(&http.Cookie{Name: fmt.Sprintf("oauthproxy-bind-%d", i), Value: strings.Repeat("c", 512)})
	}
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, http.StatusBadRequest, resp.StatusCode, "read and refused by the proxy, not by the server (431)")

	params.Set("state", wide(oauthproxy.MaxHeaderBytes))
	resp, err = http.Get(srv.URL + "/oauth/authorize?" + params.Encode())
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, http.StatusRequestHeaderFieldsTooLarge, resp.StatusCode, "past MaxHeaderBytes the server refuses without reading on")
}
