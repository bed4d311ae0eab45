package gateway

import (
	"encoding/json"
	"net/http"
)

// JSON-RPC error codes of the gateway's own answers, in the range JSON-RPC
// 2.0 §5.1 reserves for implementation-defined server errors.
const (
	CodeBackendUnavailable = -32001 // 502: the backend refused or broke the connection
	CodeBackendTimeout     = -32002 // 504: no response headers within the timeout
	CodeRequestTooLarge    = -32003 // 413: the body is over backend.max_request_bytes
)

// writeJSONRPCError answers with a JSON-RPC 2.0 error response (§5) with a
// null id: the request's id is not known without reading its body, which
// may be what failed. MCP clients show the message instead of failing to
// parse an HTML error page.
func writeJSONRPCError(w http.ResponseWriter, status, code int, message string) {
	body, _ := json.Marshal(map[string]any{
		"jsonrpc": "2.0",
		"id":      nil,
		"error":   map[string]any{"code": code, "message": message},
	})
	h := w.Header()
	h.Set("Content-Type", "application/json")
	h.Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_, _ = w.Write(body)
}
