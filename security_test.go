package oauthproxy_test

// Security tests: one or more per requirement of SECURITY.md, named
// TestSecurity_SNN_<What>. They drive the proxy over real HTTP through the
// env harness, except where the typed API is the more direct proof.

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"encoding/base64"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/oauthproxy-go/oauthproxy"
	opcrypto "github.com/oauthproxy-go/oauthproxy/crypto"
	"github.com/oauthproxy-go/oauthproxy/internal/pkce"
	"github.com/oauthproxy-go/oauthproxy/oauthproxytest"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// secAuthzErrorCodes are the codes an authorization error response may
// carry (RFC 6749 §4.1.2.1).
var secAuthzErrorCodes = []string{
	"invalid_request", "unauthorized_client", "access_denied", "unsupported_response_type",
	"invalid_scope", "server_error", "temporarily_unavailable",
}

// ---------------------------------------------------------------------------
// S01 redirect URIs

func TestSecurity_S01_RegistrationRefusesUnsafeRedirectURIs(t *testing.T) {
	store := newSecStore()
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
			assert.Empty(t, store.since(mark), "a refused registration stores nothing")

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

// ---------------------------------------------------------------------------
// S02 PKCE

func TestSecurity_S02_AuthorizeRequiresS256Challenge(t *testing.T) {
	store := newSecStore()
	e := newEnv(t, withSecStore(store))
	c := e.register("none")
	challenge := pkce.Challenge(pkce.GenerateVerifier())
	stdPadded := base64.StdEncoding.EncodeToString(make([]byte, 32)) // 44 chars with '='

	for _, tc := range []struct {
		name string
		set  map[string]string // "" deletes the parameter
	}{
		{"no challenge", map[string]string{"code_challenge": ""}},
		{"no challenge and no method", map[string]string{"code_challenge": "", "code_challenge_method": ""}},
		{"no method (plain by default)", map[string]string{"code_challenge_method": ""}},
		{"plain", map[string]string{"code_challenge_method": "plain"}},
		{"plain with a verifier as challenge", map[string]string{"code_challenge_method": "plain", "code_challenge": pkce.GenerateVerifier()}},
		{"lowercase s256", map[string]string{"code_challenge_method": "s256"}},
		{"unknown method", map[string]string{"code_challenge_method": "S512"}},
		{"challenge too short", map[string]string{"code_challenge": "abc"}},
		{"challenge too long", map[string]string{"code_challenge": challenge + "A"}},
		{"challenge of 128 characters", map[string]string{"code_challenge": strings.Repeat("a", 128)}},
		{"challenge with a bad character", map[string]string{"code_challenge": challenge[:42] + "!"}},
		{"challenge in padded standard base64", map[string]string{"code_challenge": stdPadded}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			q := authorizeParams(c, challenge)
			for k, v := range tc.set {
				if v == "" {
					q.Del(k)
				} else {
					q.Set(k, v)
				}
			}
			mark := store.mark()
			h := e.secAuthorize(newSecBrowser(t), q)
			got := secClientRedirect(t, h, clientRedirect)
			assert.Equal(t, "invalid_request", got.Get("error"))
			assert.Equal(t, "client-state-123", got.Get("state"))
			assert.Equal(t, e.srv.URL, got.Get("iss"))
			assert.Empty(t, got.Get("code"))
			assert.Empty(t, store.since(mark), "a refused request records no transaction")
		})
	}
}

func TestSecurity_S02_TokenChecksVerifier(t *testing.T) {
	store := newSecStore()
	e := newEnv(t, withSecStore(store))
	c := e.register("none")
	code, verifier := e.code(c)

	for _, tc := range []struct {
		name, verifier string
		wantError      string
	}{
		{"wrong verifier", pkce.GenerateVerifier(), "invalid_grant"},
		{"challenge sent as verifier (plain downgrade)", pkce.Challenge(verifier), "invalid_grant"},
		{"verifier truncated", verifier[:42], "invalid_grant"},
		{"verifier with a suffix", verifier + "A", "invalid_grant"},
		{"verifier in other case", strings.ToUpper(verifier), "invalid_grant"},
		{"missing verifier", "", "invalid_request"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			form := url.Values{
				"grant_type":   {"authorization_code"},
				"code":         {code},
				"redirect_uri": {clientRedirect},
			}
			if tc.verifier != "" {
				form.Set("code_verifier", tc.verifier)
			}
			mark := store.mark()
			res := e.token(c, form)
			assert.Equal(t, http.StatusBadRequest, res.Status)
			assert.Equal(t, tc.wantError, res.str("error"))
			assert.Empty(t, res.str("access_token"))
			assert.Empty(t, store.since(mark), "a refused exchange leaves the code in place")
		})
	}

	res := e.exchange(c, code, verifier)
	require.Equal(t, http.StatusOK, res.Status, "the code still works with the right verifier: %v", res.Body)
	assert.NotEmpty(t, res.str("access_token"))
}

// ---------------------------------------------------------------------------
// S03 client authentication

func TestSecurity_S03_ConfidentialClientMustAuthenticate(t *testing.T) {
	for _, method := range []string{"client_secret_basic", "client_secret_post"} {
		t.Run(method, func(t *testing.T) {
			store := newSecStore()
			e := newEnv(t, withSecStore(store))
			c := e.register(method)
			require.NotEmpty(t, c.Secret)
			other := e.register(method)
			code, verifier := e.code(c)
			grant := url.Values{
				"grant_type":    {"authorization_code"},
				"code":          {code},
				"redirect_uri":  {clientRedirect},
				"code_verifier": {verifier},
			}
			registeredBasic := method == "client_secret_basic"

			for _, tc := range []struct {
				name       string
				basic      bool // credentials in HTTP Basic, else in the body
				id, secret string
				noSecret   bool // only client_id in the body
			}{
				{name: "no secret", id: c.ID, noSecret: true},
				{name: "wrong secret", basic: registeredBasic, id: c.ID, secret: "wrong-secret"},
				{name: "empty secret", basic: registeredBasic, id: c.ID, secret: ""},
				{name: "another client's secret", basic: registeredBasic, id: c.ID, secret: other.Secret},
				{name: "right secret, wrong method", basic: !registeredBasic, id: c.ID, secret: c.Secret},
				{name: "unknown client", basic: registeredBasic, id: "no-such-client", secret: c.Secret},
			} {
				form, basicID, basicSecret := cloneValues(grant), "", ""
				switch {
				case tc.noSecret:
					form.Set("client_id", tc.id)
				case tc.basic:
					basicID, basicSecret = tc.id, tc.secret
				default:
					form.Set("client_id", tc.id)
					form.Set("client_secret", tc.secret)
				}
				t.Run(tc.name, func(t *testing.T) {
					mark := store.mark()
					res, err := secToken(e.srv.URL, form, basicID, basicSecret)
					require.NoError(t, err)
					assert.Equal(t, http.StatusUnauthorized, res.Status)
					assert.Equal(t, "invalid_client", res.str("error"))
					assert.Empty(t, res.str("access_token"))
					if tc.basic {
						assert.True(t, strings.HasPrefix(res.Header.Get("WWW-Authenticate"), "Basic"),
							"WWW-Authenticate after Basic: %q", res.Header.Get("WWW-Authenticate"))
					}
					assert.Empty(t, store.since(mark), "a refused client changes nothing")
				})
			}

			tok := e.exchange(c, code, verifier)
			require.Equal(t, http.StatusOK, tok.Status, "the rightful client still redeems the code: %v", tok.Body)

			// The refresh grant authenticates the client too.
			refresh := url.Values{"grant_type": {"refresh_token"}, "refresh_token": {tok.str("refresh_token")}}
			form, id, secret := secAuthForm(registered{ID: c.ID, Secret: "wrong-secret", AuthMethod: method}, refresh)
			res, err := secToken(e.srv.URL, form, id, secret)
			require.NoError(t, err)
			assert.Equal(t, http.StatusUnauthorized, res.Status)
			assert.Equal(t, "invalid_client", res.str("error"))
			assert.Equal(t, http.StatusOK, e.token(c, refresh).Status)
		})
	}
}

