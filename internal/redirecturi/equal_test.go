package redirecturi

import (
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestEqual(t *testing.T) {
	tests := []struct {
		name, registered, requested string
		want                        bool
	}{
		{"identical https", "https://app.example.com/cb", "https://app.example.com/cb", true},
		{"identical custom scheme", "cursor://x/cb", "cursor://x/cb", true},
		{"identical with query", "https://app.example.com/cb?a=1", "https://app.example.com/cb?a=1", true},
		{"https port differs", "https://app.example.com/cb", "https://app.example.com:8443/cb", false},
		{"https default port spelled out", "https://app.example.com/cb", "https://app.example.com:443/cb", false},
		{"https host case differs", "https://app.example.com/cb", "https://APP.example.com/cb", false},
		{"https path differs", "https://app.example.com/cb", "https://app.example.com/cb2", false},
		{"https trailing slash", "https://app.example.com/cb", "https://app.example.com/cb/", false},
		{"https query added", "https://app.example.com/cb", "https://app.example.com/cb?a=1", false},
		{"https empty query added", "https://app.example.com/cb", "https://app.example.com/cb?", false},
		{"https encoding differs", "https://app.example.com/cb", "https://app.example.com/c%62", false},
		{"custom scheme port differs", "cursor://x:1/cb", "cursor://x:2/cb", false},

		// RFC 8252 §7.3: only the port of a loopback URI may differ.
		{"loopback port added", "http://127.0.0.1/cb", "http://127.0.0.1:51004/cb", true},
		{"loopback port changed", "http://localhost:8080/cb", "http://localhost:9090/cb", true},
		{"loopback port removed", "http://[::1]:8080/cb", "http://[::1]/cb", true},
		{"loopback ipv6", "http://[::1]:1/cb?x=y", "http://[::1]:2/cb?x=y", true},
		{"loopback path differs", "http://localhost:8080/cb", "http://localhost:8080/other", false},
		{"loopback query differs", "http://localhost/cb?a=1", "http://localhost:1/cb?a=2", false},
		{"loopback empty query added", "http://localhost/cb", "http://localhost:1/cb?", false},
		{"loopback host differs", "http://localhost/cb", "http://127.0.0.1/cb", false},
		{"loopback host case differs", "http://localhost/cb", "http://LOCALHOST:1/cb", false},
		{"loopback scheme case differs", "http://localhost/cb", "HTTP://localhost:1/cb", false},
		{"loopback https keeps its port", "https://localhost:1/cb", "https://localhost:2/cb", false},
		{"loopback scheme differs", "http://localhost/cb", "https://localhost/cb", false},

		// Both sides must pass Parse.
		{"registered invalid", "http://example.com/cb", "http://example.com/cb", false},
		{"requested with userinfo", "http://localhost/cb", "http://localhost:@evil.com/cb", false},
		{"requested with fragment", "http://localhost/cb", "http://localhost/cb#", false},
		{"empty", "", "", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assert.Equal(t, tt.want, Equal(tt.registered, tt.requested))
		})
	}
}
