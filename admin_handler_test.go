package oauthproxy_test

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/oauthproxy-go/oauthproxy"
)

// adminServer mounts p.AdminHandler under /admin, as an operator would
// (behind their own authentication, which the test leaves out).
func adminServer(t *testing.T, p *oauthproxy.Proxy) *httptest.Server {
	t.Helper()
	mux := http.NewServeMux()
	mux.Handle("/admin/", http.StripPrefix("/admin", p.AdminHandler()))
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return srv
}

// adminCall sends method to the admin API and returns the status and body.
func adminCall(t *testing.T, srv *httptest.Server, method, path string) (int, string) {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), method, srv.URL+"/admin"+path, nil)
	require.NoError(t, err)
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	assert.Equal(t, "no-store", resp.Header.Get("Cache-Control"), "%s %s", method, path)
	return resp.StatusCode, string(body)
}

// The HTTP API serves each call, with RFC 6749 JSON errors.
func TestAdminHandler(t *testing.T) {
	e := newEnv(t)
	srv := adminServer(t, e.proxy)
	c1, c2 := e.register("client_secret_basic"), e.register("none")
	a1, a2 := e.signIn(c1, alice), e.signIn(c2, alice)
	b2 := e.signIn(c2, bob)

	status, body := adminCall(t, srv, http.MethodGet, "/clients?page_size=10")
	require.Equal(t, 200, status, body)
	var clients oauthproxy.ClientList
	require.NoError(t, json.Unmarshal([]byte(body), &clients))
	assert.Len(t, clients.Clients, 2)

	status, body = adminCall(t, srv, http.MethodGet, "/clients/"+url.PathEscape(c1.ID))
	require.Equal(t, 200, status, body)
	assert.Contains(t, body, `"client_id":"`+c1.ID+`"`)

	status, body = adminCall(t, srv, http.MethodGet, "/grants?subject=alice")
	require.Equal(t, 200, status, body)
	var grants oauthproxy.GrantList
	require.NoError(t, json.Unmarshal([]byte(body), &grants))
	require.Len(t, grants.Grants, 2)

	status, body = adminCall(t, srv, http.MethodGet, "/grants?client_id="+url.QueryEscape(c2.ID)+"&subject=bob")
	require.Equal(t, 200, status, body)
	grants = oauthproxy.GrantList{}
	require.NoError(t, json.Unmarshal([]byte(body), &grants))
	require.Len(t, grants.Grants, 1)
	status, body = adminCall(t, srv, http.MethodDelete, "/grants/"+grants.Grants[0].ID)
	require.Equal(t, 204, status, body)
	assert.False(t, e.works(b2), "bob's grant revoked over HTTP")

	status, body = adminCall(t, srv, http.MethodDelete, "/grants?subject=alice")
	require.Equal(t, 200, status, body)
	assert.JSONEq(t, `{"revoked":2}`, body)
	assert.False(t, e.works(a1) || e.works(a2), "alice signed out over HTTP")

	status, body = adminCall(t, srv, http.MethodDelete, "/clients/"+url.PathEscape(c1.ID))
	require.Equal(t, 204, status, body)

	for _, tc := range []struct {
		method, path string
		status       int
		code         string
	}{
		{http.MethodGet, "/clients/" + url.PathEscape(c1.ID), 404, oauthproxy.ErrCodeInvalidClient},
		{http.MethodDelete, "/clients/unknown", 404, oauthproxy.ErrCodeInvalidClient},
		{http.MethodDelete, "/grants/unknown", 404, oauthproxy.ErrCodeInvalidGrant},
		{http.MethodGet, "/grants", 400, oauthproxy.ErrCodeInvalidRequest},
		{http.MethodDelete, "/grants", 400, oauthproxy.ErrCodeInvalidRequest},
		{http.MethodGet, "/clients?page_size=many", 400, oauthproxy.ErrCodeInvalidRequest},
		{http.MethodGet, "/grants?subject=alice&page_size=-1", 400, oauthproxy.ErrCodeInvalidRequest},
	} {
		status, body := adminCall(t, srv, tc.method, tc.path)
		assert.Equal(t, tc.status, status, "%s %s: %s", tc.method, tc.path, body)
		assert.Contains(t, body, `"error":"`+tc.code+`"`, "%s %s", tc.method, tc.path)
	}
}

// Handler never serves the administration API: it has no authentication.
func TestAdminHandler_NotMountedByHandler(t *testing.T) {
	e := newEnv(t)
	e.register("none")
	for _, path := range []string{"/clients", "/admin/clients", "/grants?subject=user-1"} {
		resp, err := http.Get(e.srv.URL + path)
		require.NoError(t, err)
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		assert.Equal(t, 404, resp.StatusCode, "%s: %s", path, body)
	}
}

// Nothing the administration API returns, directly or over HTTP, holds a
// token, code, client secret, hash of one, or upstream token.
func TestAdmin_ResultsHoldNoSecrets(t *testing.T) {
	e := newEnv(t)
	srv := adminServer(t, e.proxy)
	c := e.register("client_secret_basic")
	e.idp.SetUser(alice)
	code, verifier := e.code(c)
	tok := e.exchange(c, code, verifier)
	require.Equal(t, 200, tok.Status)
	s := session{client: c, access: tok.str("access_token"), refresh: tok.str("refresh_token")}
	rotated := s.refresh
	require.True(t, e.refreshes(&s))
	up, err := e.proxy.LoadUpstreamTokens(t.Context(), s.access)
	require.NoError(t, err)

	secrets := map[string]string{
		"code": code, "code_verifier": verifier, "client secret": c.Secret,
		"access token": s.access, "refresh token": s.refresh, "rotated refresh token": rotated,
		"upstream access token": up.AccessToken, "upstream refresh token": up.RefreshToken, "upstream id_token": up.IDToken,
	}
	for name, v := range map[string]string{"client secret": c.Secret, "refresh token": s.refresh, "code": code} {
		sum := sha256.Sum256([]byte(v))
		secrets["hash of the "+name] = base64.RawURLEncoding.EncodeToString(sum[:])
	}
	for name, v := range secrets {
		require.NotEmpty(t, v, name)
	}

	var shown []string
	grants, err := e.proxy.ListGrants(t.Context(), oauthproxy.GrantFilter{Subject: "alice"}, oauthproxy.Page{})
	require.NoError(t, err)
	require.Len(t, grants.Grants, 1)
	clients, err := e.proxy.ListClients(t.Context(), oauthproxy.Page{})
	require.NoError(t, err)
	client, err := e.proxy.GetClient(t.Context(), c.ID)
	require.NoError(t, err)
	for _, v := range []any{grants, clients, client} {
		b, err := json.Marshal(v)
		require.NoError(t, err)
		shown = append(shown, string(b))
	}
	for _, path := range []string{"/grants?subject=alice", "/grants?client_id=" + url.QueryEscape(c.ID), "/clients", "/clients/" + url.PathEscape(c.ID)} {
		status, body := adminCall(t, srv, http.MethodGet, path)
		require.Equal(t, 200, status, body)
		shown = append(shown, body)
	}
	for _, out := range shown {
		for name, v := range secrets {
			assert.NotContains(t, out, v, "the %s appears in %s", name, out)
		}
		for _, field := range []string{`"client_secret"`, "hash", "upstream", "claims"} {
			assert.NotContains(t, strings.ToLower(out), field, out)
		}
	}
}
