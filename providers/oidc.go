package providers

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"

	"github.com/oauthproxy-go/oauthproxy"
)

// Metadata is the part of an OpenID provider's metadata (OpenID Connect
// Discovery 1.0 §3) that the proxy uses. Discover fetches it; Google and
// Entra presets know theirs.
type Metadata struct {
	// Issuer is the provider's issuer identifier: the iss of its id_tokens.
	// REQUIRED.
	Issuer string `json:"issuer"`
	// AuthorizationEndpoint is the OAuth 2.0 authorization endpoint. REQUIRED.
	AuthorizationEndpoint string `json:"authorization_endpoint"`
	// TokenEndpoint is the OAuth 2.0 token endpoint. REQUIRED for the code flow.
	TokenEndpoint string `json:"token_endpoint"`
	// UserInfoEndpoint is the OIDC Core §5.3 endpoint. RECOMMENDED.
	UserInfoEndpoint string `json:"userinfo_endpoint,omitempty"`
	// JWKSURI is where the keys that sign id_tokens are published. REQUIRED.
	JWKSURI string `json:"jwks_uri"`
	// RevocationEndpoint is the RFC 7009 endpoint (RFC 8414 §2). OPTIONAL.
	RevocationEndpoint string `json:"revocation_endpoint,omitempty"`
	// ScopesSupported lists the scopes the provider offers. RECOMMENDED.
	ScopesSupported []string `json:"scopes_supported,omitempty"`
	// TokenEndpointAuthMethodsSupported lists the client authentication
	// methods of the token endpoint; absent means client_secret_basic. OPTIONAL.
	TokenEndpointAuthMethodsSupported []string `json:"token_endpoint_auth_methods_supported,omitempty"`
	// IDTokenSigningAlgValuesSupported lists the id_token signature
	// algorithms. REQUIRED.
	IDTokenSigningAlgValuesSupported []string `json:"id_token_signing_alg_values_supported,omitempty"`
}

// Discover fetches the OpenID Provider Configuration of issuer from
// issuer+"/.well-known/openid-configuration" (OpenID Connect Discovery 1.0
// §4) and checks it. The issuer it names must be the one asked for (§4.3); a
// difference of a trailing slash alone is accepted, as Auth0 issuers end in
// one, and the document's spelling is kept, since id_tokens carry it. A nil
// client means one with oauthproxy.DefaultHTTPTimeout.
func Discover(ctx context.Context, issuer string, client *http.Client) (*Metadata, error) {
	if err := checkURL("issuer", issuer); err != nil {
		return nil, fmt.Errorf("providers: %w", err)
	}
	if strings.Contains(issuer, "?") {
		return nil, fmt.Errorf("providers: issuer %q must not have a query", issuer)
	}
	if client == nil {
		client = &http.Client{Timeout: oauthproxy.DefaultHTTPTimeout}
	}
	var m Metadata
	wellKnown := strings.TrimSuffix(issuer, "/") + "/.well-known/openid-configuration"
	if err := getJSON(ctx, client, wellKnown, nil, &m); err != nil {
		return nil, fmt.Errorf("providers: discovery: %w", err)
	}
	if m.Issuer != issuer && strings.TrimSuffix(m.Issuer, "/") != strings.TrimSuffix(issuer, "/") {
		return nil, fmt.Errorf("providers: discovery: the document at %s names issuer %q, not %q (OpenID Connect Discovery 1.0 §4.3)",
			wellKnown, m.Issuer, issuer)
	}
	if err := m.check(); err != nil {
		return nil, fmt.Errorf("providers: discovery: %w", err)
	}
	return &m, nil
}

// check validates the fields a preset relies on.
func (m *Metadata) check() error {
	errs := []error{
		checkURL("issuer", m.Issuer),
		checkURL("authorization_endpoint", m.AuthorizationEndpoint),
		checkURL("token_endpoint", m.TokenEndpoint),
		checkURL("jwks_uri", m.JWKSURI),
	}
	if m.UserInfoEndpoint != "" {
		errs = append(errs, checkURL("userinfo_endpoint", m.UserInfoEndpoint))
	}
	if m.RevocationEndpoint != "" {
		errs = append(errs, checkURL("revocation_endpoint", m.RevocationEndpoint))
	}
	return errors.Join(errs...)
}

