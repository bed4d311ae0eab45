package main

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"time"

	"github.com/modelcontextprotocol/go-sdk/auth"
	"github.com/modelcontextprotocol/go-sdk/mcp"
	"github.com/oauthproxy-go/oauthproxy"
	"github.com/oauthproxy-go/oauthproxy/mcpauth"
)

// newMCPServer builds the MCP server with its one tool.
func newMCPServer(log *slog.Logger) *mcp.Server {
	s := mcp.NewServer(&mcp.Implementation{Name: "oauthproxy-demo", Title: "oauthproxy demo", Version: "1.0.0"},
		&mcp.ServerOptions{Logger: log})
	mcp.AddTool(s, &mcp.Tool{
		Name:        "whoami",
		Title:       "Who am I?",
		Description: "Returns who you are signed in as: the claims of the access token that carried this call.",
		Annotations: &mcp.ToolAnnotations{ReadOnlyHint: true},
	}, whoami)
	return s
}

// mcpHandler is the /mcp endpoint. p.RequireBearer answers requests without a
// valid token (401 with the RFC 9728 challenge MCP clients discover the proxy
// from); auth.RequireBearerToken with mcpauth.TokenVerifier then hands the
// token's claims to the go-sdk, which passes them to tool handlers as
// CallToolRequest.Extra.TokenInfo, where mcpauth.ClaimsFromRequest finds them.
//
// Why not oauthproxy.ClaimsFromContext(ctx) inside the tool? With the
// streamable HTTP transport, a tool handler's ctx descends from the HTTP request
// that created the MCP session (initialize), not from the request carrying the
// tools/call: it would show that first request's claims, even after the client
// refreshed its token. TokenInfo is set per HTTP request. Its UserID also lets
// the go-sdk refuse a session ID presented with another user's token.
func mcpHandler(p *oauthproxy.Proxy, s *mcp.Server, log *slog.Logger) http.Handler {
	streamable := mcp.NewStreamableHTTPHandler(func(*http.Request) *mcp.Server { return s },
		&mcp.StreamableHTTPOptions{Logger: log})
	bridge := auth.RequireBearerToken(mcpauth.TokenVerifier(p), nil)
	return p.RequireBearer(bridge(streamable))
}

type whoamiInput struct{}

type whoamiOutput struct {
	Subject   string         `json:"subject" jsonschema:"the user's id at the identity provider"`
	ClientID  string         `json:"client_id" jsonschema:"the MCP client the token was issued to"`
	Scopes    []string       `json:"scopes" jsonschema:"granted scopes"`
	Audience  string         `json:"audience" jsonschema:"the protected resource the token is for"`
	IssuedAt  string         `json:"issued_at" jsonschema:"RFC 3339"`
	ExpiresAt string         `json:"expires_at" jsonschema:"RFC 3339"`
	Claims    map[string]any `json:"claims,omitempty" jsonschema:"identity claims from the provider (email, name ...)"`
}

func whoami(_ context.Context, req *mcp.CallToolRequest, _ whoamiInput) (*mcp.CallToolResult, whoamiOutput, error) {
	c, ok := mcpauth.ClaimsFromRequest(req)
	if !ok {
		return nil, whoamiOutput{}, errors.New("no access token claims: /mcp must be served behind the proxy")
	}
	scopes := c.Scopes
	if scopes == nil {
		scopes = []string{}
	}
	return nil, whoamiOutput{
		Subject:   c.Subject,
		ClientID:  c.ClientID,
		Scopes:    scopes,
		Audience:  c.Audience,
		IssuedAt:  c.IssuedAt.UTC().Format(time.RFC3339),
		ExpiresAt: c.ExpiresAt.UTC().Format(time.RFC3339),
		Claims:    c.Extra,
	}, nil
}
