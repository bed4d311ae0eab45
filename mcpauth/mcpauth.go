// Package mcpauth connects an oauthproxy.Proxy to the official MCP Go SDK
// (github.com/modelcontextprotocol/go-sdk): a TokenVerifier for its
// auth.RequireBearerToken middleware, the RFC 9728 document for its
// auth.ProtectedResourceMetadataHandler, ClaimsFromRequest to read the
// caller's claims inside a tool handler, and UpstreamTokenSource to call the
// provider's API as the caller.
//
// # Which middleware
//
// Put both in front of a go-sdk server, the proxy's outside:
//
//	verify := auth.RequireBearerToken(mcpauth.TokenVerifier(p), nil)
//	mux.Handle("/mcp", p.RequireBearer(verify(mcp.NewStreamableHTTPHandler(getServer, nil))))
//
// p.RequireBearer answers the requests it refuses as RFC 6750 §3 and RFC 9728
// §5.1 describe: 401 with error="invalid_token" and resource_metadata, 403
// with error="insufficient_scope" and scope=, a JSON body, and 503 when
// storage fails. auth.RequireBearerToken alone sends no error= parameter, so
// a go-sdk client, which steps up only on a 403 that says
// insufficient_scope, cannot tell a missing scope from any other refusal.
// Behind it, the go-sdk middleware turns the verified token into an
// auth.TokenInfo, which the SDK hands to each tool call as
// req.Extra.TokenInfo, and whose UserID stops a session ID from being used
// with another user's token.
//
// p.RequireBearer also gives browser-based clients on other origins their
// CORS answers (see oauthproxy.Proxy.CORS). With the go-sdk middleware
// alone, wrap it in p.CORS:
//
//	mux.Handle("/mcp", p.CORS(auth.RequireBearerToken(mcpauth.TokenVerifier(p), mcpauth.RequireBearerTokenOptions(p))(h)))
//
// Use ClaimsFromRequest in go-sdk tool handlers, not
// oauthproxy.ClaimsFromContext: the go-sdk's streamable transport runs a tool
// handler on the context of the request that opened the MCP session, so the
// context holds that request's claims, not those of the token that carried
// the call. Plain net/http handlers and SDKs that run tool handlers on each
// request's context (mcp-go) need no adapter: use p.RequireBearer and
// oauthproxy.ClaimsFromContext.
package mcpauth

import (
	"context"
	"errors"
	"maps"
	"net/http"
	"slices"

	"github.com/modelcontextprotocol/go-sdk/auth"
	"github.com/modelcontextprotocol/go-sdk/mcp"
	"github.com/modelcontextprotocol/go-sdk/oauthex"
	"github.com/oauthproxy-go/oauthproxy"
)

// ClaimsKey is the key of auth.TokenInfo.Extra under which TokenVerifier
// stores the token's *oauthproxy.Claims. No upstream claim can take it: claims
// are copied in first, and this key is written last.
const ClaimsKey = "oauthproxy.claims"

// TokenVerifier returns an auth.TokenVerifier that checks bearer tokens with
// p.VerifyAccessToken. The TokenInfo it returns carries the token's subject as
// UserID, its expiry and scopes, the identity claims (email, name …) in Extra,
// and the whole *oauthproxy.Claims under ClaimsKey.
//
// A token the proxy refuses (invalid, expired, revoked) yields an error
// wrapping auth.ErrInvalidToken, so the middleware answers 401; it also wraps
// the proxy's sentinel (oauthproxy.ErrTokenExpired …). Any other failure
// (storage down) is returned with a fixed message, because the go-sdk writes
// the message into the response; the cause stays reachable with errors.Is
// and errors.As.
func TokenVerifier(p *oauthproxy.Proxy) auth.TokenVerifier {
	return TokenVerifierFunc(p.VerifyAccessToken)
}

// TokenVerifierFunc is TokenVerifier for any check that returns the proxy's
// claims and errors, such as tokenverify.Verifier.Verify on a service other
// than the proxy.
func TokenVerifierFunc(verify func(ctx context.Context, token string) (*oauthproxy.Claims, error)) auth.TokenVerifier {
	return func(ctx context.Context, token string, _ *http.Request) (*auth.TokenInfo, error) {
		c, err := verify(ctx, token)
		if err != nil {
			return nil, verifyFailure(err)
		}
		return TokenInfo(c), nil
	}
}

