package providers

import (
	"fmt"

	"github.com/oauthproxy-go/oauthproxy"
)

// GoogleMetadata returns Google's OpenID provider metadata, as published at
// https://accounts.google.com/.well-known/openid-configuration.
func GoogleMetadata() *Metadata {
	return &Metadata{
		Issuer:                            "https://accounts.google.com",
		AuthorizationEndpoint:             "https://accounts.google.com/o/oauth2/v2/auth",
		TokenEndpoint:                     "https://oauth2.googleapis.com/token",
		UserInfoEndpoint:                  "https://openidconnect.googleapis.com/v1/userinfo",
		JWKSURI:                           "https://www.googleapis.com/oauth2/v3/certs",
		RevocationEndpoint:                "https://oauth2.googleapis.com/revoke",
		ScopesSupported:                   []string{"openid", "email", "profile"},
		TokenEndpointAuthMethodsSupported: []string{"client_secret_post", "client_secret_basic"},
		IDTokenSigningAlgValuesSupported:  []string{"RS256"},
	}
}

// GoogleOptions adjust the Google preset. The zero value is Google itself.
type GoogleOptions struct {
	// HostedDomain admits only users of this Google Workspace domain
	// ("example.com"). It is sent as the hd parameter, which merely steers
	// Google's account chooser, and each id_token's hd claim must equal it,
	// which is the check that counts.
	HostedDomain string
	// Metadata replaces Google's metadata (GoogleMetadata), for tests against
	// a stand-in such as oauthproxytest.Server: see Discover.
	Metadata *Metadata
}

// Google configures the proxy for "Sign in with Google". It is
// GoogleOptions{}.Apply(cfg).
func Google(cfg oauthproxy.Config) (oauthproxy.Config, error) {
	return GoogleOptions{}.Apply(cfg)
}

// Apply configures cfg for Google's OpenID Connect endpoints as
// Metadata.Apply does (id_tokens verified against Google's JWKS), with
// ProviderName "Google", the scopes openid, email and profile, and the
// authorization parameters access_type=offline and prompt=consent: Google
// issues a refresh token only for offline access, and only at the first
// consent unless consent is asked again, so without them a returning user's
// grant could not be refreshed. Fields of cfg already set are kept.
func (o GoogleOptions) Apply(cfg oauthproxy.Config) (oauthproxy.Config, error) {
	m := o.Metadata
	if m == nil {
		m = GoogleMetadata()
	}
	fill(&cfg.ProviderName, "Google")
	params := map[string]string{"access_type": "offline", "prompt": "consent"}
	var opts idTokenOptions
	if o.HostedDomain != "" {
		params["hd"] = o.HostedDomain
		opts.check = func(claims map[string]any) error {
			if hd, _ := claims["hd"].(string); hd != o.HostedDomain {
				return fmt.Errorf("the account is not in the Google Workspace domain %q", o.HostedDomain)
			}
			return nil
		}
	}
	addAuthorizationParams(&cfg, params)
	return m.apply(cfg, opts)
}
