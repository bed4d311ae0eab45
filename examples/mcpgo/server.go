package main

import (
	"context"
	"fmt"

	"github.com/mark3labs/mcp-go/mcp"
	"github.com/mark3labs/mcp-go/server"
	"github.com/oauthproxy-go/oauthproxy"
)

// newMCPServer returns the mcp-go streamable HTTP server with one tool,
// whoami. Mount it behind p.RequireBearer.
//
// mcp-go runs a tool handler on a context derived from the HTTP request that
// carried the tools/call (also in stateful mode, and on an SSE-upgraded
// response), so the claims that p.RequireBearer put in that request's context
// reach the handler through oauthproxy.ClaimsFromContext: no
// server.WithHTTPContextFunc is needed, and every call sees the token it came
// with, also after the client refreshed it.
func newMCPServer() *server.StreamableHTTPServer {
	s := server.NewMCPServer("oauthproxy-mcp-go-example", "1.0.0", server.WithToolCapabilities(false))
	s.AddTool(mcp.NewTool("whoami",
		mcp.WithTitleAnnotation("Who am I?"),
		mcp.WithDescription("Returns who you are signed in as: the claims of the access token that carried this call."),
		mcp.WithReadOnlyHintAnnotation(true),
		mcp.WithOutputSchema[whoamiOutput](),
	), whoami)
	return server.NewStreamableHTTPServer(s)
}

type whoamiOutput struct {
	Subject  string         `json:"subject" jsonschema_description:"the user's id at the identity provider"`
	ClientID string         `json:"client_id" jsonschema_description:"the MCP client the token was issued to"`
	Scopes   []string       `json:"scopes" jsonschema_description:"granted scopes"`
	Claims   map[string]any `json:"claims,omitempty" jsonschema_description:"identity claims from the provider (email, name ...)"`
}

func whoami(ctx context.Context, _ mcp.CallToolRequest) (*mcp.CallToolResult, error) {
	c, ok := oauthproxy.ClaimsFromContext(ctx)
	if !ok {
		return mcp.NewToolResultError("no access token claims: /mcp must be served behind p.RequireBearer"), nil
	}
	out := whoamiOutput{Subject: c.Subject, ClientID: c.ClientID, Scopes: c.Scopes, Claims: c.Extra}
	if out.Scopes == nil {
		out.Scopes = []string{}
	}
	return mcp.NewToolResultStructured(out, fmt.Sprintf("signed in as %s (client %s)", c.Subject, c.ClientID)), nil
}
