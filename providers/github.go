package providers

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"

	"github.com/oauthproxy-go/oauthproxy"
)

// GitHub's hosts: the web origin with the OAuth endpoints, and the REST API.
const (
	GitHubURL    = "https://github.com"
	GitHubAPIURL = "https://api.github.com"
)

// gitHubAPIVersion pins the REST API version the claims are read with.
const gitHubAPIVersion = "2022-11-28"

// GitHubOptions locate GitHub. The zero value is github.com.
type GitHubOptions struct {
	// URL is GitHub's web origin, where /login/oauth/authorize and
	// /login/oauth/access_token are; default GitHubURL. For GitHub Enterprise
	// Server, its origin ("https://github.example.com").
	URL string
	// APIURL is the REST API root; default GitHubAPIURL, or URL+"/api/v3"
	// when URL is set, as GitHub Enterprise Server serves it.
	APIURL string
}

// GitHub configures the proxy for "Sign in with GitHub" (an OAuth app or a
// GitHub App's user authorization) on github.com. It is
// GitHubOptions{}.Apply(cfg).
func GitHub(cfg oauthproxy.Config) (oauthproxy.Config, error) {
	return GitHubOptions{}.Apply(cfg)
}

// Apply fills in GitHub's OAuth endpoints, client_secret_post, ProviderName
// "GitHub", the scopes read:user and user:email, and a ClaimsExtractor that
// reads the user from the REST API: sub is the numeric user id (a login can be
// renamed and reused, the id cannot), preferred_username the login, and the
// email the public one, or, when the token was granted user:email (or user)
// and there is no public email, the primary verified address from
// /user/emails, with email_verified. GitHub issues no id_token; its token
// responses are form-encoded and, for OAuth apps, carry no expires_in, which
// the proxy handles. Fields of cfg already set are kept. It fails when URL or
// APIURL is not an absolute http(s) URL.
func (o GitHubOptions) Apply(cfg oauthproxy.Config) (oauthproxy.Config, error) {
	if err := checkGitHubURL("URL", o.URL); err != nil {
		return cfg, err
	}
	if err := checkGitHubURL("APIURL", o.APIURL); err != nil {
		return cfg, err
	}
	web := strings.TrimSuffix(o.URL, "/")
	api := strings.TrimSuffix(o.APIURL, "/")
	switch {
	case web == "" && api == "":
		web, api = GitHubURL, GitHubAPIURL
	case web == "":
		web = GitHubURL
	case api == "":
		api = web + "/api/v3"
	}
	fill(&cfg.UpstreamAuthorizationEndpoint, web+"/login/oauth/authorize")
	fill(&cfg.UpstreamTokenEndpoint, web+"/login/oauth/access_token")
	fill(&cfg.UpstreamUserInfoEndpoint, api+"/user")
	fill(&cfg.UpstreamTokenEndpointAuthMethod, oauthproxy.AuthMethodClientSecretPost)
	fill(&cfg.ProviderName, "GitHub")
	fillScopes(&cfg, "read:user", "user:email")
	if cfg.ClaimsExtractor == nil {
		cfg.ClaimsExtractor = gitHubClaims(api, httpClient(&cfg))
	}
	return cfg, nil
}

// checkGitHubURL refuses an option the endpoints cannot be built on: they are
// the value with a path appended.
func checkGitHubURL(name, v string) error {
	if v == "" {
		return nil
	}
	u, err := url.Parse(v)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || u.RawQuery != "" || u.Fragment != "" {
		return fmt.Errorf("providers: GitHubOptions.%s %q is not an absolute http(s) URL without query or fragment", name, v)
	}
	return nil
}

// gitHubUser is the part of GET /user that identity needs.
type gitHubUser struct {
	ID        json.Number `json:"id"`
	Login     string      `json:"login"`
	Name      string      `json:"name"`
	Email     string      `json:"email"` // the public email; null when none
	AvatarURL string      `json:"avatar_url"`
	HTMLURL   string      `json:"html_url"`
}

// gitHubEmail is one entry of GET /user/emails.
type gitHubEmail struct {
	Email    string `json:"email"`
	Primary  bool   `json:"primary"`
	Verified bool   `json:"verified"`
}

// gitHubClaims reads the user's identity from GitHub's REST API ("Get the
// authenticated user", "List email addresses for the authenticated user").
func gitHubClaims(api string, client *http.Client) oauthproxy.ClaimsExtractor {
	return func(ctx context.Context, t *oauthproxy.UpstreamTokens) (map[string]any, error) {
		h := http.Header{
			"Authorization":        {"Bearer " + t.AccessToken},
			"Accept":               {"application/vnd.github+json"},
			"X-Github-Api-Version": {gitHubAPIVersion},
			"User-Agent":           {"oauthproxy"}, // GitHub refuses requests without one
		}
		var u gitHubUser
		if err := getJSON(ctx, client, api+"/user", h, &u); err != nil {
			return nil, fmt.Errorf("providers: GitHub user: %w", err)
		}
		if _, err := u.ID.Int64(); err != nil || u.ID == "0" {
			return nil, errors.New("providers: GitHub user has no numeric id")
		}
		claims := map[string]any{"sub": u.ID.String(), "preferred_username": u.Login}
		for name, v := range map[string]string{"name": u.Name, "picture": u.AvatarURL, "profile": u.HTMLURL, "email": u.Email} {
			if v != "" {
				claims[name] = v
			}
		}
		if u.Email != "" || !gitHubGranted(t.Scope, "user:email", "user") {
			return claims, nil
		}
		var emails []gitHubEmail
		if err := getJSON(ctx, client, api+"/user/emails", h, &emails); err != nil {
			return nil, fmt.Errorf("providers: GitHub emails: %w", err)
		}
		for _, e := range emails {
			if e.Primary && e.Verified && e.Email != "" {
				claims["email"], claims["email_verified"] = e.Email, true
				break
			}
		}
		return claims, nil
	}
}

// gitHubGranted reports whether the granted scope, which GitHub writes
// comma-separated ("read:user,user:email"), holds any of want.
func gitHubGranted(scope string, want ...string) bool {
	for _, s := range strings.FieldsFunc(scope, func(r rune) bool { return r == ',' || r == ' ' }) {
		for _, w := range want {
			if s == w {
				return true
			}
		}
	}
	return false
}
