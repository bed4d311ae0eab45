package tokenverify

import (
	"errors"
	"net/http"
	"net/url"
	"slices"
	"strings"

	"github.com/modelcontextprotocol/go-sdk/auth"
	"github.com/oauthproxy-go/oauthproxy"
	"github.com/oauthproxy-go/oauthproxy/internal/httpx"
	"github.com/oauthproxy-go/oauthproxy/mcpauth"
)

const wellKnownResource = "/.well-known/oauth-protected-resource"

// RequireBearer protects next as oauthproxy.Proxy.RequireBearer does on the
// proxy: only requests with a token Verify accepts get through, with the
// claims in the context (oauthproxy.ClaimsFromContext). Others get 401 with
// a WWW-Authenticate challenge naming this server's resource metadata (RFC
// 9728 §5.1, RFC 6750 §3) and error="invalid_token" when a token was sent;
// a token lacking one of requiredScopes gets 403 insufficient_scope; 503
// when the proxy's keys or introspection cannot be reached.
func (v *Verifier) RequireBearer(next http.Handler, requiredScopes ...string) http.Handler {
	required := strings.Join(requiredScopes, " ")
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		token, ok := bearerToken(r)
		if !ok {
			httpx.WriteBearerChallenge(w, http.StatusUnauthorized, v.ProtectedResourceMetadataURL(), "", "", "")
			return
		}
		c, err := v.Verify(r.Context(), token)
		if err != nil {
			desc := "the access token is invalid"
			switch {
			case errors.Is(err, oauthproxy.ErrTokenExpired):
				desc = "the access token expired"
			case errors.Is(err, oauthproxy.ErrTokenRevoked):
				desc = "the access token was revoked"
			case !errors.Is(err, oauthproxy.ErrInvalidToken):
				v.log.Error("tokenverify: bearer check failed", "error", err)
				httpx.WriteJSON(w, http.StatusServiceUnavailable, map[string]string{"error": oauthproxy.ErrCodeTemporarilyUnavailable})
				return
			}
			httpx.WriteBearerChallenge(w, http.StatusUnauthorized, v.ProtectedResourceMetadataURL(), oauthproxy.ErrCodeInvalidToken, desc, "")
			return
		}
		for _, s := range requiredScopes {
			if !slices.Contains(c.Scopes, s) {
				httpx.WriteBearerChallenge(w, http.StatusForbidden, v.ProtectedResourceMetadataURL(),
					oauthproxy.ErrCodeInsufficientScope, "the access token lacks a required scope", required)
				return
			}
		}
		next.ServeHTTP(w, r.WithContext(oauthproxy.ContextWithClaims(r.Context(), c)))
	})
}

// TokenVerifier is Verify as a go-sdk auth.TokenVerifier, for
// auth.RequireBearerToken; tools read the claims with
// mcpauth.ClaimsFromRequest, as behind the proxy.
func (v *Verifier) TokenVerifier() auth.TokenVerifier {
	return mcpauth.TokenVerifierFunc(v.Verify)
}

// ProtectedResourceMetadata is this server's RFC 9728 §2 document, naming
// the proxy as its authorization server.
func (v *Verifier) ProtectedResourceMetadata() *oauthproxy.ProtectedResourceMetadata {
	return &oauthproxy.ProtectedResourceMetadata{
		Resource:               v.cfg.Resource,
		AuthorizationServers:   []string{v.cfg.Issuer},
		ScopesSupported:        slices.Clone(v.cfg.Scopes),
		BearerMethodsSupported: []string{"header"},
	}
}

// ProtectedResourceMetadataURL is where Handler serves the document: the
// well-known path inserted before Resource's path (RFC 9728 §3.1). It is
// the resource_metadata of the challenges.
func (v *Verifier) ProtectedResourceMetadataURL() string {
	u, _ := url.Parse(v.cfg.Resource) // New checked it
	return wellKnownURL(u, wellKnownResource)
}

// Handler serves the resource metadata at its RFC 9728 §3.1 locations, with
// CORS for browser-based clients; mount it at "/". Other paths are 404.
func (v *Verifier) Handler() http.Handler {
	mux := http.NewServeMux()
	doc := httpx.CORS(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		httpx.WriteJSON(w, http.StatusOK, v.ProtectedResourceMetadata())
	}))
	paths := []string{wellKnownResource}
	if u, err := url.Parse(v.ProtectedResourceMetadataURL()); err == nil && u.Path != wellKnownResource {
		paths = append(paths, u.Path)
	}
	for _, p := range paths {
		mux.Handle("GET "+p, doc)
		mux.Handle("OPTIONS "+p, doc)
	}
	return mux
}

// bearerToken extracts the token from the Authorization header (RFC 6750
// §2.1).
func bearerToken(r *http.Request) (string, bool) {
	scheme, token, ok := strings.Cut(r.Header.Get("Authorization"), " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") {
		return "", false
	}
	token = strings.TrimSpace(token)
	return token, token != ""
}
