// Package oauthproxy puts "Sign in with GitHub / Google / Entra / any OIDC
// provider" in front of an MCP server.
//
// MCP clients expect the server to be an OAuth 2.1 authorization server with
// Dynamic Client Registration (RFC 7591); the big identity providers offer no
// DCR. A Proxy bridges them: clients register with it, authorize through it and
// get tokens from it, while it holds one pre-registered client at the upstream
// provider and does the upstream login on their behalf.
//
// # Walkthrough
//
//	p, err := oauthproxy.New(oauthproxy.Config{
//		BaseURL:                       "https://mcp.example.com",
//		UpstreamAuthorizationEndpoint: "https://github.com/login/oauth/authorize",
//		UpstreamTokenEndpoint:         "https://github.com/login/oauth/access_token",
//		UpstreamClientID:              os.Getenv("GITHUB_CLIENT_ID"),
//		UpstreamClientSecret:          os.Getenv("GITHUB_CLIENT_SECRET"),
//		Scopes:                        []string{"read:user"},
//	})
//	if err != nil { ... }
//	defer p.Destroy()
//	mux.Handle("/", p.Handler())                    // metadata, register, authorize, consent, callback, token
//	mux.Handle("/mcp", p.RequireBearer(mcpHandler)) // the protected MCP endpoint
//
// A client then runs the MCP authorization flow:
//
//  1. It calls /mcp, gets 401 with WWW-Authenticate naming the protected
//     resource metadata (RFC 9728), and from there finds the proxy's RFC 8414
//     metadata.
//  2. It registers at /oauth/register (RFC 7591) and gets a client_id (and a
//     secret if it is confidential).
//  3. It sends the browser to /oauth/authorize with PKCE S256. The proxy shows
//     its consent page (naming the client, where the browser goes next and the
//     scopes); on approval it sends the browser to the upstream with its own
//     PKCE and a transaction id as state, binding the browser with a cookie.
//  4. The upstream returns to RedirectPath. The proxy checks the browser
//     binding, redeems the upstream code, stores the upstream tokens sealed in a
//     grant, and redirects to the client with its own single-use code, state
//     and iss (RFC 9207).
//  5. The client redeems the code at /oauth/token with its verifier. In the
//     default swap mode it gets a short-lived JWT for the MCP resource and a
//     rotating refresh token; the upstream tokens never leave the proxy. Tool
//     handlers that need them call LoadUpstreamTokens.
//
// Every endpoint is a thin HTTP layer over a typed method (RegisterClient,
// Authorize, ConsentPage/HandleConsent, HandleCallback,
// ExchangeAuthorizationCode, ExchangeRefreshToken), so the flow can be driven
// without HTTP. Errors are *Error values carrying the RFC 6749 §5.2 code.
//
// # Pass-through mode
//
// With DisableTokenSwap, clients receive the upstream's own tokens. The proxy
// still enforces registration, PKCE, consent and single-use codes, and records
// which upstream tokens it handed to which client so that RequireBearer accepts
// only those. Prefer swap mode: pass-through gives every MCP client a token
// that works against the upstream API directly.
package oauthproxy