func TestSecurity_S03_SecretIssuedOnlyToConfidentialClients(t *testing.T) {
	e := newEnv(t)
	for _, tc := range []struct {
		method, wantMethod string
		wantSecret         bool
	}{
		{"none", "none", false},
		{"client_secret_basic", "client_secret_basic", true},
		{"client_secret_post", "client_secret_post", true},
		{"", "client_secret_basic", true}, // RFC 7591 §2 default
	} {
		t.Run("method="+tc.method, func(t *testing.T) {
			res := secRegister(t, e.srv.URL, secRegistrationBody(tc.method, clientRedirect))
			require.Equal(t, http.StatusCreated, res.Status, "%v", res.Body)
			assert.NotEmpty(t, res.str("client_id"))
			assert.Equal(t, tc.wantMethod, res.str("token_endpoint_auth_method"))
			secret, hasSecret := res.Body["client_secret"]
			expires, hasExpires := res.Body["client_secret_expires_at"]
			if !tc.wantSecret {
				assert.False(t, hasSecret, "a public client gets no secret: %v", secret)
				assert.False(t, hasExpires)
				return
			}
			s, _ := secret.(string)
			assert.GreaterOrEqual(t, len(s), 43, "the secret carries at least 256 bits")
			require.True(t, hasExpires, "client_secret_expires_at is REQUIRED with a secret (RFC 7591 §3.2.1)")
			assert.EqualValues(t, 0, expires)
		})
	}
}

// ---------------------------------------------------------------------------
// S04 authorization codes

func TestSecurity_S04_CodeIsSingleUse(t *testing.T) {
	e := newEnv(t)
	c := e.register("none")
	code, verifier := e.code(c)
	require.Equal(t, http.StatusOK, e.exchange(c, code, verifier).Status)

	again := e.exchange(c, code, verifier)
	assert.Equal(t, http.StatusBadRequest, again.Status)
	assert.Equal(t, "invalid_grant", again.str("error"))
	assert.Empty(t, again.str("access_token"))
}

func TestSecurity_S04_CodeIsBoundToClient(t *testing.T) {
	store := newSecStore()
	e := newEnv(t, withSecStore(store))
	owner := e.register("none")
	for _, thief := range []registered{e.register("none"), e.register("client_secret_basic")} {
		code, verifier := e.code(owner)
		mark := store.mark()
		res := e.exchange(thief, code, verifier)
		assert.Equal(t, http.StatusBadRequest, res.Status, thief.AuthMethod)
		assert.Equal(t, "invalid_grant", res.str("error"))
		assert.Empty(t, res.str("access_token"))
		assert.Empty(t, store.since(mark), "another client's attempt leaves the code in place")

		res = e.exchange(owner, code, verifier)
		assert.Equal(t, http.StatusOK, res.Status, "the rightful client still redeems it: %v", res.Body)
	}
}

func TestSecurity_S04_CodeIsBoundToRedirectURI(t *testing.T) {
	e := newEnv(t)
	c := e.register("none", clientRedirect, "http://127.0.0.1:9/client/other")
	code, verifier := e.code(c)
	for _, uri := range []string{
		"http://127.0.0.1:9/client/other", // registered, but not the one used at /authorize
		"http://127.0.0.1:5555/client/callback",
		"https://evil.example/client/callback",
	} {
		res := e.token(c, url.Values{
			"grant_type":    {"authorization_code"},
			"code":          {code},
			"redirect_uri":  {uri},
			"code_verifier": {verifier},
		})
		assert.Equal(t, http.StatusBadRequest, res.Status, uri)
		assert.Equal(t, "invalid_grant", res.str("error"), uri)
	}
	assert.Equal(t, http.StatusOK, e.exchange(c, code, verifier).Status)
}

func TestSecurity_S04_CodeExpires(t *testing.T) {
	clk := newSecClock()
	e := newEnv(t, withSecClock(clk))
	c := e.register("none")

	fresh, freshVerifier := e.code(c)
	stale, staleVerifier := e.code(c)
	clk.Advance(oauthproxy.DefaultAuthorizationCodeTTL - time.Second)
	assert.Equal(t, http.StatusOK, e.exchange(c, fresh, freshVerifier).Status, "valid just before the TTL")

	clk.Advance(2 * time.Second)
	res := e.exchange(c, stale, staleVerifier)
	assert.Equal(t, http.StatusBadRequest, res.Status)
	assert.Equal(t, "invalid_grant", res.str("error"))
	assert.Empty(t, res.str("access_token"))
}

func TestSecurity_S04_CodeHas256Bits(t *testing.T) {
	e := newEnv(t)
	c := e.register("none")
	seen := map[string]bool{}
	for range 3 {
		code, _ := e.code(c)
		assert.GreaterOrEqual(t, len(code), 43, "code %q", code)
		raw, err := base64.RawURLEncoding.DecodeString(code)
		require.NoError(t, err, "code is base64url")
		assert.GreaterOrEqual(t, len(raw), 32, "at least 256 bits")
		assert.False(t, seen[code], "codes are unique")
		seen[code] = true
	}
}

func TestSecurity_S04_ConcurrentRedemptionSucceedsOnce(t *testing.T) {
	e := newEnv(t)
	c := e.register("none")
	code, verifier := e.code(c)
	form, id, secret := secAuthForm(c, url.Values{
		"grant_type":    {"authorization_code"},
		"code":          {code},
		"redirect_uri":  {clientRedirect},
		"code_verifier": {verifier},
	})
	results, errs := secRace(20, func() (tokenResult, error) { return secToken(e.srv.URL, form, id, secret) })
	ok := 0
	for i, r := range results {
		require.NoError(t, errs[i])
		if r.Status == http.StatusOK {
			ok++
			continue
		}
		assert.Equal(t, http.StatusBadRequest, r.Status)
		assert.Equal(t, "invalid_grant", r.str("error"))
	}
	assert.Equal(t, 1, ok, "exactly one concurrent redemption succeeds")
}

// ---------------------------------------------------------------------------
// S06 refresh tokens (foundation part)

func TestSecurity_S06_ConcurrentRefreshSucceedsOnce(t *testing.T) {
	for _, method := range []string{"none", "client_secret_basic"} {
		t.Run(method, func(t *testing.T) {
			e := newEnv(t)
			c := e.register(method)
			tok := e.secTokens(c)
			form, id, secret := secAuthForm(c, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {tok.str("refresh_token")}})
			results, errs := secRace(20, func() (tokenResult, error) { return secToken(e.srv.URL, form, id, secret) })
			var winners []tokenResult
			for i, r := range results {
				require.NoError(t, errs[i])
				if r.Status == http.StatusOK {
					winners = append(winners, r)
					continue
				}
				assert.Equal(t, http.StatusBadRequest, r.Status)
				assert.Equal(t, "invalid_grant", r.str("error"))
			}
			require.Len(t, winners, 1, "exactly one concurrent refresh succeeds")
		})
	}
}

func TestSecurity_S06_RefreshTokenIsBoundToClient(t *testing.T) {
	store := newSecStore()
	e := newEnv(t, withSecStore(store))
	owner := e.register("client_secret_post")
	tok := e.secTokens(owner)
	for _, thief := range []registered{e.register("none"), e.register("client_secret_basic"), e.register("client_secret_post")} {
		mark := store.mark()
		res := e.refresh(thief, tok.str("refresh_token"))
		assert.Equal(t, http.StatusBadRequest, res.Status, thief.AuthMethod)
		assert.Equal(t, "invalid_grant", res.str("error"))
		assert.Empty(t, res.str("access_token"))
		assert.Empty(t, store.since(mark), "another client's attempt leaves the refresh token in place")
	}
	res := e.refresh(owner, tok.str("refresh_token"))
	assert.Equal(t, http.StatusOK, res.Status, "the owner can still refresh: %v", res.Body)
}

