package oauthproxytest_test

import (
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/oauthproxy-go/oauthproxy/oauthproxytest"
)

// jwtClaims decodes a JWT's payload without verifying it.
func jwtClaims(t *testing.T, raw string) map[string]any {
	t.Helper()
	parts := strings.Split(raw, ".")
	require.Len(t, parts, 3)
	b, err := base64.RawURLEncoding.DecodeString(parts[1])
	require.NoError(t, err)
	var m map[string]any
	require.NoError(t, json.Unmarshal(b, &m))
	return m
}

// discovery fetches the OpenID configuration below issuer.
func discovery(t *testing.T, issuer string) map[string]any {
	t.Helper()
	resp, body := get(t, newClient(t), strings.TrimSuffix(issuer, "/")+"/.well-known/openid-configuration")
	require.Equal(t, http.StatusOK, resp.StatusCode, body)
	var doc map[string]any
	require.NoError(t, json.Unmarshal([]byte(body), &doc))
	return doc
}

func TestIssuerPath(t *testing.T) {
	s := newIdP(t, oauthproxytest.Options{IssuerPath: "/realms/demo", IssueIDToken: true})
	assert.Equal(t, s.URL()+"/realms/demo", s.Issuer())
	assert.Equal(t, s.URL()+"/realms/demo/authorize", s.AuthorizationEndpoint())
	assert.Equal(t, s.URL()+"/realms/demo/token", s.TokenEndpoint())
	assert.Equal(t, s.URL()+"/realms/demo/jwks", s.JWKSURL())
	doc := discovery(t, s.Issuer())
	assert.Equal(t, s.Issuer(), doc["issuer"])
	assert.Equal(t, s.TokenEndpoint(), doc["token_endpoint"])

	res := login(t, s, "openid")
	assert.Equal(t, s.Issuer(), verifyIDToken(t, s, res.str("id_token"), time.Now())["iss"])
	q := authorize(t, s, authParams())
	assert.Equal(t, s.Issuer(), q.Get("iss"))

	resp, _ := get(t, newClient(t), s.URL()+"/authorize?"+authParams().Encode())
	assert.Equal(t, http.StatusNotFound, resp.StatusCode, "nothing is served outside the issuer path")
}

func TestIssuerTrailingSlash(t *testing.T) {
	s := newIdP(t, oauthproxytest.Options{IssuerTrailingSlash: true, IssueIDToken: true})
	assert.Equal(t, s.URL()+"/", s.Issuer())
	assert.Equal(t, s.URL()+"/authorize", s.AuthorizationEndpoint())
	assert.Equal(t, s.Issuer(), discovery(t, s.Issuer())["issuer"])
	res := login(t, s, "openid")
	assert.Equal(t, s.Issuer(), verifyIDToken(t, s, res.str("id_token"), time.Now())["iss"])
}

func TestIssuerOptionsPanic(t *testing.T) {
	for _, o := range []oauthproxytest.Options{
		{IssuerPath: "realms/demo"},
		{IssuerPath: "/realms/demo/"},
		{EntraTenantID: "a/b"},
		{EntraTenantID: "t", IssuerPath: "/x"},
	} {
		o.ClientID, o.ClientSecret = testClientID, testSecret
		assert.Panics(t, func() { oauthproxytest.NewServer(o).Close() }, "%+v", o)
	}
}

func TestCommaSeparatedScope(t *testing.T) {
	s := newIdP(t, oauthproxytest.Options{CommaSeparatedScope: true})
	res := login(t, s, "read:user user:email")
	assert.Equal(t, "read:user,user:email", res.str("scope"))
	// The scope is still enforced as granted on refresh.
	r := refresh(t, s, res.str("refresh_token"), url.Values{"scope": {"user:email"}})
	require.Equal(t, http.StatusOK, r.status)
	assert.Equal(t, "user:email", r.str("scope"))
}

func TestGoogleOfflineAccess(t *testing.T) {
	s := newIdP(t, oauthproxytest.Options{GoogleOfflineAccess: true})
	code := func(params map[string]string) tokenResult {
		p := authParams()
		for k, v := range params {
			p.Set(k, v)
		}
		res := exchange(t, s, authorizeCode(t, s, p), nil)
		require.Equal(t, http.StatusOK, res.status)
		return res
	}
	assert.Empty(t, code(nil).str("refresh_token"), "online access by default")
	assert.NotEmpty(t, code(map[string]string{"access_type": "offline"}).str("refresh_token"), "first consent")
	assert.Empty(t, code(map[string]string{"access_type": "offline"}).str("refresh_token"), "only at the first consent")
	assert.NotEmpty(t, code(map[string]string{"access_type": "offline", "prompt": "consent"}).str("refresh_token"), "consent asked again")

	// Another user's first consent gets one.
	s.SetUser(oauthproxytest.User{Subject: "user-2", Name: "Two", Email: "two@example.com", Login: "two"})
	assert.NotEmpty(t, code(map[string]string{"access_type": "offline"}).str("refresh_token"))
}

