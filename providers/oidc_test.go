package providers_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/oauthproxy-go/oauthproxy"
	"github.com/oauthproxy-go/oauthproxy/oauthproxytest"
	"github.com/oauthproxy-go/oauthproxy/providers"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestOIDC signs in through providers.OIDC against fakes shaped like the
// providers it covers: each finds its endpoints by discovery and gets the
// user's identity from a verified id_token.
func TestOIDC(t *testing.T) {
	for _, tc := range []struct {
		name   string
		idp    oauthproxytest.Options
		scopes []string // cfg.Scopes; nil for the preset's default
		// wantMethod is the client authentication the preset must pick.
		wantMethod string
		wantRT     bool // an upstream refresh token arrives
	}{
		{name: "plain", wantMethod: oauthproxy.AuthMethodClientSecretBasic, wantRT: true},
		{
			// Auth0: the issuer ends in "/", refresh tokens need offline_access.
			name:       "auth0",
			idp:        oauthproxytest.Options{IssuerTrailingSlash: true, RefreshTokenRequiresOfflineAccess: true},
			scopes:     []string{"openid", "profile", "email", "offline_access"},
			wantMethod: oauthproxy.AuthMethodClientSecretBasic, wantRT: true,
		},
		{
			// Auth0 without offline_access: the login works, no refresh token.
			name:       "auth0 without offline_access",
			idp:        oauthproxytest.Options{IssuerTrailingSlash: true, RefreshTokenRequiresOfflineAccess: true},
			wantMethod: oauthproxy.AuthMethodClientSecretBasic, wantRT: false,
		},
		{
			// Okta custom authorization server: the issuer has a path.
			name:       "okta",
			idp:        oauthproxytest.Options{IssuerPath: "/oauth2/default", RefreshTokenRequiresOfflineAccess: true},
			scopes:     []string{"openid", "profile", "email", "offline_access"},
			wantMethod: oauthproxy.AuthMethodClientSecretBasic, wantRT: true,
		},
		{
			// Keycloak: realm path, and a client set to client_secret_post.
			name:       "keycloak",
			idp:        oauthproxytest.Options{IssuerPath: "/realms/demo", AuthMethod: oauthproxytest.AuthMethodPost},
			wantMethod: oauthproxy.AuthMethodClientSecretPost, wantRT: true,
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tc.idp.IssueIDToken, tc.idp.RequirePKCE = true, true
			tc.idp.User = oauthproxytest.User{Subject: "auth0|42", Name: "Ada Lovelace", Email: "ada@example.com", Login: "ada"}
			idp := newIdP(t, tc.idp)
			base := baseConfig()
			base.Scopes = tc.scopes
			cfg, err := providers.OIDC(context.Background(), idp.Issuer(), base)
			require.NoError(t, err)

			assert.Equal(t, idp.AuthorizationEndpoint(), cfg.UpstreamAuthorizationEndpoint)
			assert.Equal(t, idp.TokenEndpoint(), cfg.UpstreamTokenEndpoint)
			assert.Equal(t, idp.UserInfoEndpoint(), cfg.UpstreamUserInfoEndpoint)
			assert.Equal(t, tc.wantMethod, cfg.UpstreamTokenEndpointAuthMethod)
			if tc.scopes == nil {
				assert.Equal(t, []string{"openid", "profile", "email"}, cfg.Scopes)
			}
			require.NotNil(t, cfg.ClaimsExtractor)

			px := startProxy(t, cfg)
			tok := px.login(px.register(), "")
			c := px.claims(tok.AccessToken)
			assert.Equal(t, "auth0|42", c.Subject)
			assert.Equal(t, "ada@example.com", c.Extra["email"])
			assert.Equal(t, true, c.Extra["email_verified"])
			assert.Equal(t, "Ada Lovelace", c.Extra["name"])
			assert.Equal(t, "ada", c.Extra["preferred_username"])
			assert.Equal(t, tc.wantRT, px.upstream(tok.AccessToken).RefreshToken != "")
			assert.Equal(t, 0, idp.Stats().UserInfoRequests, "the id_token is enough")
		})
	}
}

// TestOIDCUserInfoWithoutIDToken: a client that asks for no openid scope gets
// no id_token upstream; the identity then comes from the userinfo endpoint.
func TestOIDCUserInfoWithoutIDToken(t *testing.T) {
	idp := newIdP(t, oauthproxytest.Options{IssueIDToken: true})
	cfg, err := providers.OIDC(context.Background(), idp.Issuer(), baseConfig())
	require.NoError(t, err)
	px := startProxy(t, cfg)
	tok := px.login(px.register(), "email profile")
	c := px.claims(tok.AccessToken)
	assert.Equal(t, oauthproxytest.DefaultUser.Subject, c.Subject)
	assert.Equal(t, oauthproxytest.DefaultUser.Email, c.Extra["email"])
	assert.Equal(t, 1, idp.Stats().UserInfoRequests)
}

