package oauthproxy

import (
	"io"
	"log/slog"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// newInternalTestProxy is a Proxy for the package's internal tests: loopback
// URLs nothing listens on, fixed keys, logs discarded. opts adjust the Config.
func newInternalTestProxy(t *testing.T, opts ...func(*Config)) *Proxy {
	t.Helper()
	cfg := Config{
		BaseURL:                       "http://127.0.0.1:1",
		UpstreamAuthorizationEndpoint: "http://127.0.0.1:2/authorize",
		UpstreamTokenEndpoint:         "http://127.0.0.1:2/token",
		UpstreamClientID:              "upstream-client",
		UpstreamClientSecret:          "upstream-secret",
		JWTSigningKey:                 []byte(strings.Repeat("j", 32)),
		EncryptionKey:                 []byte(strings.Repeat("e", 32)),
		ConsentSigningKey:             []byte(strings.Repeat("c", 32)),
		Logger:                        slog.New(slog.NewTextHandler(io.Discard, nil)),
	}
	for _, o := range opts {
		o(&cfg)
	}
	p, err := New(cfg)
	require.NoError(t, err)
	t.Cleanup(p.Destroy)
	return p
}