func TestSecurity_S06_RefreshMayOnlyNarrowScope(t *testing.T) {
	store := newSecStore()
	e := newEnv(t, withSecStore(store))
	c := e.register("none")
	tok := e.secTokens(c) // scope "openid email"
	require.Equal(t, "openid email", tok.str("scope"))
	rt := tok.str("refresh_token")

	for _, scope := range []string{"openid email profile", "profile", "admin", "openid admin"} {
		mark := store.mark()
		res := e.token(c, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {rt}, "scope": {scope}})
		assert.Equal(t, http.StatusBadRequest, res.Status, scope)
		assert.Equal(t, "invalid_scope", res.str("error"), scope)
		assert.Empty(t, res.str("access_token"))
		assert.Empty(t, store.since(mark), "a refused refresh leaves the token in place")
	}

	res := e.token(c, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {rt}, "scope": {"openid"}})
	require.Equal(t, http.StatusOK, res.Status, "narrowing works: %v", res.Body)
	assert.Equal(t, "openid", res.str("scope"))
	assert.Equal(t, "openid", secClaims(t, res.str("access_token"))["scope"])
	resp, claims := e.callMCP(res.str("access_token"))
	require.Equal(t, http.StatusOK, resp.StatusCode)
	assert.Equal(t, []any{"openid"}, claims["Scopes"], "the new access token carries only the narrowed scope")
}

// ---------------------------------------------------------------------------
// S07 token types and JWT verification

func TestSecurity_S07_RefreshTokenIsNotABearerToken(t *testing.T) {
	e := newEnv(t)
	c := e.register("none")
	tok := e.secTokens(c)
	resp, _ := e.callMCP(tok.str("refresh_token"))
	assert.Equal(t, http.StatusUnauthorized, resp.StatusCode)
	assert.Contains(t, resp.Header.Get("WWW-Authenticate"), `error="invalid_token"`)
	_, err := e.proxy.LoadUpstreamTokens(context.Background(), tok.str("refresh_token"))
	assert.ErrorIs(t, err, oauthproxy.ErrInvalidToken)

	// The access token still works: the refused call changed nothing.
	resp, _ = e.callMCP(tok.str("access_token"))
	assert.Equal(t, http.StatusOK, resp.StatusCode)
}

func TestSecurity_S07_AccessTokenIsNotARefreshToken(t *testing.T) {
	e := newEnv(t)
	c := e.register("none")
	tok := e.secTokens(c)
	res := e.refresh(c, tok.str("access_token"))
	assert.Equal(t, http.StatusBadRequest, res.Status)
	assert.Equal(t, "invalid_grant", res.str("error"))
	assert.Empty(t, res.str("access_token"))
	assert.Equal(t, http.StatusOK, e.refresh(c, tok.str("refresh_token")).Status)
}

func TestSecurity_S07_JWTVerificationIsStrict(t *testing.T) {
	clk := newSecClock()
	e := newEnv(t, withSecClock(clk))
	c := e.register("none")
	tok := e.secTokens(c)
	issued := secClaims(t, tok.str("access_token"))
	require.NotEmpty(t, issued["gid"])
	now := clk.Now()
	otherKey := []byte(strings.Repeat("k", 32))
	rsaKey, err := rsa.GenerateKey(rand.Reader, 2048)
	require.NoError(t, err)

	valid := func() jwt.MapClaims {
		return jwt.MapClaims{
			"iss":       e.srv.URL,
			"aud":       e.srv.URL + "/mcp",
			"sub":       issued["sub"],
			"client_id": issued["client_id"],
			"gid":       issued["gid"],
			"scope":     "openid email",
			"jti":       "forged",
			"iat":       now.Unix(),
			"exp":       now.Add(time.Hour).Unix(),
		}
	}
	without := func(names ...string) jwt.MapClaims {
		m := valid()
		for _, n := range names {
			delete(m, n)
		}
		return m
	}
	with := func(name string, v any) jwt.MapClaims {
		m := valid()
		m[name] = v
		return m
	}

	// Sanity: a token forged with the real key and every claim right passes, so
	// each refusal below is caused by the one thing the case changes.
	good := secForgeJWT(t, jwt.SigningMethodHS256, secJWTKey, valid(), nil)
	resp, _ := e.callMCP(good)
	require.Equal(t, http.StatusOK, resp.StatusCode)
	_, err = e.proxy.LoadUpstreamTokens(context.Background(), good)
	require.NoError(t, err)

	parts := strings.Split(tok.str("access_token"), ".")
	payload, err := base64.RawURLEncoding.DecodeString(parts[1])
	require.NoError(t, err)
	altered := strings.Join([]string{parts[0],
		base64.RawURLEncoding.EncodeToString([]byte(strings.Replace(string(payload), `"openid email"`, `"openid email admin"`, 1))),
		parts[2]}, ".")

	for _, tc := range []struct {
		name    string
		token   string
		wantErr error
	}{
		{"alg none", secForgeJWT(t, jwt.SigningMethodNone, jwt.UnsafeAllowNoneSignatureType, valid(), nil), oauthproxy.ErrInvalidToken},
		{"alg none with the HS256 header", strings.Join(strings.Split(good, ".")[:2], ".") + ".", oauthproxy.ErrInvalidToken},
		{"HS256 with another key", secForgeJWT(t, jwt.SigningMethodHS256, otherKey, valid(), nil), oauthproxy.ErrInvalidToken},
		{"HS256 with another key and its kid", secForgeJWT(t, jwt.SigningMethodHS256, otherKey, valid(), map[string]any{"kid": opcrypto.KeyID(otherKey)}), oauthproxy.ErrInvalidToken},
		{"RS256 (algorithm confusion)", secForgeJWT(t, jwt.SigningMethodRS256, rsaKey, valid(), nil), oauthproxy.ErrInvalidToken},
		{"HS384 with the right key", secForgeJWT(t, jwt.SigningMethodHS384, secJWTKey, valid(), nil), oauthproxy.ErrInvalidToken},
		{"HS512 with the right key", secForgeJWT(t, jwt.SigningMethodHS512, secJWTKey, valid(), nil), oauthproxy.ErrInvalidToken},
		{"typ JWT", secForgeJWT(t, jwt.SigningMethodHS256, secJWTKey, valid(), map[string]any{"typ": "JWT"}), oauthproxy.ErrInvalidToken},
		{"typ missing", secForgeJWT(t, jwt.SigningMethodHS256, secJWTKey, valid(), map[string]any{"typ": nil}), oauthproxy.ErrInvalidToken},
		{"kid missing", secForgeJWT(t, jwt.SigningMethodHS256, secJWTKey, valid(), map[string]any{"kid": nil}), oauthproxy.ErrInvalidToken},
		{"wrong iss", secForgeJWT(t, jwt.SigningMethodHS256, secJWTKey, with("iss", "https://evil.example"), nil), oauthproxy.ErrInvalidToken},
		{"iss missing", secForgeJWT(t, jwt.SigningMethodHS256, secJWTKey, without("iss"), nil), oauthproxy.ErrInvalidToken},
		{"wrong aud", secForgeJWT(t, jwt.SigningMethodHS256, secJWTKey, with("aud", e.srv.URL+"/other"), nil), oauthproxy.ErrInvalidToken},
		{"aud with an extra resource", secForgeJWT(t, jwt.SigningMethodHS256, secJWTKey, with("aud", []string{e.srv.URL + "/mcp", "https://evil.example"}), nil), oauthproxy.ErrInvalidToken},
		{"aud missing", secForgeJWT(t, jwt.SigningMethodHS256, secJWTKey, without("aud"), nil), oauthproxy.ErrInvalidToken},
		{"expired", secForgeJWT(t, jwt.SigningMethodHS256, secJWTKey, with("exp", now.Add(-time.Second).Unix()), nil), oauthproxy.ErrTokenExpired},
		{"exp missing", secForgeJWT(t, jwt.SigningMethodHS256, secJWTKey, without("exp"), nil), oauthproxy.ErrInvalidToken},
		{"not yet valid", secForgeJWT(t, jwt.SigningMethodHS256, secJWTKey, with("nbf", now.Add(time.Hour).Unix()), nil), oauthproxy.ErrInvalidToken},
		{"client_id missing", secForgeJWT(t, jwt.SigningMethodHS256, secJWTKey, without("client_id"), nil), oauthproxy.ErrInvalidToken},
		{"gid missing", secForgeJWT(t, jwt.SigningMethodHS256, secJWTKey, without("gid"), nil), oauthproxy.ErrInvalidToken},
		{"payload altered", altered, oauthproxy.ErrInvalidToken},
		{"garbage", "not-a-jwt", oauthproxy.ErrInvalidToken},
	} {
		t.Run(tc.name, func(t *testing.T) {
			resp, _ := e.callMCP(tc.token)
			assert.Equal(t, http.StatusUnauthorized, resp.StatusCode)
			assert.Contains(t, resp.Header.Get("WWW-Authenticate"), `error="invalid_token"`)

			up, err := e.proxy.LoadUpstreamTokens(context.Background(), tc.token)
			assert.Nil(t, up)
			assert.ErrorIs(t, err, tc.wantErr)
		})
	}

	t.Run("real token after its TTL", func(t *testing.T) {
		clk.Advance(oauthproxy.DefaultAccessTokenTTL + time.Second)
		resp, _ := e.callMCP(tok.str("access_token"))
		assert.Equal(t, http.StatusUnauthorized, resp.StatusCode)
		assert.Contains(t, resp.Header.Get("WWW-Authenticate"), `error="invalid_token"`)
		_, err := e.proxy.LoadUpstreamTokens(context.Background(), tok.str("access_token"))
		assert.ErrorIs(t, err, oauthproxy.ErrTokenExpired)
	})
}

