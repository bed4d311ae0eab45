package oauthproxy

import (
	"net/url"
	"slices"
	"strings"
)

// Well-known document paths (RFC 8414 §3, RFC 9728 §3).
const (
	wellKnownAuthServer = "/.well-known/oauth-authorization-server"
	wellKnownResource   = "/.well-known/oauth-protected-resource"
)

// AuthorizationServerMetadata is the RFC 8414 §2 document.
type AuthorizationServerMetadata struct {
	Issuer                                     string   `json:"issuer"`                 // REQUIRED
	AuthorizationEndpoint                      string   `json:"authorization_endpoint"` // REQUIRED
	TokenEndpoint                              string   `json:"token_endpoint"`         // REQUIRED
	RegistrationEndpoint                       string   `json:"registration_endpoint,omitempty"`
	RevocationEndpoint                         string   `json:"revocation_endpoint,omitempty"`                        // OPTIONAL (RFC 7009)
	RevocationEndpointAuthMethodsSupported     []string `json:"revocation_endpoint_auth_methods_supported,omitempty"` // OPTIONAL
	ScopesSupported                            []string `json:"scopes_supported,omitempty"`                           // RECOMMENDED
	ResponseTypesSupported                     []string `json:"response_types_supported"`                             // REQUIRED
	ResponseModesSupported                     []string `json:"response_modes_supported"`                             // OPTIONAL
	GrantTypesSupported                        []string `json:"grant_types_supported"`                                // OPTIONAL
	TokenEndpointAuthMethodsSupported          []string `json:"token_endpoint_auth_methods_supported"`
	CodeChallengeMethodsSupported              []string `json:"code_challenge_methods_supported"`               // RFC 7636 §6.2: S256 only
	AuthorizationResponseIssParameterSupported bool     `json:"authorization_response_iss_parameter_supported"` // RFC 9207 §3
	// ClientIDMetadataDocumentSupported: MCP 2025-11-25, set with EnableCIMD.
	ClientIDMetadataDocumentSupported bool `json:"client_id_metadata_document_supported,omitempty"`

	// IntrospectionEndpoint is OPTIONAL (RFC 7662); callers authenticate
	// with one of IntrospectionEndpointAuthMethodsSupported.
	IntrospectionEndpoint                     string   `json:"introspection_endpoint,omitempty"`
	IntrospectionEndpointAuthMethodsSupported []string `json:"introspection_endpoint_auth_methods_supported,omitempty"`
	// JWKSURI is OPTIONAL: set with AccessTokenSigningKeys, it serves the
	// public keys of the access tokens (RFC 7517).
	JWKSURI string `json:"jwks_uri,omitempty"`
}

// GetAuthorizationServerMetadata returns the RFC 8414 metadata MCP clients
// discover the proxy with: S256 only, "none" among the client authentication
// methods (public clients), and the RFC 9207 iss parameter (S12).
func (p *Proxy) GetAuthorizationServerMetadata() *AuthorizationServerMetadata {
	base := p.cfg.BaseURL
	return &AuthorizationServerMetadata{
		Issuer:                                     base,
		AuthorizationEndpoint:                      base + authorizePath,
		TokenEndpoint:                              base + tokenPath,
		RegistrationEndpoint:                       base + registerPath,
		RevocationEndpoint:                         base + revokePath,
		RevocationEndpointAuthMethodsSupported:     []string{AuthMethodNone, AuthMethodClientSecretBasic, AuthMethodClientSecretPost},
		ScopesSupported:                            slices.Clone(p.cfg.Scopes),
		ResponseTypesSupported:                     []string{"code"},
		ResponseModesSupported:                     []string{"query"},
		GrantTypesSupported:                        []string{grantAuthorizationCode, grantRefreshToken},
		TokenEndpointAuthMethodsSupported:          []string{AuthMethodNone, AuthMethodClientSecretBasic, AuthMethodClientSecretPost},
		CodeChallengeMethodsSupported:              []string{"S256"},
		AuthorizationResponseIssParameterSupported: true,
		ClientIDMetadataDocumentSupported:          p.cfg.EnableCIMD,

		IntrospectionEndpoint:                     base + introspectPath,
		IntrospectionEndpointAuthMethodsSupported: []string{AuthMethodClientSecretBasic, AuthMethodClientSecretPost},
		JWKSURI: p.jwksURI(),
	}
}

// ProtectedResourceMetadata is the RFC 9728 §2 document for the MCP endpoint.
type ProtectedResourceMetadata struct {
	Resource               string   `json:"resource"`                   // REQUIRED; equals Config.Resource exactly
	AuthorizationServers   []string `json:"authorization_servers"`      // OPTIONAL
	ScopesSupported        []string `json:"scopes_supported,omitempty"` // RECOMMENDED
	BearerMethodsSupported []string `json:"bearer_methods_supported"`   // OPTIONAL; header only
	ResourceName           string   `json:"resource_name,omitempty"`    // RECOMMENDED
}

// GetProtectedResourceMetadata returns the RFC 9728 metadata of Resource, naming
// the proxy as its authorization server.
func (p *Proxy) GetProtectedResourceMetadata() *ProtectedResourceMetadata {
	return &ProtectedResourceMetadata{
		Resource:               p.cfg.Resource,
		AuthorizationServers:   []string{p.cfg.BaseURL},
		ScopesSupported:        slices.Clone(p.cfg.Scopes),
		BearerMethodsSupported: []string{"header"},
	}
}

// ProtectedResourceMetadataURL is where the resource's metadata is served: the
// well-known path inserted before the resource's path (RFC 9728 §3.1). It goes
// in the WWW-Authenticate challenge (S16).
func (p *Proxy) ProtectedResourceMetadataURL() string {
	u, err := url.Parse(p.cfg.Resource)
	if err != nil {
		return p.cfg.BaseURL + wellKnownResource
	}
	return u.Scheme + "://" + u.Host + wellKnownResource + strings.TrimRight(u.EscapedPath(), "/")
}

// issuerPath is the path component of BaseURL ("" at the origin root).
func (p *Proxy) issuerPath() string { return strings.TrimRight(p.cfg.issuer.EscapedPath(), "/") }
