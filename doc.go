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
// Configure the proxy for a provider with package providers, which fills in
// the endpoints, scopes and the code that reads who signed in, then create it
// (examples/quickstart/main):
//
//	cfg, err := providers.GitHub(oauthproxy.Config{
//		BaseURL:              "http://127.0.0.1:8080", // your public https URL in production
//		UpstreamClientID:     os.Getenv("GITHUB_CLIENT_ID"),
//		UpstreamClientSecret: os.Getenv("GITHUB_CLIENT_SECRET"),
//	})
//	if err != nil {
//		log.Fatal(err)
//	}
//	p, err := oauthproxy.New(cfg) // keys generated: fine until the first restart
//	if err != nil {
//		log.Fatal(err)
//	}
//	defer p.Destroy()
//	log.Fatal(http.ListenAndServe("127.0.0.1:8080", newMux(p)))
//
// Mount Handler at the root and wrap the MCP endpoint in RequireBearer
// (examples/quickstart/newMux):
//
//	mux := http.NewServeMux()
//	mux.Handle("/", p.Handler())                  // /.well-known/…, /oauth/register, /oauth/authorize, /oauth/token, …
//	mux.Handle("/mcp", p.RequireBearer(whoami{})) // only the proxy's own tokens get through
//	return mux
//
// A client then runs the MCP authorization flow against these paths under
// BaseURL:
//
//  1. It calls /mcp, gets 401 with WWW-Authenticate naming
//     /.well-known/oauth-protected-resource/mcp (RFC 9728), and from there
//     finds /.well-known/oauth-authorization-server (RFC 8414).
//  2. It registers at POST /oauth/register (RFC 7591) and gets a client_id
//     (and a secret if it is confidential). A client that registers without
//     grant_types gets authorization_code only, as RFC 7591 §2 says, and so
//     no refresh token; it must ask for "refresh_token" too.
//  3. It sends the browser to GET /oauth/authorize with PKCE S256. The proxy
//     shows its consent page at /oauth/consent (naming the client, where the
//     browser goes next and the scopes); on approval it sends the browser to
//     the upstream with its own PKCE and a transaction id as state, binding
//     the browser with a cookie.
//  4. The upstream returns to /oauth/callback (RedirectPath). The proxy checks
//     the browser binding, redeems the upstream code, reads who signed in
//     (the id_token, so ask OpenID providers for the openid scope; or the
//     provider's API, as providers.GitHub does), stores the upstream tokens
//     sealed in a grant, and redirects to the client with its own single-use
//     code, state and iss (RFC 9207).
//  5. The client redeems the code at POST /oauth/token with its verifier. In
//     the default swap mode it gets a short-lived JWT for the MCP resource and
//     a rotating refresh token; the upstream tokens never leave the proxy.
//     A tool that calls the provider's API asks UpstreamTokenSource for an
//     oauth2.TokenSource (refreshed by the proxy); mcpauth.UpstreamTokenSource
//     does the same from a go-sdk tool request.
//
// Inside the MCP handler, ClaimsFromContext returns the caller: subject,
// client, scopes and identity claims. Every endpoint is a thin HTTP layer over
// a typed method (RegisterClient, Authorize, ConsentPage and HandleConsent,
// HandleCallback, ExchangeAuthorizationCode, ExchangeRefreshToken), so the
// flow can be driven without HTTP. Errors are *Error values carrying the RFC
// 6749 §5.2 code, found with errors.As.
//
// # Packages
//
//   - providers: presets for GitHub, Google, Microsoft Entra ID and any OpenID
//     provider by discovery (Auth0, Okta, Keycloak); they verify id_tokens.
//   - mcpauth: the adapter for the official MCP Go SDK
//     (github.com/modelcontextprotocol/go-sdk); mcp-go and plain net/http
//     need none.
//   - oauthproxytest: a stand-in upstream identity provider and a test
//     browser, for testing your own server without network access
//     (examples/quickstart/main_test.go is a whole test).
//   - storage: where the proxy keeps its state (in memory by default, sealed
//     with AES-256-GCM); storage/bolt keeps it in a local file across
//     restarts, storage/redis shares it between replicas; storagetest checks
//     a backend of your own.
//   - ratelimit: per-address request limits (Config.RateLimits), in memory or
//     shared through ratelimit/redis.
//   - tokenverify: checks the proxy's tokens in an MCP server on another
//     service, by the JWKS the proxy publishes with AccessTokenSigningKeys
//     and, optionally, by introspection (examples/split).
//   - gateway: the standalone gateway behind the command cmd/oauthproxy, which
//     puts this sign-in in front of an MCP server written in any language.
//
// # Operations
//
// ListClients, GetClient, DeleteClient, ListGrants, RevokeGrant and
// RevokeSubject let an operator see and end sessions on any storage and
// across replicas; AdminHandler serves them as JSON behind the caller's own
// authentication (Handler never mounts it). /oauth/introspect answers RFC 7662
// introspection for resource servers (Config.IntrospectionCredentials).
//
// # Pass-through mode
//
// With DisableTokenSwap, clients receive the upstream's own tokens. The proxy
// still enforces registration, PKCE, consent and single-use codes, and records
// which upstream tokens it handed to which client so that RequireBearer accepts
// only those. Prefer swap mode: pass-through gives every MCP client a token
// that works against the upstream API directly.
package oauthproxy
