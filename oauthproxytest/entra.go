package oauthproxytest

import (
	"encoding/json"
	"net/http"
)

// entraRoutes serves Microsoft Entra ID's v2.0 endpoints under any tenant
// segment (Microsoft identity platform, "OpenID Connect on the Microsoft
// identity platform").
func (s *Server) entraRoutes(mux *http.ServeMux) {
	mux.HandleFunc("GET /{tenant}/oauth2/v2.0/authorize", s.handleAuthorize)
	mux.HandleFunc("POST /{tenant}/oauth2/v2.0/token", s.handleToken)
	mux.HandleFunc("GET /{tenant}/discovery/v2.0/keys", s.handleJWKS)
	mux.HandleFunc("GET /{tenant}/v2.0/.well-known/openid-configuration", s.handleEntraDiscovery)
}

// entraMultiTenant are the tenant segments that stand for many tenants; their
// discovery documents name a templated issuer, since the real one depends on
// the tenant of the user who signs in.
var entraMultiTenant = map[string]bool{"common": true, "organizations": true, "consumers": true}

// entraIssuerTemplate is the path of Entra ID's templated issuer: {tenantid}
// stands for the tid claim of each id_token.
const entraIssuerTemplate = "/{tenantid}/v2.0"

func (s *Server) handleEntraDiscovery(w http.ResponseWriter, r *http.Request) {
	tenant := r.PathValue("tenant")
	issuer := s.ts.URL + "/" + s.opts.EntraTenantID + "/v2.0"
	if entraMultiTenant[tenant] {
		issuer = s.ts.URL + entraIssuerTemplate
	}
	base := s.ts.URL + "/" + tenant
	b, _ := json.Marshal(map[string]any{
		"issuer":                                issuer,
		"authorization_endpoint":                base + "/oauth2/v2.0/authorize",
		"token_endpoint":                        base + "/oauth2/v2.0/token",
		"jwks_uri":                              base + "/discovery/v2.0/keys",
		"response_types_supported":              []string{"code", "id_token", "code id_token", "id_token token"},
		"response_modes_supported":              []string{"query", "fragment", "form_post"},
		"subject_types_supported":               []string{"pairwise"},
		"id_token_signing_alg_values_supported": []string{"RS256"},
		"token_endpoint_auth_methods_supported": []string{s.opts.AuthMethod},
		"scopes_supported":                      []string{"openid", "profile", "email", "offline_access"},
		"claims_supported": []string{"sub", "iss", "aud", "exp", "iat", "auth_time", "nonce",
			"name", "email", "preferred_username", "oid", "tid", "ver"},
		"tenant_region_scope": "WW",
	})
	w.Header().Set("Content-Type", "application/json")
	_, _ = w.Write(b)
}
