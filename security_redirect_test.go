package oauthproxy_test

// Security tests for S01: which redirect URIs registration and authorize accept.

import (
	"net/http"
	"net/url"
	"testing"

	"github.com/oauthproxy-go/oauthproxy"
	"github.com/oauthproxy-go/oauthproxy/internal/pkce"
	"github.com/oauthproxy-go/oauthproxy/storage"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// ---------------------------------------------------------------------------
// S01 redirect URIs

func TestSecurity_S01_RegistrationRefusesUnsafeRedirectURIs(t *testing.T) {
	store := newRecordingStore(storage.NewMemory())
	e := newEnv(t, withSecStore(store))

	for _, tc := range []struct{ name, uri string }{
		{"userinfo hides the real host", "http://localhost:@evil.com/cb"},
		{"userinfo with loopback host", "http://user@127.0.0.1/cb"},
		{"userinfo that looks like a port", "http://127.0.0.1:9@evil.com/client/callback"},
		{"fragment", "http://127.0.0.1:9/cb#frag"},
		{"empty fragment", "http://127.0.0.1:9/cb#"},
		{"javascript", "javascript:alert(1)"},
		{"javascript mixed case with slashes", "JavaScript://127.0.0.1/%0aalert(1)"},
		{"data", "data:text/html,hello"},
		{"file", "file:///etc/passwd"},
		{"plain http on a public host", "http://example.com/cb"},
		{"plain http on a loopback look-alike", "http://127.0.0.1.evil.com/cb"},
		{"plain http on a localhost subdomain", "http://localhost.evil.com/cb"},
		{"https outside the default loopback patterns", "https://evil.example/cb"},
		{"relative", "/client/callback"},
		{"empty", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			mark := store.mark()
			res := secRegister(t, e.srv.URL, secRegistrationBody("none", tc.uri))
			assert.Equal(t, http.StatusBadRequest, res.Status)
			assert.Equal(t, "invalid_redirect_uri", res.str("error"))
			assert.Empty(t, res.str("client_id"))
			assert.Empty(t, store.changedSince(mark), "a refused registration stores nothing")

			// One bad URI among good ones fails the whole registration.
			res = secRegister(t, e.srv.URL, secRegistrationBody("none", clientRedirect, tc.uri))
			assert.Equal(t, http.StatusBadRequest, res.Status)
			assert.Equal(t, "invalid_redirect_uri", res.str("error"))
		})
	}

	for _, uri := range []string{clientRedirect, "http://localhost/cb", "http://[::1]:8080/cb"} {
		res := secRegister(t, e.srv.URL, secRegistrationBody("none", uri))
		assert.Equal(t, http.StatusCreated, res.Status, "%s: %v", uri, res.Body)
	}
}

func TestSecurity_S01_RedirectPatternsMatchParsedURL(t *testing.T) {
	e := newEnv(t, withConfig(func(c *oauthproxy.Config) {
		c.AllowedRedirectURIPatterns = []string{"https://*.example.com/cb"}
	}))
	for _, tc := range []struct {
		uri     string
		allowed bool
	}{
		{"https://a.example.com/cb", true},
		{"https://a.b.example.com/cb", false},
		{"https://example.com/cb", false},
		{"https://.example.com/cb", false},
		{"https://a.example.com/cb/x", false},
		{"https://a.example.com/cbx", false},
		{"https://a.example.com/", false},
		{"https://a.example.com:8443/cb", false},
		{"http://a.example.com/cb", false},
		{"https://a.example.com.evil.com/cb", false},
		{"https://evil.com/a.example.com/cb", false},
		{"https://a.example.com@evil.com/cb", false},
		{"https://evil.com/cb#.example.com/cb", false},
		{"https://a.example.com/x/../cb", false},
		{"https://a.example.com/%2e%2e/cb", false},
	} {
		t.Run(tc.uri, func(t *testing.T) {
			res := secRegister(t, e.srv.URL, secRegistrationBody("none", tc.uri))
			if tc.allowed {
				assert.Equal(t, http.StatusCreated, res.Status, "%v", res.Body)
				return
			}
			assert.Equal(t, http.StatusBadRequest, res.Status)
			assert.Equal(t, "invalid_redirect_uri", res.str("error"))
		})
	}
}

