package oauthproxytest

import (
	"crypto/rand"
	"crypto/rsa"
	"net/http"
	"strings"

	"github.com/golang-jwt/jwt/v5"
)

// quirkRoutes adds the routes of the provider imitations that are switched on.
func (s *Server) quirkRoutes(mux *http.ServeMux) {
	if s.opts.GitHubAPI {
		s.gitHubRoutes(mux)
	}
	if s.opts.EntraTenantID != "" {
		s.entraRoutes(mux)
	}
}

// issuesRefreshTokenLocked decides whether the exchange of ac returns a
// refresh token, applying GoogleOfflineAccess and
// RefreshTokenRequiresOfflineAccess. s.mu must be held.
func (s *Server) issuesRefreshTokenLocked(ac *authCode) bool {
	if s.opts.RefreshTokenRequiresOfflineAccess && !hasScope(ac.scope, "offline_access") {
		return false
	}
	if s.opts.GoogleOfflineAccess {
		if ac.accessType != "offline" {
			return false
		}
		// Google sends a refresh token with the first consent only; a later
		// authorization gets one again only when it asked for consent.
		if s.offlineGranted[ac.user.Subject] && !hasScope(ac.prompt, "consent") {
			return false
		}
		s.offlineGranted[ac.user.Subject] = true
	}
	return true
}

// idTokenIssuer is the iss of id_tokens: the user's tenant under
// EntraTenantID, Issuer otherwise.
func (s *Server) idTokenIssuer() string {
	if s.opts.EntraTenantID != "" {
		return s.ts.URL + "/" + s.opts.EntraTenantID + "/v2.0"
	}
	return s.Issuer()
}

// addQuirkClaims adds Entra's tenant claims and then Options.IDTokenClaims.
func (s *Server) addQuirkClaims(claims jwt.MapClaims, u User) {
	if s.opts.EntraTenantID != "" {
		claims["tid"] = s.opts.EntraTenantID
		claims["oid"] = "oid-" + u.Subject
		claims["ver"] = "2.0"
	}
	for k, v := range s.opts.IDTokenClaims {
		if v == nil {
			delete(claims, k)
		} else {
			claims[k] = v
		}
	}
}

// forgerKey is the key ForgeIDTokenSignature signs with: never published.
func (s *Server) forgerKey() *rsa.PrivateKey {
	s.forgerOnce.Do(func() {
		key, err := rsa.GenerateKey(rand.Reader, 2048)
		if err != nil {
			panic("oauthproxytest: generating RSA key: " + err.Error())
		}
		s.forger = key
	})
	return s.forger
}

// SignIDToken signs claims as an RS256 JWT with the key published at JWKSURL,
// for tests that hand a relying party an id_token of their own making. The
// claims are taken as given: nothing is added or checked.
func (s *Server) SignIDToken(claims map[string]any) string {
	key, kid := s.signingKey()
	return sign(jwt.MapClaims(claims), key, kid)
}

// validIssuerPath reports whether p is a usable Options.IssuerPath.
func validIssuerPath(p string) bool {
	return strings.HasPrefix(p, "/") && !strings.HasSuffix(p, "/") &&
		!strings.ContainsAny(p, "?#{} ")
}

// validPathSegment reports whether v can stand as one URL path segment.
func validPathSegment(v string) bool {
	return v != "" && v != "." && v != ".." && !strings.ContainsAny(v, "/?#{} %")
}
