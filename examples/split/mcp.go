package main

import (
	"context"
	"errors"
	"net/http"

	"github.com/modelcontextprotocol/go-sdk/auth"
	"github.com/modelcontextprotocol/go-sdk/mcp"
	"github.com/oauthproxy-go/oauthproxy/mcpauth"
	"github.com/oauthproxy-go/oauthproxy/tokenverify"
)

// credentials are the MCP server's id and secret at the proxy's
// introspection endpoint.
type credentials struct{ id, secret string }

// mcpService is the MCP server on its own listener. All it knows of the
// proxy is its URL (and, with introspection, its own credentials there).
type mcpService struct {
	handler http.Handler
	server  *mcp.Server
}

func newMCPService(issuer, resource string, cred *credentials, opts options) (*mcpService, error) {
	cfg := tokenverify.Config{Issuer: issuer, Resource: resource, Logger: opts.log, Now: opts.now}
	if cred != nil {
		cfg.IntrospectionClientID, cfg.IntrospectionClientSecret = cred.id, cred.secret
	}
	v, err := tokenverify.New(cfg)
	if err != nil {
		return nil, err
	}
	s := mcp.NewServer(&mcp.Implementation{Name: "split-tools", Version: "1.0.0"}, &mcp.ServerOptions{Logger: opts.log})
	mcp.AddTool(s, &mcp.Tool{Name: "whoami", Description: "Returns who you are signed in as."}, whoami)
	streamable := mcp.NewStreamableHTTPHandler(func(*http.Request) *mcp.Server { return s }, &mcp.StreamableHTTPOptions{Logger: opts.log})

	mux := http.NewServeMux()
	mux.Handle("/", v.Handler()) // RFC 9728 metadata: MCP clients find the proxy here
	// v.RequireBearer answers 401/403 as the proxy would; the go-sdk
	// middleware behind it hands the claims to the tools.
	mux.Handle("/mcp", v.RequireBearer(auth.RequireBearerToken(v.TokenVerifier(), nil)(streamable)))
	return &mcpService{handler: mux, server: s}, nil
}

func (m *mcpService) closeSessions() {
	for ss := range m.server.Sessions() {
		_ = ss.Close()
	}
}

type whoamiOutput struct {
	Subject  string `json:"subject"`
	ClientID string `json:"client_id"`
}

func whoami(_ context.Context, req *mcp.CallToolRequest, _ struct{}) (*mcp.CallToolResult, whoamiOutput, error) {
	c, ok := mcpauth.ClaimsFromRequest(req)
	if !ok {
		return nil, whoamiOutput{}, errors.New("no verified token")
	}
	return nil, whoamiOutput{Subject: c.Subject, ClientID: c.ClientID}, nil
}
