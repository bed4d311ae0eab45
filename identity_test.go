package oauthproxy_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/oauthproxy-go/oauthproxy"
	"github.com/oauthproxy-go/oauthproxy/internal/pkce"
	"github.com/oauthproxy-go/oauthproxy/oauthproxytest"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// loginError runs a login and returns the error the client's redirect carries
// (and asserts no code came with it).
func loginError(t *testing.T, e *env) string {
	t.Helper()
	c := e.register("none")
	loc := e.login(e.browser(), authorizeParams(c, pkce.Challenge(pkce.GenerateVerifier())))
	assert.Empty(t, loc.Query().Get("code"), "no code may be issued")
	assert.Equal(t, "client-state-123", loc.Query().Get("state"))
	assert.Equal(t, e.srv.URL, loc.Query().Get("iss"))
	return loc.Query().Get("error")
}

// TestIdentity_NoSubjectRefusesLogin: without an id_token, a userinfo endpoint
// or an extractor, the proxy cannot tell users apart and refuses to issue a
// token with an empty subject.
func TestIdentity_NoSubjectRefusesLogin(t *testing.T) {
	e := newEnv(t, withIdP(func(o *oauthproxytest.Options) { o.IssueIDToken = false }))
	assert.Equal(t, "server_error", loginError(t, e))
}

// TestIdentity_NoSubjectLogNamesOpenIDScope: the usual way to get no
// subject is an OpenID provider asked without the openid scope (so no
// id_token); the logged cause names that fix first.
func TestIdentity_NoSubjectLogNamesOpenIDScope(t *testing.T) {
	log, buf := newCapturingLogger()
	e := newEnv(t, withConfig(func(c *oauthproxy.Config) {
		c.Scopes = []string{"email", "profile"}
		c.Logger = log
	}))
	params := authorizeParams(e.register("none"), pkce.Challenge(pkce.GenerateVerifier()))
	params.Set("scope", "email profile")
	loc := e.login(e.browser(), params)
	assert.Equal(t, "server_error", loc.Query().Get("error"))
	warnings := strings.Join(buf.linesAt("WARN"), "\n")
	require.Contains(t, warnings, "no subject from the upstream")
	_, hint, _ := strings.Cut(warnings, "no subject from the upstream")
	assert.Regexp(t, `^: request the openid scope`, hint, "the openid scope is named first")
}

// TestIdentity_ExtractorCanRejectAccount: an extractor wrapping
// ErrIdentityRejected turns into access_denied for the client.
func TestIdentity_ExtractorCanRejectAccount(t *testing.T) {
	e := newEnv(t, withConfig(func(c *oauthproxy.Config) {
		c.ClaimsExtractor = func(context.Context, *oauthproxy.UpstreamTokens) (map[string]any, error) {
			return nil, fmt.Errorf("tenant not allowed: %w", oauthproxy.ErrIdentityRejected)
		}
	}))
	assert.Equal(t, "access_denied", loginError(t, e))
}

// TestIdentity_DefaultExtractorChecksIDToken: the built-in extractor refuses
// an id_token for another audience, an expired one, one not yet valid, and,
// with UpstreamIssuer set, one from another issuer; a good one signs in.
func TestIdentity_DefaultExtractorChecksIDToken(t *testing.T) {
	for _, tc := range []struct {
		name   string
		claims map[string]any
		issuer string
		want   string
	}{
		{"valid", nil, "", ""},
		{"other audience", map[string]any{"aud": "someone-else"}, "", "server_error"},
		{"expired", map[string]any{"exp": time.Now().Add(-time.Hour).Unix()}, "", "server_error"},
		{"not yet valid", map[string]any{"nbf": time.Now().Add(time.Hour).Unix()}, "", "server_error"},
		{"other issuer", nil, "https://issuer.example", "server_error"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t,
				withIdP(func(o *oauthproxytest.Options) { o.IDTokenClaims = tc.claims }),
				withConfig(func(c *oauthproxy.Config) { c.UpstreamIssuer = tc.issuer }))
			if tc.want == "" {
				code, verifier := e.code(e.register("none"))
				require.NotEmpty(t, code)
				require.NotEmpty(t, verifier)
				return
			}
			assert.Equal(t, tc.want, loginError(t, e))
		})
	}
}
