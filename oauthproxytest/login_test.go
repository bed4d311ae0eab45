package oauthproxytest_test

import (
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/oauthproxy-go/oauthproxy/oauthproxytest"
)

var loginIDField = regexp.MustCompile(`name="login" value="([^"]+)"`)

// openLoginPage GETs /authorize and returns the page's hidden login id.
func openLoginPage(t *testing.T, s *oauthproxytest.Server) string {
	t.Helper()
	resp, body := get(t, newClient(t), s.AuthorizationEndpoint()+"?"+authParams().Encode())
	require.Equal(t, http.StatusOK, resp.StatusCode, body)
	assert.Contains(t, resp.Header.Get("Content-Type"), "text/html")
	assert.Contains(t, body, "Sign in as Test User")
	assert.Contains(t, body, `method="post" action="/login"`)
	m := loginIDField.FindStringSubmatch(body)
	require.Len(t, m, 2, body)
	return m[1]
}

// submitLogin posts the login form and returns the response.
func submitLogin(t *testing.T, s *oauthproxytest.Server, id, action string) *http.Response {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, s.URL()+"/login",
		strings.NewReader(url.Values{"login": {id}, "action": {action}}.Encode()))
	require.NoError(t, err)
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	// What a browser sends for a same-origin form POST.
	req.Header.Set("Origin", s.URL())
	req.Header.Set("Sec-Fetch-Site", "same-origin")
	resp, err := newClient(t).Do(req)
	require.NoError(t, err)
	resp.Body.Close()
	return resp
}

func TestLoginPage(t *testing.T) {
	s := newIdP(t, oauthproxytest.Options{LoginPage: true})
	id := openLoginPage(t, s)
	assert.Zero(t, s.Stats().Authorizations, "nothing issued before the user signs in")

	resp := submitLogin(t, s, id, "approve")
	require.Equal(t, http.StatusSeeOther, resp.StatusCode)
	loc, err := url.Parse(resp.Header.Get("Location"))
	require.NoError(t, err)
	assert.Equal(t, "st-123", loc.Query().Get("state"))
	res := exchange(t, s, loc.Query().Get("code"), nil)
	assert.Equal(t, http.StatusOK, res.status, res.body)

	// The page's request is single use.
	assert.Equal(t, http.StatusBadRequest, submitLogin(t, s, id, "approve").StatusCode)
}

func TestLoginPageCancel(t *testing.T) {
	s := newIdP(t, oauthproxytest.Options{LoginPage: true})
	resp := submitLogin(t, s, openLoginPage(t, s), "deny")
	require.Equal(t, http.StatusSeeOther, resp.StatusCode)
	loc, err := url.Parse(resp.Header.Get("Location"))
	require.NoError(t, err)
	assert.Equal(t, "access_denied", loc.Query().Get("error"))
	assert.Equal(t, "st-123", loc.Query().Get("state"))
}

func TestLoginPageRefusesCrossSitePOST(t *testing.T) {
	s := newIdP(t, oauthproxytest.Options{LoginPage: true})
	id := openLoginPage(t, s)
	req, err := http.NewRequest(http.MethodPost, s.URL()+"/login", strings.NewReader(url.Values{"login": {id}}.Encode()))
	require.NoError(t, err)
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Sec-Fetch-Site", "cross-site")
	resp, err := newClient(t).Do(req)
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, http.StatusForbidden, resp.StatusCode)
}

func TestLoginPageEscapesUserName(t *testing.T) {
	s := newIdP(t, oauthproxytest.Options{LoginPage: true, User: oauthproxytest.User{Subject: "x", Name: "<script>alert(1)</script>"}})
	_, body := get(t, newClient(t), s.AuthorizationEndpoint()+"?"+authParams().Encode())
	assert.NotContains(t, body, "<script>")
	assert.Contains(t, body, "Sign in as &lt;script&gt;")
}
