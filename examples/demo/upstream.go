package main

import (
	"crypto/rand"
	"fmt"
	"os"

	"github.com/oauthproxy-go/oauthproxy"
	"github.com/oauthproxy-go/oauthproxy/oauthproxytest"
	"github.com/oauthproxy-go/oauthproxy/providers"
)

// upstream is the identity provider the proxy sends users to sign in at.
type upstream struct {
	// config holds the Upstream* fields, Scopes, ProviderName and, for
	// GitHub, the preset's ClaimsExtractor.
	config oauthproxy.Config
	// description is shown in the banner.
	description string
	// signIn says what the user sees at the provider.
	signIn string
	// note, when set, is printed before the banner.
	note   string
	github bool
	close  func()
}

// newUpstream returns GitHub when GITHUB_CLIENT_ID and GITHUB_CLIENT_SECRET are
// set, and otherwise starts the stand-in provider on a random loopback port.
func newUpstream() (*upstream, error) {
	id, secret := os.Getenv("GITHUB_CLIENT_ID"), os.Getenv("GITHUB_CLIENT_SECRET")
	if id != "" && secret != "" {
		cfg, err := providers.GitHub(oauthproxy.Config{UpstreamClientID: id, UpstreamClientSecret: secret})
		if err != nil {
			return nil, err
		}
		return &upstream{
			config:      cfg,
			description: "GitHub (OAuth app " + id + ")",
			signIn:      "GitHub's sign-in",
			github:      true,
			close:       func() {},
		}, nil
	}

	var note string
	if id != "" || secret != "" {
		note = "GITHUB_CLIENT_ID and GITHUB_CLIENT_SECRET must both be set to use GitHub; using the stand-in provider."
	}

	// The stand-in knows one client, the proxy; its secret only has to match.
	clientID, clientSecret := "oauthproxy-demo", rand.Text()
	idp := oauthproxytest.NewServer(oauthproxytest.Options{
		ClientID:     clientID,
		ClientSecret: clientSecret,
		LoginPage:    true, // a "Sign in as Test User" page, so a human sees the whole flow
		IssueIDToken: true, // identity (sub, email, name) comes from the id_token
		RequirePKCE:  true,
	})
	return &upstream{
		config: oauthproxy.Config{
			UpstreamAuthorizationEndpoint: idp.AuthorizationEndpoint(),
			UpstreamTokenEndpoint:         idp.TokenEndpoint(),
			UpstreamClientID:              clientID,
			UpstreamClientSecret:          clientSecret,
			Scopes:                        []string{"openid", "email", "profile"},
			ProviderName:                  "the demo identity provider",
		},
		description: "stand-in identity provider (oauthproxytest) at " + idp.URL(),
		signIn:      fmt.Sprintf("the stand-in's sign-in page, where one click signs in %q", oauthproxytest.DefaultUser.Name),
		note:        note,
		close:       idp.Close,
	}, nil
}
