package upstream

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestSanitizeErrorCode(t *testing.T) {
	tests := []struct{ in, want string }{
		{"access_denied", "access_denied"},
		{"invalid_request", "invalid_request"},
		{"unauthorized_client", "unauthorized_client"},
		{"unsupported_response_type", "unsupported_response_type"},
		{"invalid_scope", "invalid_scope"},
		{"server_error", "server_error"},
		{"temporarily_unavailable", "temporarily_unavailable"},
		{"invalid_grant", "server_error"},
		{"invalid_client", "server_error"},
		{"bad_verification_code", "server_error"},
		{"ACCESS_DENIED", "server_error"},
		{"access_denied\r\nSet-Cookie: x=y", "server_error"},
		{"", "server_error"},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			assert.Equal(t, tt.want, SanitizeErrorCode(tt.in))
		})
	}
}

func TestSanitizeDescription(t *testing.T) {
	tests := []struct{ name, in, want string }{
		{"plain", "The user denied access.", "The user denied access."},
		{"empty", "", ""},
		{"quote and backslash dropped", `say "hi" \o/`, "say hi o/"},
		{"control characters dropped", "line1\r\nline2\tend\x00\x7f", "line1line2end"},
		{"non-ASCII dropped", "café ☕ ok", "caf  ok"},
		{"markup dropped", "<script>alert(1)</script>", "scriptalert(1)/script"},
		{"quoting and assignment dropped", "a='b' & c={d}", "ab  cd"},
		{"truncated", strings.Repeat("a", 250), strings.Repeat("a", 200)},
		{"truncated after filtering", strings.Repeat("\x01", 300) + strings.Repeat("b", 250), strings.Repeat("b", 200)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := SanitizeDescription(tt.in)
			assert.Equal(t, tt.want, got)
			for i := 0; i < len(got); i++ {
				c := got[i]
				assert.True(t, c == 0x20 || c == 0x21 || (c >= 0x23 && c <= 0x5b) || (c >= 0x5d && c <= 0x7e), "byte %#x", c)
			}
		})
	}
}
