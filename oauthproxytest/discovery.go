package oauthproxytest

import (
	"encoding/json"
	"net/http"
)

// handleDiscovery serves the OpenID Connect Discovery 1.0 §3 document, which is
// also a valid RFC 8414 authorization server metadata document.
func (s *Server) handleDiscovery(w http.ResponseWriter, _ *http.Request) {
	b, _ := json.Marshal(map[string]any{
		"issuer":                                s.Issuer(),
		"authorization_endpoint":                s.AuthorizationEndpoint(),
		"token_endpoint":                        s.TokenEndpoint(),
		"userinfo_endpoint":                     s.UserInfoEndpoint(),
		"jwks_uri":                              s.JWKSURL(),
		"response_types_supported":              []string{"code"},
		"response_modes_supported":              []string{"query"},
		"grant_types_supported":                 []string{"authorization_code", "refresh_token"},
		"subject_types_supported":               []string{"public"},
		"id_token_signing_alg_values_supported": []string{"RS256"},
		"token_endpoint_auth_methods_supported": []string{s.opts.AuthMethod},
		"code_challenge_methods_supported":      []string{"S256"},
		"scopes_supported":                      []string{"openid", "profile", "email"},
		"claims_supported": []string{"sub", "iss", "aud", "exp", "iat", "auth_time", "nonce",
			"name", "email", "email_verified", "preferred_username"},
		"authorization_response_iss_parameter_supported": true,
	})
	w.Header().Set("Content-Type", "application/json")
	_, _ = w.Write(b)
}