func TestRefreshTokenRequiresOfflineAccess(t *testing.T) {
	s := newIdP(t, oauthproxytest.Options{RefreshTokenRequiresOfflineAccess: true})
	assert.Empty(t, login(t, s, "openid profile").str("refresh_token"))
	assert.NotEmpty(t, login(t, s, "openid offline_access").str("refresh_token"))
}

func TestIDTokenClaimsOverride(t *testing.T) {
	s := newIdP(t, oauthproxytest.Options{IssueIDToken: true, IDTokenClaims: map[string]any{
		"aud": "someone-else", "email": nil, "hd": "example.com",
	}})
	claims := jwtClaims(t, login(t, s, "openid").str("id_token"))
	assert.Equal(t, "someone-else", claims["aud"])
	assert.NotContains(t, claims, "email")
	assert.Equal(t, "example.com", claims["hd"])
	assert.Equal(t, "user-1", claims["sub"], "the others stay")
}

func TestForgeIDTokenSignature(t *testing.T) {
	s := newIdP(t, oauthproxytest.Options{IssueIDToken: true, ForgeIDTokenSignature: true})
	raw := login(t, s, "openid").str("id_token")
	keys := jwksKeys(t, s)
	var kid string
	_, err := jwt.Parse(raw, func(tok *jwt.Token) (any, error) {
		kid, _ = tok.Header["kid"].(string)
		return keys[kid], nil
	}, jwt.WithValidMethods([]string{"RS256"}))
	require.ErrorIs(t, err, jwt.ErrTokenSignatureInvalid)
	assert.Contains(t, keys, kid, "it names the published kid")
}

func TestSignIDToken(t *testing.T) {
	s := newIdP(t, oauthproxytest.Options{})
	now := time.Now()
	raw := s.SignIDToken(map[string]any{
		"iss": s.Issuer(), "aud": testClientID, "sub": "custom", "iat": now.Unix(), "exp": now.Add(time.Minute).Unix(),
	})
	assert.Equal(t, "custom", verifyIDToken(t, s, raw, now)["sub"])
}

func TestGitHubAPI(t *testing.T) {
	user := oauthproxytest.User{Subject: "583231", Name: "The Octocat", Email: "octocat@example.com", Login: "octocat"}
	s := newIdP(t, oauthproxytest.Options{GitHubAPI: true, User: user})

	// The OAuth endpoints at GitHub's paths.
	resp, body := get(t, newClient(t), s.URL()+"/login/oauth/authorize?"+authParams().Encode())
	require.Equal(t, http.StatusFound, resp.StatusCode, body)
	loc, err := url.Parse(resp.Header.Get("Location"))
	require.NoError(t, err)
	form := url.Values{"grant_type": {"authorization_code"}, "code": {loc.Query().Get("code")},
		"redirect_uri": {testRedirect}, "client_id": {testClientID}}
	req, err := http.NewRequest(http.MethodPost, s.URL()+"/login/oauth/access_token", strings.NewReader(form.Encode()))
	require.NoError(t, err)
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.SetBasicAuth(url.QueryEscape(testClientID), url.QueryEscape(testSecret))
	tok := doToken(t, req)
	require.Equal(t, http.StatusOK, tok.status, tok.body)
	at := tok.str("access_token")

	call := func(path, auth, userAgent string) (int, any) {
		req, err := http.NewRequest(http.MethodGet, s.URL()+path, nil)
		require.NoError(t, err)
		if auth != "" {
			req.Header.Set("Authorization", auth)
		}
		req.Header.Set("User-Agent", userAgent)
		resp, err := newClient(t).Do(req)
		require.NoError(t, err)
		defer resp.Body.Close()
		var v any
		require.NoError(t, json.NewDecoder(resp.Body).Decode(&v))
		return resp.StatusCode, v
	}
	for _, root := range []string{"", "/api/v3"} {
		status, v := call(root+"/user", "Bearer "+at, "test")
		require.Equal(t, http.StatusOK, status)
		u := v.(map[string]any)
		assert.Equal(t, float64(583231), u["id"], "GitHub ids are numbers")
		assert.Equal(t, "octocat", u["login"])
		assert.Equal(t, "octocat@example.com", u["email"])

		status, _ = call(root+"/user", "token "+at, "test")
		assert.Equal(t, http.StatusOK, status, `GitHub also takes "token"`)
		status, _ = call(root+"/user", "Bearer nope", "test")
		assert.Equal(t, http.StatusUnauthorized, status)
		status, _ = call(root+"/user", "Bearer "+at, "")
		assert.Equal(t, http.StatusForbidden, status, "a User-Agent is required")
		status, _ = call(root+"/user/emails", "Bearer "+at, "test")
		assert.Equal(t, http.StatusNotFound, status, "without user:email")
	}
	assert.Equal(t, 4, s.Stats().UserInfoRequests)
}

