package providers_test

import (
	"net/http"
	"testing"

	"github.com/oauthproxy-go/oauthproxy"
	"github.com/oauthproxy-go/oauthproxy/oauthproxytest"
	"github.com/oauthproxy-go/oauthproxy/providers"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// octocat is a GitHub user: numeric id, a login, an email.
var octocat = oauthproxytest.User{Subject: "583231", Name: "The Octocat", Email: "octocat@example.com", Login: "octocat"}

// gitHubFake is a fake with all of GitHub's quirks: its paths and API,
// form-encoded token responses (errors too, with HTTP 200), no expires_in,
// comma-separated scope, and client_secret_post.
func gitHubFake(t *testing.T, privateEmail bool) *oauthproxytest.Server {
	return newIdP(t, oauthproxytest.Options{
		GitHubAPI: true, GitHubPrivateEmail: privateEmail,
		FormEncodedTokenResponse: true, OmitExpiresIn: true, CommaSeparatedScope: true,
		AuthMethod: oauthproxytest.AuthMethodPost, RequirePKCE: true, User: octocat,
	})
}

// gitHubAt is the GitHub preset pointed at web and api.
func gitHubAt(t *testing.T, web, api string) oauthproxy.Config {
	t.Helper()
	cfg, err := providers.GitHubOptions{URL: web, APIURL: api}.Apply(baseConfig())
	require.NoError(t, err)
	return cfg
}

func TestGitHubDefaults(t *testing.T) {
	cfg, err := providers.GitHub(baseConfig())
	require.NoError(t, err)
	assert.Equal(t, "https://github.com/login/oauth/authorize", cfg.UpstreamAuthorizationEndpoint)
	assert.Equal(t, "https://github.com/login/oauth/access_token", cfg.UpstreamTokenEndpoint)
	assert.Equal(t, "https://api.github.com/user", cfg.UpstreamUserInfoEndpoint)
	assert.Equal(t, oauthproxy.AuthMethodClientSecretPost, cfg.UpstreamTokenEndpointAuthMethod)
	assert.Equal(t, "GitHub", cfg.ProviderName)
	assert.Equal(t, []string{"read:user", "user:email"}, cfg.Scopes)
	assert.NotNil(t, cfg.ClaimsExtractor)
	assert.NotNil(t, cfg.HTTPClient)

	ghes, err := providers.GitHubOptions{URL: "https://github.example.com/"}.Apply(baseConfig())
	require.NoError(t, err)
	assert.Equal(t, "https://github.example.com/login/oauth/authorize", ghes.UpstreamAuthorizationEndpoint)
	assert.Equal(t, "https://github.example.com/api/v3/user", ghes.UpstreamUserInfoEndpoint)

	mine := baseConfig()
	mine.Scopes = []string{"repo"}
	mine.UpstreamTokenEndpointAuthMethod = oauthproxy.AuthMethodClientSecretBasic
	mine, err = providers.GitHub(mine)
	require.NoError(t, err)
	assert.Equal(t, []string{"repo"}, mine.Scopes, "the caller's choice is kept")
	assert.Equal(t, oauthproxy.AuthMethodClientSecretBasic, mine.UpstreamTokenEndpointAuthMethod)
}

// TestGitHubOptionsRefuseABadURL: the endpoints are built by appending paths,
// so an option that is not an absolute http(s) URL is an error, not a
// Config pointing nowhere.
func TestGitHubOptionsRefuseABadURL(t *testing.T) {
	for _, opts := range []providers.GitHubOptions{
		{URL: "github.example.com"},
		{URL: "ftp://github.example.com"},
		{URL: "https://github.example.com/?x=1"},
		{APIURL: "/api/v3"},
		{APIURL: "https://api.example.com/#frag"},
	} {
		_, err := opts.Apply(baseConfig())
		assert.Error(t, err, "%+v", opts)
	}
}

func TestGitHubLogin(t *testing.T) {
	for _, tc := range []struct {
		name         string
		privateEmail bool
		scopes       []string
		ghes         bool // GitHub Enterprise Server layout: API under /api/v3
		wantEmail    any
		wantVerified any
	}{
		// The public email on /user; its verification is not stated there.
		{name: "public email", wantEmail: octocat.Email},
		// No public email, user:email granted: the primary verified address.
		{name: "private email", privateEmail: true, wantEmail: octocat.Email, wantVerified: true},
		// No public email and no user:email: no email, and /user/emails
		// (which would answer 404) is not asked.
		{name: "private email without user:email", privateEmail: true, scopes: []string{"read:user"}},
		{name: "enterprise server", ghes: true, wantEmail: octocat.Email},
	} {
		t.Run(tc.name, func(t *testing.T) {
			idp := gitHubFake(t, tc.privateEmail)
			base := baseConfig()
			base.Scopes = tc.scopes
			opts := providers.GitHubOptions{URL: idp.URL(), APIURL: idp.URL()}
			if tc.ghes {
				opts.APIURL = ""
			}
			cfg, err := opts.Apply(base)
			require.NoError(t, err)
			px := startProxy(t, cfg)
			tok := px.login(px.register(), "")

			c := px.claims(tok.AccessToken)
			assert.Equal(t, "583231", c.Subject, "the numeric id, as a string")
			assert.Equal(t, "octocat", c.Extra["preferred_username"])
			assert.Equal(t, "The Octocat", c.Extra["name"])
			assert.Equal(t, idp.URL()+"/avatars/octocat", c.Extra["picture"])
			assert.Equal(t, tc.wantEmail, c.Extra["email"])
			assert.Equal(t, tc.wantVerified, c.Extra["email_verified"])

			up := px.upstream(tok.AccessToken)
			assert.True(t, up.Expiry.IsZero(), "GitHub sends no expires_in")
			if tc.scopes == nil {
				assert.Equal(t, "read:user,user:email", up.Scope, "GitHub's comma-separated scope")
			}
			assert.Equal(t, oauthproxytest.AuthMethodPost, idp.LastTokenAuthMethod())
		})
	}
}

// TestGitHubFailures: GitHub reports a bad code with HTTP 200 and a
// form-encoded error, and an API failure leaves the proxy without an
// identity; both end the login at the client with an error, no code.
func TestGitHubFailures(t *testing.T) {
	t.Run("token error with HTTP 200", func(t *testing.T) {
		idp := gitHubFake(t, false)
		px := startProxy(t, gitHubAt(t, idp.URL(), idp.URL()))
		idp.FailNext(http.StatusOK, "error=bad_verification_code&error_description=The+code+passed+is+incorrect+or+expired.",
			"application/x-www-form-urlencoded")
		q := px.loginFails(px.register(), oauthproxy.ErrCodeServerError)
		assert.Contains(t, q.Get("error_description"), "The code passed is incorrect or expired")
	})
	t.Run("API unavailable", func(t *testing.T) {
		idp := gitHubFake(t, false)
		// The API root points at a path the fake does not serve.
		px := startProxy(t, gitHubAt(t, idp.URL(), idp.URL()+"/missing"))
		px.loginFails(px.register(), oauthproxy.ErrCodeServerError)
	})
	t.Run("API answer without a numeric id", func(t *testing.T) {
		idp := newIdP(t, oauthproxytest.Options{GitHubAPI: true, AuthMethod: oauthproxytest.AuthMethodPost,
			User: oauthproxytest.User{Subject: "not-a-number", Login: "x"}})
		px := startProxy(t, gitHubAt(t, idp.URL(), idp.URL()))
		px.loginFails(px.register(), oauthproxy.ErrCodeServerError)
		assert.Equal(t, 1, idp.Stats().UserInfoRequests, "the answer was read and refused")
	})
}