// OIDC configures the proxy for any OpenID Connect provider by discovery:
// Auth0 ("https://TENANT.auth0.com/"), Okta ("https://ORG.okta.com/oauth2/default"),
// Keycloak ("https://HOST/realms/REALM") and the like. It fetches the
// provider's metadata with cfg.HTTPClient and applies it as Metadata.Apply
// does. Add offline_access to cfg.Scopes where the provider needs it for
// refresh tokens (Auth0, Okta).
func OIDC(ctx context.Context, issuer string, cfg oauthproxy.Config) (oauthproxy.Config, error) {
	m, err := Discover(ctx, issuer, httpClient(&cfg))
	if err != nil {
		return oauthproxy.Config{}, err
	}
	return m.Apply(cfg)
}

// Apply configures the proxy for the provider m describes, without discovery.
// Fields of cfg that are already set are kept; it fills in the upstream
// endpoints, a client authentication method the provider supports, the
// scopes openid, profile and email (those the provider offers), and a
// ClaimsExtractor that takes the user's identity from the id_token only after
// verifying it (OIDC Core §3.1.3.7: signature against m.JWKSURI, iss, aud,
// azp, exp), or from the userinfo endpoint when no id_token came.
// cfg.UpstreamClientID is required: it is the audience id_tokens must name.
func (m *Metadata) Apply(cfg oauthproxy.Config) (oauthproxy.Config, error) {
	return m.apply(cfg, idTokenOptions{})
}

func (m *Metadata) apply(cfg oauthproxy.Config, opts idTokenOptions) (oauthproxy.Config, error) {
	if err := m.check(); err != nil {
		return oauthproxy.Config{}, fmt.Errorf("providers: metadata: %w", err)
	}
	if cfg.UpstreamClientID == "" {
		return oauthproxy.Config{}, errors.New("providers: UpstreamClientID is required: id_tokens are verified against it")
	}
	method, err := m.authMethod(cfg.UpstreamTokenEndpointAuthMethod)
	if err != nil {
		return oauthproxy.Config{}, err
	}
	cfg.UpstreamTokenEndpointAuthMethod = method
	fill(&cfg.UpstreamAuthorizationEndpoint, m.AuthorizationEndpoint)
	fill(&cfg.UpstreamTokenEndpoint, m.TokenEndpoint)
	fill(&cfg.UpstreamUserInfoEndpoint, m.UserInfoEndpoint)
	fill(&cfg.UpstreamRevocationEndpoint, m.RevocationEndpoint)
	fillScopes(&cfg, m.defaultScopes()...)
	if cfg.ClaimsExtractor == nil {
		snapshot := *m // later changes to m must not change what is verified
		opts.metadata = &snapshot
		opts.clientID = cfg.UpstreamClientID
		opts.client = httpClient(&cfg)
		opts.now = cfg.Now
		cfg.ClaimsExtractor = newIDTokenVerifier(opts).claims
	}
	return cfg, nil
}

// authMethod picks how the proxy authenticates at the token endpoint: the
// caller's choice, else client_secret_basic, else client_secret_post, as the
// provider supports (an absent list means client_secret_basic, RFC 8414 §2).
func (m *Metadata) authMethod(chosen string) (string, error) {
	supported := m.TokenEndpointAuthMethodsSupported
	if len(supported) == 0 {
		supported = []string{oauthproxy.AuthMethodClientSecretBasic}
	}
	if chosen != "" {
		return chosen, nil
	}
	for _, method := range []string{oauthproxy.AuthMethodClientSecretBasic, oauthproxy.AuthMethodClientSecretPost} {
		if slices.Contains(supported, method) {
			return method, nil
		}
	}
	return "", fmt.Errorf("providers: the token endpoint supports none of client_secret_basic, client_secret_post (it offers %q)", supported)
}

// defaultScopes are openid plus the profile and email scopes the provider
// offers (all of them when it does not say).
func (m *Metadata) defaultScopes() []string {
	scopes := []string{"openid"}
	for _, s := range []string{"profile", "email"} {
		if len(m.ScopesSupported) == 0 || slices.Contains(m.ScopesSupported, s) {
			scopes = append(scopes, s)
		}
	}
	return scopes
}