// ---------------------------------------------------------------------------
// S08 consent

func TestSecurity_S08_ConsentPageShowsWhoAsksEscaped(t *testing.T) {
	e := newEnv(t)
	c := e.register("none")
	page, _ := e.secOpenConsent(newSecBrowser(t), authorizeParams(c, pkce.Challenge(pkce.GenerateVerifier())))

	assert.Contains(t, page.Body, "Test &lt;Client&gt;", "the client name is shown, escaped")
	assert.NotContains(t, page.Body, "<Client>", "the client name is never raw HTML")
	assert.Contains(t, page.Body, "127.0.0.1:9", "the redirect URI's host is shown")
	assert.Contains(t, page.Body, "openid")
	assert.Contains(t, page.Body, "email")

	assert.Equal(t, "DENY", page.Header.Get("X-Frame-Options"))
	assert.Contains(t, page.Header.Get("Content-Security-Policy"), "frame-ancestors 'none'")
	assert.Contains(t, page.Header.Get("Content-Type"), "text/html")
	assert.Contains(t, page.Header.Get("Cache-Control"), "no-store")
}

func TestSecurity_S08_ConsentPageEscapesScopes(t *testing.T) {
	// With no configured scope set, requested scopes are passed through and
	// shown; a scope token may hold '<' and '>' (RFC 6749 §3.3).
	e := newEnv(t, withConfig(func(c *oauthproxy.Config) { c.Scopes = nil }))
	c := e.register("none")
	q := authorizeParams(c, pkce.Challenge(pkce.GenerateVerifier()))
	q.Set("scope", "openid <img/src=x>")
	page, _ := e.secOpenConsent(newSecBrowser(t), q)
	assert.NotContains(t, page.Body, "<img")
	assert.Contains(t, page.Body, "&lt;img/src=x&gt;")
}

func TestSecurity_S08_ConsentPostNeedsCSRFTokenBoundToCookie(t *testing.T) {
	store := newSecStore()
	e := newEnv(t, withSecStore(store))
	c := e.register("none")
	b := newSecBrowser(t)
	verifier := pkce.GenerateVerifier()
	_, form := e.secOpenConsent(b, authorizeParams(c, pkce.Challenge(verifier)))
	_, otherForm := e.secOpenConsent(b, authorizeParams(c, pkce.Challenge(pkce.GenerateVerifier())))
	require.NotEqual(t, form.Get("csrf_token"), otherForm.Get("csrf_token"), "tokens are per transaction")

	withToken := func(token string) url.Values {
		f := cloneValues(form)
		if token == "" {
			f.Del("csrf_token")
		} else {
			f.Set("csrf_token", token)
		}
		return f
	}
	for _, tc := range []struct {
		name    string
		browser *secBrowser
		form    url.Values
	}{
		{"no csrf_token", b, withToken("")},
		{"empty csrf_token", b, url.Values{"txn": {form.Get("txn")}, "csrf_token": {""}}},
		{"wrong csrf_token", b, withToken(base64.RawURLEncoding.EncodeToString(make([]byte, 32)))},
		{"csrf_token of another transaction", b, withToken(otherForm.Get("csrf_token"))},
		{"no csrf cookie", newSecBrowser(t), form},
	} {
		for _, action := range []string{"approve", "deny"} {
			t.Run(tc.name+"/"+action, func(t *testing.T) {
				mark := store.mark()
				h := e.secDecide(tc.browser, tc.form, action)
				assert.GreaterOrEqual(t, h.Status, 400, h.Body)
				assert.Less(t, h.Status, 500, h.Body)
				assert.Nil(t, h.Location, "a refused consent sends the browser nowhere")
				assert.Nil(t, h.cookie("oauthproxy-bind"), "no browser binding without consent")
				assert.Empty(t, store.since(mark), "a refused consent changes nothing")
			})
		}
	}

	// The transaction is intact: the real form still works end to end.
	h := b.get(e.secToCallback(b, e.secDecide(b, form, "approve")))
	got := secClientRedirect(t, h, clientRedirect)
	require.NotEmpty(t, got.Get("code"))
	assert.Equal(t, http.StatusOK, e.exchange(c, got.Get("code"), verifier).Status)
}

func TestSecurity_S08_ConsentRefusesCrossOriginPost(t *testing.T) {
	e := newEnv(t)
	c := e.register("none")
	b := newSecBrowser(t)
	_, form := e.secOpenConsent(b, authorizeParams(c, pkce.Challenge(pkce.GenerateVerifier())))
	approve := cloneValues(form)
	approve.Set("action", "approve")

	for _, tc := range []struct {
		name   string
		header http.Header
	}{
		{"Sec-Fetch-Site cross-site", http.Header{"Sec-Fetch-Site": {"cross-site"}}},
		{"Sec-Fetch-Site same-site", http.Header{"Sec-Fetch-Site": {"same-site"}}},
		{"foreign Origin", http.Header{"Origin": {"https://evil.example"}}},
		{"foreign Origin on another loopback port", http.Header{"Origin": {"http://127.0.0.1:9"}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := b.post(e.srv.URL+"/oauth/consent", approve, tc.header)
			assert.Equal(t, http.StatusForbidden, h.Status, h.Body)
			assert.Nil(t, h.Location)
			assert.Nil(t, h.cookie("oauthproxy-bind"))
		})
	}

	h := b.post(e.srv.URL+"/oauth/consent", approve, http.Header{"Sec-Fetch-Site": {"same-origin"}, "Origin": {e.srv.URL}})
	assert.Equal(t, http.StatusSeeOther, h.Status, "a same-origin POST is accepted: %s", h.Body)
}

