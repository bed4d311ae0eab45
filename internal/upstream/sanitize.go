package upstream

// relayableCodes are the error codes an authorization response may carry (RFC 6749 §4.1.2.1).
var relayableCodes = map[string]bool{
	"access_denied":             true,
	"invalid_request":           true,
	"unauthorized_client":       true,
	"unsupported_response_type": true,
	"invalid_scope":             true,
	"server_error":              true,
	"temporarily_unavailable":   true,
}

// maxDescription is the longest error_description relayed to an MCP client.
const maxDescription = 200

// SanitizeErrorCode maps an upstream error code to one an authorization response may carry
// (RFC 6749 §4.1.2.1); anything else becomes server_error (SECURITY.md S18).
func SanitizeErrorCode(code string) string {
	if relayableCodes[code] {
		return code
	}
	return "server_error"
}

// SanitizeDescription keeps plain prose from an upstream error_description: letters, digits,
// spaces and . , : ; ! ? _ ( ) - / — a subset of what RFC 6749 §4.1.2.1 allows, without the
// markup and quoting characters (< > & ' " \\ = { }) a client might render or parse — and
// truncates the result to 200 characters (SECURITY.md S18).
func SanitizeDescription(s string) string {
	out := make([]byte, 0, min(len(s), maxDescription))
	for i := 0; i < len(s) && len(out) < maxDescription; i++ {
		if c := s[i]; proseByte(c) {
			out = append(out, c)
		}
	}
	return string(out)
}

func proseByte(c byte) bool {
	switch {
	case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9':
		return true
	}
	switch c {
	case ' ', '.', ',', ':', ';', '!', '?', '_', '(', ')', '-', '/':
		return true
	}
	return false
}
