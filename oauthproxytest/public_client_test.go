package oauthproxytest_test

import (
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/oauthproxy-go/oauthproxy/oauthproxytest"
)

// A public client (AuthMethodNone) needs PKCE at /authorize, identifies
// itself by client_id alone at the token endpoint, and is refused when it
// presents credentials it cannot have (RFC 6749 §2.1, §3.2.1).
func TestPublicClient(t *testing.T) {
	s := newIdP(t, oauthproxytest.Options{ClientID: testClientID, AuthMethod: oauthproxytest.AuthMethodNone})

	q := authorize(t, s, authParams())
	assert.Equal(t, "invalid_request", q.Get("error"), "no code_challenge: refused")

	verifier, challenge := pkcePair()
	withPKCE := authParams()
	withPKCE.Set("code_challenge", challenge)
	withPKCE.Set("code_challenge_method", "S256")
	form := func(code string) url.Values {
		return url.Values{"grant_type": {"authorization_code"}, "code": {code}, "redirect_uri": {testRedirect}, "code_verifier": {verifier}}
	}

	for name, present := range map[string]func(*http.Request, url.Values){
		"no client_id":     func(*http.Request, url.Values) {},
		"another id":       func(_ *http.Request, f url.Values) { f.Set("client_id", "someone-else") },
		"a secret in body": func(_ *http.Request, f url.Values) { f.Set("client_id", testClientID); f.Set("client_secret", "x") },
		"a Basic header":   func(r *http.Request, _ url.Values) { r.SetBasicAuth(url.QueryEscape(testClientID), "x") },
	} {
		t.Run(name, func(t *testing.T) {
			f := form(authorizeCode(t, s, withPKCE))
			req, err := http.NewRequest(http.MethodPost, s.TokenEndpoint(), nil)
			require.NoError(t, err)
			present(req, f)
			req.Body = io.NopCloser(strings.NewReader(f.Encode()))
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			res := doToken(t, req)
			assert.Equal(t, http.StatusUnauthorized, res.status)
			assert.Equal(t, "invalid_client", res.str("error"))
		})
	}

	f := form(authorizeCode(t, s, withPKCE))
	f.Set("client_id", testClientID)
	res := postToken(t, s, "", f)
	require.Equal(t, http.StatusOK, res.status, res.body)
	assert.NotEmpty(t, res.str("access_token"))
	assert.Equal(t, "none", s.LastTokenAuthMethod())

	ref := postToken(t, s, "", url.Values{"grant_type": {"refresh_token"}, "refresh_token": {res.str("refresh_token")}, "client_id": {testClientID}})
	assert.Equal(t, http.StatusOK, ref.status, ref.body)
}

func TestPublicClient_OptionsValidation(t *testing.T) {
	assert.Panics(t, func() {
		oauthproxytest.NewServer(oauthproxytest.Options{ClientID: "c", ClientSecret: "s", AuthMethod: oauthproxytest.AuthMethodNone})
	}, "a public client has no secret")
	assert.Panics(t, func() { oauthproxytest.NewServer(oauthproxytest.Options{AuthMethod: oauthproxytest.AuthMethodNone}) })
}