func TestSecurity_S08_RepeatedConsentGetKeepsFlowWorking(t *testing.T) {
	e := newEnv(t)
	c := e.register("none")
	for _, which := range []int{0, 1} {
		t.Run([]string{"token from first page", "token from second page"}[which], func(t *testing.T) {
			b := newSecBrowser(t)
			verifier := pkce.GenerateVerifier()
			h := e.secAuthorize(b, authorizeParams(c, pkce.Challenge(verifier)))
			require.NotNil(t, h.Location)
			var forms []url.Values
			for range 2 { // a prefetch, then the real visit
				page := b.get(h.Location.String())
				require.Equal(t, http.StatusOK, page.Status, page.Body)
				forms = append(forms, secConsentForm(t, page.Body))
			}
			cb := b.get(e.secToCallback(b, e.secDecide(b, forms[which], "approve")))
			got := secClientRedirect(t, cb, clientRedirect)
			require.NotEmpty(t, got.Get("code"), got.Get("error_description"))
			assert.Equal(t, http.StatusOK, e.exchange(c, got.Get("code"), verifier).Status)
		})
	}
}

func TestSecurity_S08_DenyReturnsAccessDenied(t *testing.T) {
	e := newEnv(t)
	c := e.register("none")
	b := newSecBrowser(t)
	_, form := e.secOpenConsent(b, authorizeParams(c, pkce.Challenge(pkce.GenerateVerifier())))

	h := e.secDecide(b, form, "deny")
	got := secClientRedirect(t, h, clientRedirect)
	assert.Equal(t, "access_denied", got.Get("error"))
	assert.Equal(t, "client-state-123", got.Get("state"))
	assert.Equal(t, e.srv.URL, got.Get("iss"))
	assert.Empty(t, got.Get("code"))
	assert.Nil(t, h.cookie("oauthproxy-bind"))
	assert.Empty(t, e.idp.LastAuthorizeQuery(), "the upstream is never visited")

	// The denied transaction is over: approving it afterwards fails.
	h = e.secDecide(b, form, "approve")
	secErrorPage(t, h, http.StatusBadRequest)
}

// ---------------------------------------------------------------------------
// S09 browser binding

func TestSecurity_S09_CallbackRequiresConsentingBrowser(t *testing.T) {
	e := newEnv(t)
	c := e.register("none")
	victim := newSecBrowser(t)
	verifier := pkce.GenerateVerifier()
	callback := e.secCallbackURL(victim, authorizeParams(c, pkce.Challenge(verifier)))

	// Another browser (the attacker's, or the victim lured onto an attacker's
	// callback URL) cannot complete the flow.
	h := newSecBrowser(t).get(callback)
	secErrorPage(t, h, http.StatusForbidden)

	// The browser that consented can, once.
	h = victim.get(callback)
	got := secClientRedirect(t, h, clientRedirect)
	require.NotEmpty(t, got.Get("code"), got.Get("error_description"))
	assert.Equal(t, "client-state-123", got.Get("state"))
	assert.Equal(t, e.srv.URL, got.Get("iss"))

	h = victim.get(callback)
	require.Contains(t, []int{http.StatusBadRequest, http.StatusForbidden}, h.Status, h.Body)
	secErrorPage(t, h, h.Status)

	assert.Equal(t, http.StatusOK, e.exchange(c, got.Get("code"), verifier).Status)
}

func TestSecurity_S09_BindingCookieFlags(t *testing.T) {
	e := newEnv(t)
	c := e.register("none")
	b := newSecBrowser(t)
	page, form := e.secOpenConsent(b, authorizeParams(c, pkce.Challenge(pkce.GenerateVerifier())))
	csrf := page.cookie("oauthproxy-csrf")
	require.NotNil(t, csrf, "the consent page sets the CSRF cookie")
	h := e.secDecide(b, form, "approve")
	bind := h.cookie("oauthproxy-bind")
	require.NotNil(t, bind, "consent sets the browser-binding cookie")

	for _, ck := range []*http.Cookie{csrf, bind} {
		assert.True(t, ck.HttpOnly, ck.Name)
		assert.Equal(t, http.SameSiteLaxMode, ck.SameSite, ck.Name)
		assert.Equal(t, "/", ck.Path, ck.Name)
		assert.Empty(t, ck.Domain, ck.Name)
		assert.Positive(t, ck.MaxAge, ck.Name)
		assert.NotEmpty(t, ck.Value, ck.Name)
	}
	assert.NotContains(t, bind.Value, form.Get("txn"), "the binding is not the bare transaction id")
}