func TestGitHubPrivateEmail(t *testing.T) {
	user := oauthproxytest.User{Subject: "1", Name: "One", Email: "one@example.com", Login: "one"}
	s := newIdP(t, oauthproxytest.Options{GitHubAPI: true, GitHubPrivateEmail: true, User: user})
	at := login(t, s, "read:user user:email").str("access_token")
	get := func(path string) any {
		req, _ := http.NewRequest(http.MethodGet, s.URL()+path, nil)
		req.Header.Set("Authorization", "Bearer "+at)
		resp, err := newClient(t).Do(req)
		require.NoError(t, err)
		defer resp.Body.Close()
		require.Equal(t, http.StatusOK, resp.StatusCode)
		var v any
		require.NoError(t, json.NewDecoder(resp.Body).Decode(&v))
		return v
	}
	assert.Nil(t, get("/user").(map[string]any)["email"])
	emails := get("/user/emails").([]any)
	require.Len(t, emails, 2)
	assert.Equal(t, map[string]any{"email": "one@users.noreply.github.com", "primary": false, "verified": true, "visibility": nil}, emails[0])
	assert.Equal(t, map[string]any{"email": "one@example.com", "primary": true, "verified": true, "visibility": "private"}, emails[1])
}

func TestEntra(t *testing.T) {
	const tid = "72f988bf-86f1-41af-91ab-2d7cd011db47"
	s := newIdP(t, oauthproxytest.Options{EntraTenantID: tid, IssueIDToken: true})

	for _, tenant := range []string{"common", "organizations", "consumers"} {
		doc := discovery(t, s.URL()+"/"+tenant+"/v2.0")
		assert.Equal(t, s.URL()+"/{tenantid}/v2.0", doc["issuer"], "templated for %s", tenant)
		assert.Equal(t, s.URL()+"/"+tenant+"/oauth2/v2.0/token", doc["token_endpoint"])
	}
	doc := discovery(t, s.URL()+"/"+tid+"/v2.0")
	assert.Equal(t, s.URL()+"/"+tid+"/v2.0", doc["issuer"])
	assert.Equal(t, s.URL()+"/"+tid+"/discovery/v2.0/keys", doc["jwks_uri"])
	resp, body := get(t, newClient(t), s.URL()+"/common/discovery/v2.0/keys")
	require.Equal(t, http.StatusOK, resp.StatusCode)
	assert.Contains(t, body, `"kty":"RSA"`)

	// A login at the tenant endpoints.
	p := authParams()
	p.Set("scope", "openid profile")
	resp, body = get(t, newClient(t), s.URL()+"/organizations/oauth2/v2.0/authorize?"+p.Encode())
	require.Equal(t, http.StatusFound, resp.StatusCode, body)
	loc, err := url.Parse(resp.Header.Get("Location"))
	require.NoError(t, err)
	form := url.Values{"grant_type": {"authorization_code"}, "code": {loc.Query().Get("code")}, "redirect_uri": {testRedirect}}
	req, err := http.NewRequest(http.MethodPost, s.URL()+"/organizations/oauth2/v2.0/token", strings.NewReader(form.Encode()))
	require.NoError(t, err)
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.SetBasicAuth(url.QueryEscape(testClientID), url.QueryEscape(testSecret))
	tok := doToken(t, req)
	require.Equal(t, http.StatusOK, tok.status, tok.body)
	claims := jwtClaims(t, tok.str("id_token"))
	assert.Equal(t, s.URL()+"/"+tid+"/v2.0", claims["iss"])
	assert.Equal(t, tid, claims["tid"])
	assert.Equal(t, "oid-user-1", claims["oid"])
	assert.Equal(t, "2.0", claims["ver"])
}