// TokenInfo converts verified claims to the go-sdk's auth.TokenInfo, as
// TokenVerifier does.
func TokenInfo(c *oauthproxy.Claims) *auth.TokenInfo {
	extra := make(map[string]any, len(c.Extra)+1)
	maps.Copy(extra, c.Extra)
	extra[ClaimsKey] = c
	return &auth.TokenInfo{
		Scopes:     slices.Clone(c.Scopes),
		Expiration: c.ExpiresAt,
		UserID:     c.Subject,
		Extra:      extra,
	}
}

// ClaimsFromRequest returns the proxy's claims for the HTTP request that
// carried req (a *mcp.CallToolRequest, *mcp.ReadResourceRequest …), as
// TokenVerifier stored them. ok is false when the request came without a
// token verified by TokenVerifier.
func ClaimsFromRequest(req mcp.Request) (c *oauthproxy.Claims, ok bool) {
	if req == nil {
		return nil, false
	}
	extra := req.GetExtra()
	if extra == nil {
		return nil, false
	}
	return ClaimsFromTokenInfo(extra.TokenInfo)
}

// ClaimsFromTokenInfo returns the claims TokenVerifier stored in ti, for
// code that has the TokenInfo itself (auth.TokenInfoFromContext in an HTTP
// handler behind auth.RequireBearerToken).
func ClaimsFromTokenInfo(ti *auth.TokenInfo) (*oauthproxy.Claims, bool) {
	if ti == nil {
		return nil, false
	}
	c, ok := ti.Extra[ClaimsKey].(*oauthproxy.Claims)
	return c, ok && c != nil
}

// ProtectedResourceMetadata returns p's RFC 9728 document
// (p.GetProtectedResourceMetadata) in the go-sdk's type, for
// auth.ProtectedResourceMetadataHandler. p.Handler already serves it where
// RFC 9728 §3.1 puts it; mount this where the MCP server runs on another
// origin than the proxy.
func ProtectedResourceMetadata(p *oauthproxy.Proxy) *oauthex.ProtectedResourceMetadata {
	m := p.GetProtectedResourceMetadata()
	return &oauthex.ProtectedResourceMetadata{
		Resource:               m.Resource,
		AuthorizationServers:   slices.Clone(m.AuthorizationServers),
		ScopesSupported:        slices.Clone(m.ScopesSupported),
		BearerMethodsSupported: slices.Clone(m.BearerMethodsSupported),
		ResourceName:           m.ResourceName,
	}
}

// RequireBearerTokenOptions returns options for auth.RequireBearerToken that
// name p's protected resource metadata in the 401 challenge (RFC 9728 §5.1)
// and require scopes, for a go-sdk server that uses the go-sdk middleware
// alone. Prefer p.RequireBearer in front of it (see the package doc); alone,
// wrap it in p.CORS for browser clients.
func RequireBearerTokenOptions(p *oauthproxy.Proxy, scopes ...string) *auth.RequireBearerTokenOptions {
	return &auth.RequireBearerTokenOptions{
		ResourceMetadataURL: p.ProtectedResourceMetadataURL(),
		Scopes:              slices.Clone(scopes),
	}
}

// verifyError is a failed verification whose message is safe to send (the
// go-sdk writes it into the response body) and whose causes are not.
type verifyError struct {
	msg    string
	causes []error
}

func (e *verifyError) Error() string   { return e.msg }
func (e *verifyError) Unwrap() []error { return e.causes }

func verifyFailure(err error) error {
	switch {
	case errors.Is(err, oauthproxy.ErrTokenExpired):
		return &verifyError{"invalid token: the access token expired", []error{auth.ErrInvalidToken, err}}
	case errors.Is(err, oauthproxy.ErrTokenRevoked):
		return &verifyError{"invalid token: the access token was revoked", []error{auth.ErrInvalidToken, err}}
	case errors.Is(err, oauthproxy.ErrInvalidToken):
		return &verifyError{"invalid token: the access token is invalid", []error{auth.ErrInvalidToken, err}}
	default:
		return &verifyError{"mcpauth: the access token could not be checked, try again", []error{err}}
	}
}