func TestSecurity_S09_HostPrefixedSecureCookiesOnHTTPS(t *testing.T) {
	const base = "https://mcp.example.com"
	newProxy := func(t *testing.T, disableConsent bool) (*oauthproxy.Proxy, string) {
		p, err := oauthproxy.New(oauthproxy.Config{
			BaseURL:                       base,
			UpstreamAuthorizationEndpoint: "https://idp.example.com/authorize",
			UpstreamTokenEndpoint:         "https://idp.example.com/token",
			UpstreamClientID:              "upstream-client",
			UpstreamClientSecret:          "upstream-secret",
			Scopes:                        []string{"openid", "email"},
			DisableConsent:                disableConsent,
			JWTSigningKey:                 secJWTKey,
			EncryptionKey:                 []byte(strings.Repeat("e", 32)),
			ConsentSigningKey:             []byte(strings.Repeat("c", 32)),
			Logger:                        slog.New(slog.NewTextHandler(io.Discard, nil)),
		})
		require.NoError(t, err)
		t.Cleanup(p.Destroy)
		info, err := p.RegisterClient(context.Background(), &oauthproxy.ClientMetadata{
			RedirectURIs:            []string{clientRedirect},
			TokenEndpointAuthMethod: "none",
		})
		require.NoError(t, err)
		return p, info.ClientID
	}
	serve := func(p *oauthproxy.Proxy, req *http.Request) *http.Response {
		rec := httptest.NewRecorder()
		p.Handler().ServeHTTP(rec, req)
		return rec.Result()
	}
	requireHostCookie := func(t *testing.T, resp *http.Response, name string) *http.Cookie {
		t.Helper()
		for _, ck := range resp.Cookies() {
			if strings.Contains(ck.Name, name) {
				assert.True(t, strings.HasPrefix(ck.Name, "__Host-"), "cookie %q has the __Host- prefix", ck.Name)
				assert.True(t, ck.Secure, ck.Name)
				assert.True(t, ck.HttpOnly, ck.Name)
				assert.Equal(t, http.SameSiteLaxMode, ck.SameSite, ck.Name)
				assert.Equal(t, "/", ck.Path, "__Host- requires Path=/")
				assert.Empty(t, ck.Domain, "__Host- forbids Domain")
				return ck
			}
		}
		require.Failf(t, "cookie missing", "no %q cookie in %v", name, resp.Header.Values("Set-Cookie"))
		return nil
	}
	params := func(clientID string) string {
		return authorizeParams(registered{ID: clientID}, pkce.Challenge(pkce.GenerateVerifier())).Encode()
	}

	t.Run("consent disabled", func(t *testing.T) {
		p, clientID := newProxy(t, true)
		resp := serve(p, httptest.NewRequest(http.MethodGet, base+"/oauth/authorize?"+params(clientID), nil))
		require.Equal(t, http.StatusFound, resp.StatusCode)
		require.True(t, strings.HasPrefix(resp.Header.Get("Location"), "https://idp.example.com/authorize?"))
		requireHostCookie(t, resp, "oauthproxy-bind")
	})

	t.Run("consent enabled", func(t *testing.T) {
		p, clientID := newProxy(t, false)
		resp := serve(p, httptest.NewRequest(http.MethodGet, base+"/oauth/authorize?"+params(clientID), nil))
		require.Equal(t, http.StatusFound, resp.StatusCode)
		consentURL := resp.Header.Get("Location")
		require.True(t, strings.HasPrefix(consentURL, base+"/oauth/consent?"), consentURL)

		resp = serve(p, httptest.NewRequest(http.MethodGet, consentURL, nil))
		require.Equal(t, http.StatusOK, resp.StatusCode)
		csrf := requireHostCookie(t, resp, "oauthproxy-csrf")
		body, _ := io.ReadAll(resp.Body)
		form := secConsentForm(t, string(body))
		form.Set("action", "approve")

		req := httptest.NewRequest(http.MethodPost, base+"/oauth/consent", strings.NewReader(form.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.AddCookie(csrf)
		resp = serve(p, req)
		require.Equal(t, http.StatusSeeOther, resp.StatusCode)
		requireHostCookie(t, resp, "oauthproxy-bind")
	})
}

// ---------------------------------------------------------------------------
// S12 iss in authorization responses

func TestSecurity_S12_IssOnEveryAuthorizationResponse(t *testing.T) {
	type flow func(t *testing.T, e *env, c registered) url.Values
	viaLogin := func(t *testing.T, e *env, c registered) url.Values {
		loc := e.login(e.browser(), authorizeParams(c, pkce.Challenge(pkce.GenerateVerifier())))
		return loc.Query()
	}
	authorizeWith := func(key, value string) flow {
		return func(t *testing.T, e *env, c registered) url.Values {
			q := authorizeParams(c, pkce.Challenge(pkce.GenerateVerifier()))
			q.Set(key, value)
			return secClientRedirect(t, e.secAuthorize(newSecBrowser(t), q), clientRedirect)
		}
	}
	for _, tc := range []struct {
		name      string
		opts      []envOption
		before    func(e *env)
		run       flow
		wantError string // "" for success
	}{
		{name: "success", run: viaLogin},
		{name: "success without consent", opts: []envOption{withConfig(func(c *oauthproxy.Config) { c.DisableConsent = true })}, run: viaLogin},
		{name: "PKCE error", run: authorizeWith("code_challenge_method", "plain"), wantError: "invalid_request"},
		{name: "response_type error", run: authorizeWith("response_type", "token"), wantError: "unsupported_response_type"},
		{name: "scope error", run: authorizeWith("scope", "admin"), wantError: "invalid_scope"},
		{name: "resource error", run: authorizeWith("resource", "https://evil.example/mcp"), wantError: "invalid_target"},
		{name: "consent denied", run: func(t *testing.T, e *env, c registered) url.Values {
			b := newSecBrowser(t)
			_, form := e.secOpenConsent(b, authorizeParams(c, pkce.Challenge(pkce.GenerateVerifier())))
			return secClientRedirect(t, e.secDecide(b, form, "deny"), clientRedirect)
		}, wantError: "access_denied"},
		{name: "upstream denied", opts: []envOption{withIdP(func(o *oauthproxytest.Options) { o.DenyAuthorization = true })},
			run: viaLogin, wantError: "access_denied"},
		{name: "upstream token error", before: func(e *env) {
			e.idp.FailNext(http.StatusBadRequest, `{"error":"invalid_grant"}`, "")
		}, run: viaLogin, wantError: "*"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t, tc.opts...)
			c := e.register("none")
			if tc.before != nil {
				tc.before(e)
			}
			got := tc.run(t, e, c)
			assert.Equal(t, e.srv.URL, got.Get("iss"), "RFC 9207 iss")
			assert.Equal(t, "client-state-123", got.Get("state"))
			switch tc.wantError {
			case "":
				assert.Empty(t, got.Get("error"), got.Get("error_description"))
				assert.NotEmpty(t, got.Get("code"))
			case "*":
				assert.NotEmpty(t, got.Get("error"))
				assert.Empty(t, got.Get("code"))
			default:
				assert.Equal(t, tc.wantError, got.Get("error"))
				assert.Empty(t, got.Get("code"))
			}
		})
	}
}

func TestSecurity_S12_MetadataAdvertisesIssParameter(t *testing.T) {
	e := newEnv(t)
	resp, err := http.Get(e.srv.URL + "/.well-known/oauth-authorization-server")
	require.NoError(t, err)
	defer resp.Body.Close()
	require.Equal(t, http.StatusOK, resp.StatusCode)
	var md map[string]any
	require.NoError(t, json.NewDecoder(resp.Body).Decode(&md))
	assert.Equal(t, true, md["authorization_response_iss_parameter_supported"])
	assert.Equal(t, e.srv.URL, md["issuer"], "the iss the client compares against")
	assert.Equal(t, []any{"S256"}, md["code_challenge_methods_supported"])
}

// ---------------------------------------------------------------------------
// S13 caching and redirect status

func TestSecurity_S13_TokenAndRegistrationResponsesAreNotCached(t *testing.T) {
	e := newEnv(t)
	c := e.register("client_secret_basic")
	code, verifier := e.code(c)

	post := func(path, contentType, body string, basic *registered) tokenResult {
		req, err := http.NewRequest(http.MethodPost, e.srv.URL+path, strings.NewReader(body))
		require.NoError(t, err)
		req.Header.Set("Content-Type", contentType)
		if basic != nil {
			req.SetBasicAuth(url.QueryEscape(basic.ID), url.QueryEscape(basic.Secret))
		}
		resp, err := http.DefaultClient.Do(req)
		require.NoError(t, err)
		defer resp.Body.Close()
		out := tokenResult{Status: resp.StatusCode, Header: resp.Header}
		_ = json.NewDecoder(resp.Body).Decode(&out.Body)
		return out
	}
	form := func(kv ...string) string {
		v := url.Values{}
		for i := 0; i < len(kv); i += 2 {
			v.Set(kv[i], kv[i+1])
		}
		return v.Encode()
	}
	const formType = "application/x-www-form-urlencoded"
	wrong := registered{ID: c.ID, Secret: "wrong"}

	var refreshToken string
	for _, tc := range []struct {
		name       string
		send       func() tokenResult
		wantStatus int
	}{
		{"registration success", func() tokenResult {
			return post("/oauth/register", "application/json", secRegistrationBody("none", clientRedirect), nil)
		}, http.StatusCreated},
		{"registration bad redirect", func() tokenResult {
			return post("/oauth/register", "application/json", secRegistrationBody("none", "https://evil.example/cb"), nil)
		}, http.StatusBadRequest},
		{"registration bad JSON", func() tokenResult {
			return post("/oauth/register", "application/json", "{", nil)
		}, http.StatusBadRequest},
		{"registration wrong content type", func() tokenResult {
			return post("/oauth/register", formType, "redirect_uris=x", nil)
		}, http.StatusBadRequest},
		{"token success", func() tokenResult {
			res := post("/oauth/token", formType, form("grant_type", "authorization_code", "code", code,
				"redirect_uri", clientRedirect, "code_verifier", verifier), &c)
			refreshToken = res.str("refresh_token")
			return res
		}, http.StatusOK},
		{"refresh success", func() tokenResult {
			return post("/oauth/token", formType, form("grant_type", "refresh_token", "refresh_token", refreshToken), &c)
		}, http.StatusOK},
		{"token invalid_grant", func() tokenResult {
			return post("/oauth/token", formType, form("grant_type", "authorization_code", "code", code,
				"redirect_uri", clientRedirect, "code_verifier", verifier), &c)
		}, http.StatusBadRequest},
		{"token invalid_client", func() tokenResult {
			return post("/oauth/token", formType, form("grant_type", "refresh_token", "refresh_token", "x"), &wrong)
		}, http.StatusUnauthorized},
		{"token unsupported grant", func() tokenResult {
			return post("/oauth/token", formType, form("grant_type", "password", "client_id", c.ID), nil)
		}, http.StatusBadRequest},
		{"token wrong content type", func() tokenResult {
			return post("/oauth/token", "application/json", `{"grant_type":"refresh_token"}`, nil)
		}, http.StatusBadRequest},
	} {
		t.Run(tc.name, func(t *testing.T) {
			res := tc.send()
			assert.Equal(t, tc.wantStatus, res.Status, "%v", res.Body)
			assert.Equal(t, "no-store", res.Header.Get("Cache-Control"))
			assert.Equal(t, "no-cache", res.Header.Get("Pragma"))
		})
	}
}

