package oauthproxy

import (
	"context"
	"errors"
	"net/http"
	"strings"

	"github.com/oauthproxy-go/oauthproxy/internal/httpx"
)

type claimsKey struct{}

// ClaimsFromContext returns the caller's claims that RequireBearer stored in
// the request context. They belong to that HTTP request only: an MCP SDK that
// runs tool handlers on a session's context (the go-sdk streamable transport
// does) would show the claims of the request that opened the session, so there
// read them per call with mcpauth.ClaimsFromRequest.
func ClaimsFromContext(ctx context.Context) (*Claims, bool) {
	c, ok := ctx.Value(claimsKey{}).(*Claims)
	return c, ok
}

// ContextWithClaims returns ctx carrying c, where ClaimsFromContext finds
// it: for middleware that verifies the proxy's tokens elsewhere, such as
// package tokenverify on another service.
func ContextWithClaims(ctx context.Context, c *Claims) context.Context {
	return context.WithValue(ctx, claimsKey{}, c)
}

// VerifyAccessToken checks a bearer token the way RequireBearer does and returns
// its claims. In swap mode that is the proxy's JWT: signature with the pinned
// algorithm, type, issuer, audience = Resource, expiry (S07, S10, S11). In
// pass-through mode it is an upstream token the proxy handed out and recorded.
func (p *Proxy) VerifyAccessToken(ctx context.Context, token string) (*Claims, error) {
	if p.cfg.DisableTokenSwap {
		return p.verifyPassThrough(ctx, token)
	}
	claims, err := p.tokens.verify(token, p.cfg.Resource)
	if err != nil {
		return nil, err
	}
	// A revoked grant takes its access tokens with it at once (S05, S06).
	revoked, err := p.grantRevoked(ctx, claims.GrantID)
	if err != nil {
		return nil, err
	}
	if revoked {
		return nil, ErrTokenRevoked
	}
	return claims, nil
}

// RequireBearer protects next (the MCP endpoint): only requests carrying an
// access token this proxy issued for Resource get through, with their Claims in
// the context (ClaimsFromContext). Otherwise it answers 401 with a
// WWW-Authenticate challenge naming the protected-resource metadata (RFC 9728
// §5.1, RFC 6750 §3; S16). With requiredScopes, a token lacking one of them
// gets 403 insufficient_scope. Browser-based clients on other origins get
// the CORS answers of Proxy.CORS, preflights included.
func (p *Proxy) RequireBearer(next http.Handler, requiredScopes ...string) http.Handler {
	return p.CORS(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		token, ok := bearerToken(r)
		if !ok {
			p.challenge(w, http.StatusUnauthorized, "", "", "")
			return
		}
		claims, err := p.VerifyAccessToken(r.Context(), token)
		if err != nil {
			if !errors.Is(err, ErrInvalidToken) && !errors.Is(err, ErrTokenExpired) && !errors.Is(err, ErrTokenRevoked) {
				p.log.Error("oauthproxy: bearer check failed", "error", err)
				httpx.WriteJSON(w, http.StatusServiceUnavailable, map[string]string{"error": ErrCodeTemporarilyUnavailable})
				return
			}
			desc := "the access token is invalid"
			switch {
			case errors.Is(err, ErrTokenExpired):
				desc = "the access token expired"
			case errors.Is(err, ErrTokenRevoked):
				desc = "the access token was revoked"
			}
			p.challenge(w, http.StatusUnauthorized, ErrCodeInvalidToken, desc, "")
			return
		}
		if !subsetOf(requiredScopes, claims.Scopes) {
			p.challenge(w, http.StatusForbidden, ErrCodeInsufficientScope,
				"the access token lacks a required scope", joinScope(requiredScopes))
			return
		}
		next.ServeHTTP(w, r.WithContext(ContextWithClaims(r.Context(), claims)))
	}))
}

// bearerToken extracts the token from the Authorization header (RFC 6750
// §2.1; the only method the metadata advertises).
func bearerToken(r *http.Request) (string, bool) {
	scheme, token, ok := strings.Cut(r.Header.Get("Authorization"), " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") {
		return "", false
	}
	token = strings.TrimSpace(token)
	return token, token != ""
}

// challenge writes a Bearer challenge (RFC 6750 §3) with resource_metadata
// (RFC 9728 §5.1).
func (p *Proxy) challenge(w http.ResponseWriter, status int, code, desc, scope string) {
	// S21; also keeps the quoted-string intact
	httpx.WriteBearerChallenge(w, status, p.ProtectedResourceMetadataURL(), code, publicDescription(desc), scope)
}
