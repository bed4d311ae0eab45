// Package e2e runs the MCP authorization flow end to end with real clients —
// the official go-sdk's, mcp-go's and golang.org/x/oauth2 — against the proxy
// in front of the fake upstream (oauthproxytest), in swap and pass-through
// mode, with go-sdk and mcp-go MCP servers behind it.
//
// Each test does what a client does on first contact with an MCP server: a
// call that gets 401, discovery (RFC 9728 protected resource metadata, then
// RFC 8414 authorization server metadata), dynamic client registration (RFC
// 7591), the authorization request with PKCE (RFC 7636), the consent page and
// the upstream login page (a cookie-jar "browser" clicks approve), the code
// exchange, a tool call, and after the access token expired, a refresh
// (refresh_token grant) and a second tool call with the new token.
//
// The proxy and the fake upstream share a settable clock, so tokens expire
// without waiting. The clients judge expiry by the wall clock, so each gets
// the test clock through its own public hook — the go-sdk's NewTokenSource,
// mcp-go's TokenStore, an oauth2.TokenSource — and then refreshes with its
// own code.
//
// TestGatewayGoSDKClient and TestGatewayMCPGoClient do the same through the
// standalone gateway (package gateway, what cmd/oauthproxy runs) in front of
// MCP servers with no auth of their own — one in Go, one in TypeScript with
// @modelcontextprotocol/sdk (testdata/tsserver, run with node after one npm ci
// per test binary into the user's cache) — and check that the backend sees
// the user in the gateway's identity headers, never the client's spoofed ones
// or its token, and that a tool's progress arrives while the tool runs.
//
// TestBrowserClient does the same from a real Chromium: a page on another
// loopback origin, a browser-based MCP client with plain fetch, which works
// only with the protected resource's CORS answers.
package e2e