func TestSecurity_S13_RedirectsAreNever307(t *testing.T) {
	var hops []secHop
	record := func(t *testing.T, name string, h secHop) {
		t.Helper()
		require.NotNil(t, h.Location, "%s: expected a redirect, got %d %s", name, h.Status, h.Body)
		assert.Contains(t, []int{http.StatusFound, http.StatusSeeOther}, h.Status, name)
		hops = append(hops, h)
	}

	t.Run("with consent", func(t *testing.T) {
		e := newEnv(t)
		c := e.register("none")
		b := newSecBrowser(t)
		params := authorizeParams(c, pkce.Challenge(pkce.GenerateVerifier()))
		h := e.secAuthorize(b, params)
		record(t, "authorize to consent", h)
		form := secConsentForm(t, b.get(h.Location.String()).Body)
		h = e.secDecide(b, form, "approve")
		record(t, "consent approve", h)
		h = b.get(e.secToCallback(b, h))
		record(t, "callback success", h)

		_, form = e.secOpenConsent(b, params)
		record(t, "consent deny", e.secDecide(b, form, "deny"))

		bad := cloneValues(params)
		bad.Del("code_challenge")
		record(t, "authorize error", e.secAuthorize(b, bad))

		e.idp.FailNext(http.StatusInternalServerError, "boom", "text/plain")
		record(t, "callback error", b.get(e.secCallbackURL(b, params)))
	})
	t.Run("without consent", func(t *testing.T) {
		e := newEnv(t, withConfig(func(c *oauthproxy.Config) { c.DisableConsent = true }))
		c := e.register("none")
		record(t, "authorize to upstream", e.secAuthorize(newSecBrowser(t), authorizeParams(c, pkce.Challenge(pkce.GenerateVerifier()))))
	})
	require.Len(t, hops, 7)
}

// ---------------------------------------------------------------------------
// S14 input handling

func TestSecurity_S14_OversizedBodiesRefused(t *testing.T) {
	store := newSecStore()
	e := newEnv(t, withSecStore(store))
	c := e.register("none")
	big := strings.Repeat("a", 2<<20)

	for _, tc := range []struct {
		name, path, contentType, body, wantError string
	}{
		{"token form", "/oauth/token", "application/x-www-form-urlencoded",
			"grant_type=refresh_token&client_id=" + c.ID + "&refresh_token=" + big, "invalid_request"},
		{"registration JSON", "/oauth/register", "application/json",
			`{"redirect_uris":["` + clientRedirect + `"],"client_name":"` + big + `"}`, "invalid_client_metadata"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			// Through the handler directly: over a real connection the server
			// may close the socket while the client is still sending.
			mark := store.mark()
			req := httptest.NewRequest(http.MethodPost, e.srv.URL+tc.path, strings.NewReader(tc.body))
			req.Header.Set("Content-Type", tc.contentType)
			rec := httptest.NewRecorder()
			e.proxy.Handler().ServeHTTP(rec, req)
			assert.Equal(t, http.StatusBadRequest, rec.Code)
			var body map[string]any
			require.NoError(t, json.NewDecoder(rec.Body).Decode(&body))
			assert.Equal(t, tc.wantError, body["error"])
			assert.Equal(t, "no-store", rec.Header().Get("Cache-Control"))
			assert.Empty(t, store.since(mark))
		})
	}
}

func TestSecurity_S14_StrictRegistrationJSON(t *testing.T) {
	store := newSecStore()
	e := newEnv(t, withSecStore(store))
	good := secRegistrationBody("none", clientRedirect)
	for _, tc := range []struct{ name, body string }{
		{"array", `[` + good + `]`},
		{"string", `"` + clientRedirect + `"`},
		{"number", `42`},
		{"empty body", ``},
		{"truncated", good[:len(good)-1]},
		{"trailing garbage", good + ` x`},
		{"two objects", good + good},
		{"redirect_uris is a string", `{"redirect_uris":"` + clientRedirect + `"}`},
		{"redirect_uris holds a number", `{"redirect_uris":[1]}`},
		{"client_name is a number", `{"redirect_uris":["` + clientRedirect + `"],"client_name":5}`},
		{"grant_types is a string", `{"redirect_uris":["` + clientRedirect + `"],"grant_types":"authorization_code"}`},
		{"unsupported grant type", `{"redirect_uris":["` + clientRedirect + `"],"grant_types":["authorization_code","client_credentials"]}`},
		{"implicit response type", `{"redirect_uris":["` + clientRedirect + `"],"response_types":["token"]}`},
		{"unknown auth method", `{"redirect_uris":["` + clientRedirect + `"],"token_endpoint_auth_method":"private_key_jwt"}`},
		{"client_name too long", `{"redirect_uris":["` + clientRedirect + `"],"client_name":"` + strings.Repeat("n", 1000) + `"}`},
		{"logo_uri javascript", `{"redirect_uris":["` + clientRedirect + `"],"logo_uri":"javascript:alert(1)"}`},
		{"scope not offered", `{"redirect_uris":["` + clientRedirect + `"],"scope":"admin"}`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			mark := store.mark()
			res := secRegister(t, e.srv.URL, tc.body)
			assert.Equal(t, http.StatusBadRequest, res.Status, "%v", res.Body)
			assert.Equal(t, "invalid_client_metadata", res.str("error"))
			assert.Empty(t, res.str("client_id"))
			assert.Empty(t, store.since(mark), "a refused registration stores nothing")
		})
	}
	assert.Equal(t, http.StatusCreated, secRegister(t, e.srv.URL, good).Status)
}

func TestSecurity_S14_RepeatedTokenParameterRefused(t *testing.T) {
	store := newSecStore()
	e := newEnv(t, withSecStore(store))
	c := e.register("none")
	code, verifier := e.code(c)
	valid := url.Values{
		"grant_type":    {"authorization_code"},
		"code":          {code},
		"redirect_uri":  {clientRedirect},
		"code_verifier": {verifier},
		"client_id":     {c.ID},
	}
	for _, param := range []string{"grant_type", "code", "code_verifier", "redirect_uri", "client_id"} {
		t.Run(param, func(t *testing.T) {
			form := cloneValues(valid)
			form.Add(param, form.Get(param))
			mark := store.mark()
			res, err := secToken(e.srv.URL, form, "", "")
			require.NoError(t, err)
			assert.Equal(t, http.StatusBadRequest, res.Status)
			assert.Equal(t, "invalid_request", res.str("error"))
			assert.Empty(t, store.since(mark))
		})
	}
	res, err := secToken(e.srv.URL, valid, "", "")
	require.NoError(t, err)
	assert.Equal(t, http.StatusOK, res.Status, "the code is untouched: %v", res.Body)
}

func TestSecurity_S14_RepeatedAuthorizeParameterRefused(t *testing.T) {
	e := newEnv(t)
	c := e.register("none")
	q := authorizeParams(c, pkce.Challenge(pkce.GenerateVerifier()))
	q.Add("redirect_uri", "https://evil.example/cb")
	h := e.secAuthorize(newSecBrowser(t), q)
	secErrorPage(t, h, http.StatusBadRequest)
}

// ---------------------------------------------------------------------------
// S16 bearer challenge

var secResourceMetadataParam = regexp.MustCompile(`resource_metadata="([^"]*)"`)

