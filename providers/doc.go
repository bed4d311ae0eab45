// Package providers configures an oauthproxy.Proxy for a particular upstream
// identity provider: GitHub, Google, Microsoft Entra ID, or any OpenID Connect
// provider by discovery (Auth0, Okta, Keycloak, …).
//
// Each preset takes the oauthproxy.Config you have written — BaseURL, the
// upstream client id and secret, whatever else you chose — and returns it with
// the provider's endpoints, scopes, quirks and a ClaimsExtractor filled in.
// Fields you set are kept:
//
//	cfg, err := providers.GitHub(oauthproxy.Config{
//		BaseURL:              "https://mcp.example.com",
//		UpstreamClientID:     os.Getenv("GITHUB_CLIENT_ID"),
//		UpstreamClientSecret: os.Getenv("GITHUB_CLIENT_SECRET"),
//	})
//	if err != nil { ... }
//	p, err := oauthproxy.New(cfg)
//
//	cfg, err := providers.Google(oauthproxy.Config{...})
//	cfg, err := providers.Entra("contoso-tenant-id", oauthproxy.Config{...})
//	cfg, err := providers.OIDC(ctx, "https://dev-123.okta.com/oauth2/default", oauthproxy.Config{...})
//
// The function form uses the provider's public endpoints; the options types
// (GitHubOptions, GoogleOptions, EntraOptions, Metadata) reach GitHub
// Enterprise Server, national clouds, a known provider without discovery, or
// a stand-in provider in tests (package oauthproxytest), and their Apply
// method does the same work.
//
// # Identity
//
// The installed ClaimsExtractor is where the user's identity comes from, and
// the presets only trust what they have checked. For OpenID providers it
// verifies the id_token as OpenID Connect Core §3.1.3.7 requires — signature
// with an asymmetric algorithm against the provider's JWKS (fetched, cached
// and refreshed on key rotation by github.com/coreos/go-oidc/v3), issuer,
// audience (the upstream client id), azp, expiry, at_hash when present — and
// uses its claims; with no id_token (the openid scope was not requested) it
// asks the userinfo endpoint. For GitHub, which has no id_token, it reads the
// REST API with the user's token. An id_token that fails a check fails the
// login: the MCP client receives an error redirect, never a code.
//
// The proxy then keeps only sub and the PassthroughClaims of what the
// extractor returns, within size limits, and never lets it set the claims that
// give a token its meaning (iss, aud, exp, scope, client_id, …). To add a rule
// of your own, wrap the preset's extractor:
//
//	verified := cfg.ClaimsExtractor
//	cfg.ClaimsExtractor = func(ctx context.Context, t *oauthproxy.UpstreamTokens) (map[string]any, error) {
//		claims, err := verified(ctx, t)
//		if err == nil && claims["email_verified"] != true {
//			err = errors.New("a verified email is required")
//		}
//		return claims, err
//	}
//
// Presets read UpstreamClientID, HTTPClient and Now from the Config they are
// given, so set those before calling one; a nil HTTPClient is set to the
// proxy's default, shared by the proxy and the extractor.
package providers
