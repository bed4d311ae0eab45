package oauthproxy_test

// Security tests for S22: remembered consent never auto-approves beyond the
// exact redirect URI approved, and never for a public client whose redirect
// another program on the computer could receive (RFC 8252 §8.6).

import (
	"context"
	"net/http"
	"strings"
	"testing"

	"github.com/oauthproxy-go/oauthproxy"
	"github.com/oauthproxy-go/oauthproxy/internal/pkce"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestSecurity_S22_RememberedConsentBindsTheExactRedirectURI: a consent
// remembered at one loopback port skips the page at that URI only; another
// port, or none, shows the page again.
func TestSecurity_S22_RememberedConsentBindsTheExactRedirectURI(t *testing.T) {
	e := newEnv(t, withRemember(rememberTTL))
	c := e.register(rememberingAuth)
	b := newSecBrowser(t)
	e.rememberApproval(b, authorizeParams(c, pkce.Challenge(pkce.GenerateVerifier())))

	h := e.secAuthorize(b, authorizeParams(c, pkce.Challenge(pkce.GenerateVerifier())))
	require.Equal(t, http.StatusFound, h.Status, h.Body)
	require.True(t, strings.HasPrefix(h.Location.String(), e.idp.AuthorizationEndpoint()),
		"the approved URI itself is remembered, got %s", h.Location)

	for _, moved := range []string{"http://127.0.0.1:5555/client/callback", "http://127.0.0.1/client/callback"} {
		q := authorizeParams(c, pkce.Challenge(pkce.GenerateVerifier()))
		q.Set("redirect_uri", moved)
		e.requireAsked(t, b, q)
	}
}

// TestSecurity_S22_RememberedConsentNeverForPublicNativeClients: a public
// client has no secret, so whoever receives the code can redeem it. A
// loopback port or a private-use scheme can be taken by any program on the
// computer, so for those the page offers no "remember" box and an approval is
// never remembered; an https redirect (only its host receives it) and a
// confidential client (the code is useless without the secret) may be.
func TestSecurity_S22_RememberedConsentNeverForPublicNativeClients(t *testing.T) {
	e := newEnv(t, withRemember(rememberTTL),
		withPatterns("http://127.0.0.1", "com.example.app:/callback", "https://app.example.com/callback"))
	ctx := context.Background()
	for _, tc := range []struct {
		name, auth, redirect string
		remembered           bool
	}{
		{"public loopback", "none", clientRedirect, false},
		{"public private-use scheme", "none", "com.example.app:/callback", false},
		{"public https", "none", "https://app.example.com/callback", true},
		{"confidential loopback", "client_secret_basic", clientRedirect, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := e.register(tc.auth, tc.redirect)
			req := &oauthproxy.AuthorizationRequest{
				ResponseType: "code", ClientID: c.ID, RedirectURI: tc.redirect, Scope: "openid",
				CodeChallenge: pkce.Challenge(pkce.GenerateVerifier()), CodeChallengeMethod: "S256",
			}
			res, err := e.proxy.Authorize(ctx, req)
			require.NoError(t, err)
			page, err := e.proxy.ConsentPage(ctx, res.TransactionID, "")
			require.NoError(t, err)
			// Asked anyway, as a form posted without the box would.
			decision, err := e.proxy.HandleConsent(ctx, &oauthproxy.ConsentDecision{
				TransactionID: res.TransactionID, Approve: true, Remember: true,
				CSRFToken: page.CSRFToken, CSRFCookie: page.CSRFCookie,
			})
			require.NoError(t, err)
			if !tc.remembered {
				assert.Empty(t, page.RememberFor, "no remember box")
				assert.Empty(t, decision.RememberedConsent, "nothing to remember")
				return
			}
			assert.Equal(t, "30 days", page.RememberFor)
			require.NotEmpty(t, decision.RememberedConsent)
			req.RememberedConsent = decision.RememberedConsent
			again, err := e.proxy.Authorize(ctx, req)
			require.NoError(t, err)
			assert.True(t, strings.HasPrefix(again.RedirectURL, e.idp.AuthorizationEndpoint()), again.RedirectURL)
		})
	}

	// Over HTTP: the page has no box, and remember=1 posted anyway sets no
	// cookie, so the next sign-in asks again.
	c := e.register("none")
	b := newSecBrowser(t)
	page, form := e.secOpenConsent(b, authorizeParams(c, pkce.Challenge(pkce.GenerateVerifier())))
	assert.NotContains(t, page.Body, `id="remember"`)
	form.Set("remember", "1")
	h := e.secDecide(b, form, "approve")
	assert.Nil(t, h.cookie("oauthproxy-consent-"))
	e.requireAsked(t, b, authorizeParams(c, pkce.Challenge(pkce.GenerateVerifier())))
}