func TestSecurity_S16_BearerChallengeNamesResourceMetadata(t *testing.T) {
	e := newEnv(t)
	wantMetadata := e.srv.URL + "/.well-known/oauth-protected-resource/mcp"

	resp, _ := e.callMCP("")
	assert.Equal(t, http.StatusUnauthorized, resp.StatusCode)
	challenge := resp.Header.Get("WWW-Authenticate")
	assert.Equal(t, `Bearer resource_metadata="`+wantMetadata+`"`, challenge)
	assert.NotContains(t, challenge, "error=", "no error code when no token was sent (RFC 6750 §3.1)")

	for _, scheme := range []string{"Basic dXNlcjpwYXNz", "Bearer", "Bearer   "} {
		req, _ := http.NewRequest(http.MethodPost, e.srv.URL+"/mcp", nil)
		req.Header.Set("Authorization", scheme)
		r, err := http.DefaultClient.Do(req)
		require.NoError(t, err)
		r.Body.Close()
		assert.Equal(t, http.StatusUnauthorized, r.StatusCode, scheme)
		assert.Contains(t, r.Header.Get("WWW-Authenticate"), `resource_metadata="`+wantMetadata+`"`, scheme)
	}

	resp, _ = e.callMCP("bad-token")
	assert.Equal(t, http.StatusUnauthorized, resp.StatusCode)
	challenge = resp.Header.Get("WWW-Authenticate")
	assert.True(t, strings.HasPrefix(challenge, "Bearer "), challenge)
	assert.Contains(t, challenge, `resource_metadata="`+wantMetadata+`"`)
	assert.Contains(t, challenge, `error="invalid_token"`)

	m := secResourceMetadataParam.FindStringSubmatch(challenge)
	require.Len(t, m, 2)
	mdResp, err := http.Get(m[1])
	require.NoError(t, err)
	defer mdResp.Body.Close()
	require.Equal(t, http.StatusOK, mdResp.StatusCode)
	assert.Contains(t, mdResp.Header.Get("Content-Type"), "application/json")
	var md map[string]any
	require.NoError(t, json.NewDecoder(mdResp.Body).Decode(&md))
	assert.Equal(t, e.srv.URL+"/mcp", md["resource"])
	assert.Equal(t, []any{e.srv.URL}, md["authorization_servers"])
}

func TestSecurity_S16_InsufficientScopeIs403(t *testing.T) {
	e := newEnv(t)
	c := e.register("none")
	access := e.secTokens(c).str("access_token") // scope "openid email"
	ok := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusNoContent) })

	call := func(h http.Handler) *http.Response {
		srv := httptest.NewServer(h)
		defer srv.Close()
		req, _ := http.NewRequest(http.MethodPost, srv.URL, nil)
		req.Header.Set("Authorization", "Bearer "+access)
		resp, err := http.DefaultClient.Do(req)
		require.NoError(t, err)
		resp.Body.Close()
		return resp
	}

	resp := call(e.proxy.RequireBearer(ok, "admin"))
	assert.Equal(t, http.StatusForbidden, resp.StatusCode)
	challenge := resp.Header.Get("WWW-Authenticate")
	assert.True(t, strings.HasPrefix(challenge, "Bearer "), challenge)
	assert.Contains(t, challenge, `error="insufficient_scope"`)
	assert.Contains(t, challenge, `scope="admin"`)
	assert.Contains(t, challenge, `resource_metadata="`+e.srv.URL+`/.well-known/oauth-protected-resource/mcp"`)

	resp = call(e.proxy.RequireBearer(ok, "email", "admin"))
	assert.Equal(t, http.StatusForbidden, resp.StatusCode, "every required scope is needed")

	resp = call(e.proxy.RequireBearer(ok, "email"))
	assert.Equal(t, http.StatusNoContent, resp.StatusCode, "a token with the scope passes")
}

// ---------------------------------------------------------------------------
// S18 upstream errors

func TestSecurity_S18_UpstreamErrorsReachClientSanitized(t *testing.T) {
	for _, tc := range []struct {
		name       string
		opts       []envOption
		before     func(e *env)
		wantErrors []string
	}{
		{
			name:       "upstream denies",
			opts:       []envOption{withIdP(func(o *oauthproxytest.Options) { o.DenyAuthorization = true })},
			wantErrors: []string{"access_denied"},
		},
		{
			name: "upstream token endpoint refuses",
			before: func(e *env) {
				e.idp.FailNext(http.StatusBadRequest,
					`{"error":"invalid_grant","error_description":"secret upstream-secret <script>"}`, "")
			},
			wantErrors: secAuthzErrorCodes,
		},
		{
			name: "upstream token endpoint sends a made-up error code",
			before: func(e *env) {
				e.idp.FailNext(http.StatusBadRequest, `{"error":"<script>alert(1)</script>"}`, "")
			},
			wantErrors: secAuthzErrorCodes,
		},
		{
			name: "upstream 500",
			before: func(e *env) {
				e.idp.FailNext(http.StatusInternalServerError, "upstream-secret stack trace", "text/plain")
			},
			wantErrors: []string{"server_error", "temporarily_unavailable"},
		},
		{
			name:       "upstream hangs",
			opts:       []envOption{withConfig(func(c *oauthproxy.Config) { c.HTTPClient = &http.Client{Timeout: 200 * time.Millisecond} })},
			before:     func(e *env) { e.idp.HangNext(nil) },
			wantErrors: []string{"temporarily_unavailable"},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t, tc.opts...)
			c := e.register("none")
			if tc.before != nil {
				tc.before(e)
			}
			loc := e.login(e.browser(), authorizeParams(c, pkce.Challenge(pkce.GenerateVerifier())))
			got := *loc
			got.RawQuery = ""
			assert.Equal(t, clientRedirect, got.String(), "errors go to the client's validated redirect URI")
			q := loc.Query()
			assert.Contains(t, tc.wantErrors, q.Get("error"))
			assert.Equal(t, "client-state-123", q.Get("state"))
			assert.Equal(t, e.srv.URL, q.Get("iss"))
			assert.Empty(t, q.Get("code"))
			for _, leak := range []string{"upstream-secret", "<script>"} {
				assert.NotContains(t, loc.RawQuery, url.QueryEscape(leak), "leaked %q", leak)
				assert.NotContains(t, q.Get("error_description"), leak, "leaked %q", leak)
			}
		})
	}
}

func TestSecurity_S18_UpstreamAuthorizationErrorIsSanitized(t *testing.T) {
	e := newEnv(t)
	c := e.register("none")
	for _, tc := range []struct {
		name, code, description, wantError string
	}{
		{"markup in the description", "access_denied", `denied <script>alert("x")</script>`, "access_denied"},
		{"made-up error code", "<script>alert(1)</script>", "", "server_error"},
		{"token-endpoint error code", "invalid_grant", "", "server_error"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b := newSecBrowser(t)
			cb, err := url.Parse(e.secCallbackURL(b, authorizeParams(c, pkce.Challenge(pkce.GenerateVerifier()))))
			require.NoError(t, err)
			// The upstream answers with an error instead of a code (RFC 6749 §4.1.2.1).
			q := url.Values{"state": {cb.Query().Get("state")}, "error": {tc.code}}
			if tc.description != "" {
				q.Set("error_description", tc.description)
			}
			cb.RawQuery = q.Encode()

			got := secClientRedirect(t, b.get(cb.String()), clientRedirect)
			assert.Equal(t, tc.wantError, got.Get("error"))
			assert.Equal(t, "client-state-123", got.Get("state"))
			assert.Equal(t, e.srv.URL, got.Get("iss"))
			assert.Empty(t, got.Get("code"))
			assert.NotContains(t, got.Get("error_description"), "<script>")
			assert.NotContains(t, got.Get("error_description"), `"`)
		})
	}
}
