package oauthproxy_test

// Security tests for S12-S14 and S16: iss, caching, redirect status, input handling, bearer challenge.

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/oauthproxy-go/oauthproxy"
	"github.com/oauthproxy-go/oauthproxy/internal/pkce"
	"github.com/oauthproxy-go/oauthproxy/oauthproxytest"
	"github.com/oauthproxy-go/oauthproxy/storage"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

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

// TestSecurity_S13_TokenAndRegistrationResponsesAreNotCached: every answer of
// /oauth/register, /oauth/token and /oauth/revoke, success or error, carries
// Cache-Control: no-store and Pragma: no-cache (RFC 6749 §5.1).
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
		// RFC 7009 §2.2: a revocation answer is a token endpoint answer too.
		{"revocation success", func() tokenResult {
			return post("/oauth/revoke", formType, form("token", refreshToken, "token_type_hint", "refresh_token"), &c)
		}, http.StatusOK},
		{"revocation unknown token", func() tokenResult {
			return post("/oauth/revoke", formType, form("token", "unknown"), &c)
		}, http.StatusOK},
		{"revocation invalid_client", func() tokenResult {
			return post("/oauth/revoke", formType, form("token", refreshToken), &wrong)
		}, http.StatusUnauthorized},
		{"revocation wrong content type", func() tokenResult {
			return post("/oauth/revoke", "application/json", `{"token":"x"}`, &c)
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

// TestSecurity_S14_OversizedBodiesRefused: a body one byte over the 1 MiB cap
// is refused as too large and stores nothing; a body of exactly 1 MiB is read
// and gets the error its content deserves. Both sides of the line are pinned,
// so a cap raised or lowered fails here.
func TestSecurity_S14_OversizedBodiesRefused(t *testing.T) {
	const maxBody = 1 << 20 // SECURITY.md S14
	const tooLarge = "request body is too large"
	store := newRecordingStore(storage.NewMemory())
	e := newEnv(t, withSecStore(store))
	c := e.register("none")
	// pad fills prefix+suffix out to n bytes with a value no check accepts
	// (not a known refresh token, a client_name over its length limit).
	pad := func(n int, prefix, suffix string) string {
		body := prefix + strings.Repeat("a", n-len(prefix)-len(suffix)) + suffix
		require.Len(t, body, n)
		return body
	}
	tokenForm := func(n int) string {
		return pad(n, "grant_type=refresh_token&client_id="+c.ID+"&refresh_token=", "")
	}
	registration := func(n int) string {
		return pad(n, `{"redirect_uris":["`+clientRedirect+`"],"client_name":"`, `"}`)
	}

	for _, tc := range []struct {
		name, path, contentType, body, wantError string
		wantTooLarge                             bool
	}{
		{"token form over the cap", "/oauth/token", "application/x-www-form-urlencoded",
			tokenForm(maxBody + 1), "invalid_request", true},
		{"token form at the cap", "/oauth/token", "application/x-www-form-urlencoded",
			tokenForm(maxBody), "invalid_grant", false},
		{"registration JSON over the cap", "/oauth/register", "application/json",
			registration(maxBody + 1), "invalid_client_metadata", true},
		{"registration JSON at the cap", "/oauth/register", "application/json",
			registration(maxBody), "invalid_client_metadata", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			// Through the handler directly: over a real connection the server
			// may close the socket while the client is still sending.
			mark := store.mark()
			req := httptest.NewRequest(http.MethodPost, e.srv.URL+tc.path, strings.NewReader(tc.body))
			req.Header.Set("Content-Type", tc.contentType)
			rec := httptest.NewRecorder()
			e.proxy.Handler().ServeHTTP(rec, req)
			var body map[string]any
			require.NoError(t, json.NewDecoder(rec.Body).Decode(&body))
			desc, _ := body["error_description"].(string)
			if tc.wantTooLarge {
				assert.Equal(t, http.StatusBadRequest, rec.Code)
				assert.Equal(t, tc.wantError, body["error"])
				assert.Contains(t, desc, tooLarge)
			} else {
				assert.NotContains(t, desc, tooLarge, "a body of exactly 1 MiB is read")
				assert.Equal(t, tc.wantError, body["error"], "the content's own error")
			}
			assert.Equal(t, "no-store", rec.Header().Get("Cache-Control"))
			assert.Empty(t, store.changedSince(mark))
		})
	}
}

func TestSecurity_S14_StrictRegistrationJSON(t *testing.T) {
	store := newRecordingStore(storage.NewMemory())
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
			assert.Empty(t, store.changedSince(mark), "a refused registration stores nothing")
		})
	}
	assert.Equal(t, http.StatusCreated, secRegister(t, e.srv.URL, good).Status)
}

func TestSecurity_S14_RepeatedTokenParameterRefused(t *testing.T) {
	store := newRecordingStore(storage.NewMemory())
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
			assert.Empty(t, store.changedSince(mark))
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

	// The JSON body says the same: no error code without a token (RFC 6750
	// §3.1), invalid_token with a bad one.
	for token, wantError := range map[string]any{"": nil, "bad-token": "invalid_token"} {
		req, _ := http.NewRequest(http.MethodPost, e.srv.URL+"/mcp", nil)
		if token != "" {
			req.Header.Set("Authorization", "Bearer "+token)
		}
		r, err := http.DefaultClient.Do(req)
		require.NoError(t, err)
		var body map[string]any
		require.NoError(t, json.NewDecoder(r.Body).Decode(&body))
		r.Body.Close()
		assert.Equal(t, wantError, body["error"], "token %q", token)
		assert.NotEmpty(t, body["error_description"], "token %q", token)
	}

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
