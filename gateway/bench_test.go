package gateway_test

import (
	"context"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/modelcontextprotocol/go-sdk/mcp"
	"github.com/oauthproxy-go/oauthproxy/internal/loadtest"
	"github.com/stretchr/testify/require"
)

// The gateway's cost per proxied MCP request, beside the same request sent
// straight to the backend, in the same run: a tools/call POST to a go-sdk
// server (stateless, JSON responses), over loopback HTTP with keep-alive.
// Client, gateway and backend share the process, so cpu-ns/op counts all
// three; the difference between the two benchmarks is the gateway's part:
// the bearer check (JWT, grant lookup), identity headers, the reverse proxy
// hop. Run: go test -run '^$' -bench 'ToolCall' -benchmem -cpu 1 -count 6 ./gateway

func benchBackend() http.Handler {
	s := mcp.NewServer(&mcp.Implementation{Name: "bench backend", Version: "1"}, nil)
	mcp.AddTool(s, &mcp.Tool{Name: "echo"}, func(_ context.Context, req *mcp.CallToolRequest, _ struct{}) (*mcp.CallToolResult, any, error) {
		return &mcp.CallToolResult{Content: []mcp.Content{&mcp.TextContent{Text: req.Extra.Header.Get("X-Forwarded-User")}}}, nil, nil
	})
	return mcp.NewStreamableHTTPHandler(func(*http.Request) *mcp.Server { return s },
		&mcp.StreamableHTTPOptions{Stateless: true, JSONResponse: true})
}

const toolCall = `{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"echo","arguments":{}}}`

func benchToolCalls(b *testing.B, url, token string) {
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 4}}
	b.Cleanup(client.CloseIdleConnections)
	call := func() {
		req, _ := http.NewRequest(http.MethodPost, url, strings.NewReader(toolCall))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Accept", "application/json, text/event-stream")
		req.Header.Set("Mcp-Protocol-Version", "2025-06-18")
		if token != "" {
			req.Header.Set("Authorization", "Bearer "+token)
		}
		resp, err := client.Do(req)
		if err != nil {
			b.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK || !strings.Contains(string(body), `"result"`) {
			b.Fatalf("tool call: %d %s", resp.StatusCode, body)
		}
	}
	call() // warm the connections
	loadtest.Measure(b, nil, call)
}

func BenchmarkDirect_ToolCall(b *testing.B) {
	h := newHarness(b, benchBackend())
	benchToolCalls(b, h.cfg.Backend.URL, "")
}

func BenchmarkGateway_ToolCall(b *testing.B) {
	h := newHarness(b, benchBackend())
	tok := h.signIn(b)
	require.NotEmpty(b, tok.AccessToken)
	benchToolCalls(b, h.mcpURL, tok.AccessToken)
}