// TestOIDCKeepsCallerFields: what the caller set wins over discovery.
func TestOIDCKeepsCallerFields(t *testing.T) {
	idp := newIdP(t, oauthproxytest.Options{IssueIDToken: true})
	mine := func(context.Context, *oauthproxy.UpstreamTokens) (map[string]any, error) { return nil, nil }
	base := baseConfig()
	base.Scopes = []string{"openid"}
	base.ProviderName = "Corp SSO"
	base.UpstreamTokenEndpointAuthMethod = oauthproxy.AuthMethodClientSecretPost
	base.ClaimsExtractor = mine
	cfg, err := providers.OIDC(context.Background(), idp.Issuer(), base)
	require.NoError(t, err)
	assert.Equal(t, []string{"openid"}, cfg.Scopes)
	assert.Equal(t, "Corp SSO", cfg.ProviderName)
	assert.Equal(t, oauthproxy.AuthMethodClientSecretPost, cfg.UpstreamTokenEndpointAuthMethod)
	assert.NotNil(t, cfg.ClaimsExtractor)
	assert.NotNil(t, cfg.HTTPClient, "the preset shares one client with the proxy")
}

// TestDiscoverRejects covers documents a relying party must not use.
func TestDiscoverRejects(t *testing.T) {
	idp := newIdP(t, oauthproxytest.Options{IssueIDToken: true})
	good, err := providers.Discover(context.Background(), idp.Issuer(), nil)
	require.NoError(t, err)

	serve := func(t *testing.T, edit func(m map[string]any, self string)) string {
		var srv *httptest.Server
		srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.URL.Path != "/.well-known/openid-configuration" {
				http.NotFound(w, r)
				return
			}
			b, _ := json.Marshal(good)
			var m map[string]any
			_ = json.Unmarshal(b, &m)
			m["issuer"] = srv.URL
			edit(m, srv.URL)
			_ = json.NewEncoder(w).Encode(m)
		}))
		t.Cleanup(srv.Close)
		return srv.URL
	}
	for _, tc := range []struct {
		name string
		edit func(m map[string]any, self string)
		want string
	}{
		// OpenID Connect Discovery 1.0 §4.3: another issuer's document.
		{"issuer mismatch", func(m map[string]any, _ string) { m["issuer"] = idp.Issuer() }, "names issuer"},
		{"no jwks_uri", func(m map[string]any, _ string) { delete(m, "jwks_uri") }, "jwks_uri is missing"},
		{"no token endpoint", func(m map[string]any, _ string) { delete(m, "token_endpoint") }, "token_endpoint is missing"},
		{"plain http jwks", func(m map[string]any, _ string) { m["jwks_uri"] = "http://keys.example.com/jwks" }, "must use https"},
		{"not json", nil, "invalid character"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var issuer string
			if tc.edit == nil {
				srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { _, _ = w.Write([]byte("<html>")) }))
				t.Cleanup(srv.Close)
				issuer = srv.URL
			} else {
				issuer = serve(t, tc.edit)
			}
			_, err := providers.Discover(context.Background(), issuer, nil)
			require.Error(t, err)
			assert.Contains(t, err.Error(), tc.want)
			_, err = providers.OIDC(context.Background(), issuer, baseConfig())
			require.Error(t, err)
		})
	}
	t.Run("not found", func(t *testing.T) {
		_, err := providers.Discover(context.Background(), idp.URL()+"/nothing-here", nil)
		require.ErrorContains(t, err, "HTTP 404")
	})
	t.Run("oversized", func(t *testing.T) {
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
			_, _ = w.Write([]byte(`{"issuer":"` + strings.Repeat("x", 300<<10) + `"}`))
		}))
		t.Cleanup(srv.Close)
		_, err := providers.Discover(context.Background(), srv.URL, nil)
		require.ErrorContains(t, err, "larger than")
	})
	t.Run("non-loopback http issuer", func(t *testing.T) {
		_, err := providers.Discover(context.Background(), "http://idp.example.com", nil)
		require.ErrorContains(t, err, "must use https")
	})
	t.Run("client id required", func(t *testing.T) {
		_, err := good.Apply(oauthproxy.Config{})
		require.ErrorContains(t, err, "UpstreamClientID")
	})
	t.Run("no usable client authentication", func(t *testing.T) {
		m := *good
		m.TokenEndpointAuthMethodsSupported = []string{"private_key_jwt"}
		_, err := m.Apply(baseConfig())
		require.ErrorContains(t, err, "private_key_jwt")
	})
}