func TestSecurity_S01_AuthorizeShowsErrorPageForUnknownClientOrRedirect(t *testing.T) {
	e := newEnv(t)
	c := e.register("none")
	challenge := pkce.Challenge(pkce.GenerateVerifier())

	for _, tc := range []struct {
		name   string
		mutate func(q url.Values)
	}{
		{"unknown client_id", func(q url.Values) { q.Set("client_id", "no-such-client") }},
		{"missing client_id", func(q url.Values) { q.Del("client_id") }},
		{"unknown client_id and bad PKCE", func(q url.Values) {
			q.Set("client_id", "no-such-client")
			q.Del("code_challenge")
		}},
		{"other path", func(q url.Values) { q.Set("redirect_uri", "http://127.0.0.1:9/client/other") }},
		{"longer path", func(q url.Values) { q.Set("redirect_uri", clientRedirect+"/x") }},
		{"path prefix", func(q url.Values) { q.Set("redirect_uri", "http://127.0.0.1:9/client") }},
		{"other loopback host", func(q url.Values) { q.Set("redirect_uri", "http://localhost:9/client/callback") }},
		{"ipv6 loopback host", func(q url.Values) { q.Set("redirect_uri", "http://[::1]:9/client/callback") }},
		{"https instead of http", func(q url.Values) { q.Set("redirect_uri", "https://127.0.0.1:9/client/callback") }},
		{"added query", func(q url.Values) { q.Set("redirect_uri", clientRedirect+"?next=https://evil.example") }},
		{"attacker site", func(q url.Values) { q.Set("redirect_uri", "https://evil.example/client/callback") }},
		{"userinfo", func(q url.Values) { q.Set("redirect_uri", "http://localhost:@evil.com/cb") }},
		{"userinfo before the registered host", func(q url.Values) { q.Set("redirect_uri", "http://127.0.0.1:9@evil.com/client/callback") }},
		{"fragment", func(q url.Values) { q.Set("redirect_uri", clientRedirect+"#x") }},
		{"javascript", func(q url.Values) { q.Set("redirect_uri", "javascript:alert(1)") }},
		{"unregistered redirect and bad PKCE", func(q url.Values) {
			q.Set("redirect_uri", "https://evil.example/cb")
			q.Set("code_challenge_method", "plain")
		}},
		{"unregistered redirect and bad response_type", func(q url.Values) {
			q.Set("redirect_uri", "https://evil.example/cb")
			q.Set("response_type", "token")
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			q := authorizeParams(c, challenge)
			tc.mutate(q)
			h := e.secAuthorize(newSecBrowser(t), q)
			secErrorPage(t, h, http.StatusBadRequest)
			assert.NotContains(t, h.Body, "csrf_token", "no consent page for an invalid request")
			assert.NotContains(t, h.Body, "evil", "the page does not echo the attacker's URI")
		})
	}
}

func TestSecurity_S01_LoopbackPortMayVaryAtAuthorize(t *testing.T) {
	e := newEnv(t)
	c := e.register("none")
	require.Equal(t, "http://127.0.0.1:9/client/callback", clientRedirect)

	verifier := pkce.GenerateVerifier()
	q := authorizeParams(c, pkce.Challenge(verifier))
	otherPort := "http://127.0.0.1:5555/client/callback"
	q.Set("redirect_uri", otherPort)
	loc := e.login(e.browser(), q)
	assert.Equal(t, "127.0.0.1:5555", loc.Host, "the code goes to the port the client asked for")
	assert.Equal(t, "/client/callback", loc.Path)
	code := loc.Query().Get("code")
	require.NotEmpty(t, code, "error: %s", loc.Query().Get("error_description"))

	tok := e.token(c, url.Values{
		"grant_type":    {"authorization_code"},
		"code":          {code},
		"redirect_uri":  {otherPort},
		"code_verifier": {verifier},
	})
	assert.Equal(t, http.StatusOK, tok.Status, "%v", tok.Body)
}
