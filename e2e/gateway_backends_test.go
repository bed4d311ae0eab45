package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/modelcontextprotocol/go-sdk/mcp"
)

// mcpBackend is an MCP server without auth behind the gateway, with the
// tools whoami (the identity headers it got, as JSON text) and slow (a
// progress notification, then a wait for release, then "done").
type mcpBackend struct {
	name    string
	url     string // its MCP endpoint
	release func() // lets one slow call finish
}

// startGoBackend is a go-sdk MCP server reading the gateway's headers.
func startGoBackend(t *testing.T) mcpBackend {
	t.Helper()
	released := make(chan struct{}, 16)
	s := mcp.NewServer(&mcp.Implementation{Name: "e2e go backend", Version: "1"}, nil)
	mcp.AddTool(s, &mcp.Tool{Name: "whoami"}, func(_ context.Context, req *mcp.CallToolRequest, _ struct{}) (*mcp.CallToolResult, any, error) {
		h := req.Extra.Header
		who, _ := json.Marshal(backendWho{
			Subject: h.Get("X-Forwarded-User"), Email: h.Get("X-Forwarded-Email"),
			ClientID: h.Get("X-Forwarded-Client-Id"), Scopes: h.Get("X-Forwarded-Scopes"),
			Authorization: h.Get("Authorization"),
		})
		return &mcp.CallToolResult{Content: []mcp.Content{&mcp.TextContent{Text: string(who)}}}, nil, nil
	})
	mcp.AddTool(s, &mcp.Tool{Name: "slow"}, func(ctx context.Context, req *mcp.CallToolRequest, _ struct{}) (*mcp.CallToolResult, any, error) {
		if tok := req.Params.GetProgressToken(); tok != nil {
			if err := req.Session.NotifyProgress(ctx, &mcp.ProgressNotificationParams{ProgressToken: tok, Progress: 1, Total: 2, Message: "halfway"}); err != nil {
				return nil, nil, err
			}
		}
		select {
		case <-released:
		case <-ctx.Done():
			return nil, nil, ctx.Err()
		}
		return &mcp.CallToolResult{Content: []mcp.Content{&mcp.TextContent{Text: "done"}}}, nil, nil
	})
	t.Cleanup(func() {
		for ss := range s.Sessions() {
			_ = ss.Close()
		}
	})
	srv := httptest.NewServer(mcp.NewStreamableHTTPHandler(func(*http.Request) *mcp.Server { return s }, nil))
	t.Cleanup(srv.Close)
	return mcpBackend{name: "go-backend", url: srv.URL + "/mcp", release: func() { released <- struct{}{} }}
}

// releaseTS tells the TypeScript server to let one slow call finish.
func releaseTS(t *testing.T, base string) func() {
	client := loopbackClient(nil)
	t.Cleanup(client.CloseIdleConnections)
	return func() {
		resp, err := client.Post(base+"/release", "application/json", bytes.NewReader(nil))
		if err != nil {
			t.Errorf("release: %v", err)
			return
		}
		resp.Body.Close()
	}
}

// textOf joins a go-sdk result's text content.
func textOf(content []mcp.Content) string {
	var b strings.Builder
	for _, c := range content {
		if t, ok := c.(*mcp.TextContent); ok {
			b.WriteString(t.Text)
		}
	}
	return b.String()
}
