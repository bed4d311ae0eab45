package oauthproxy_test

import (
	"testing"

	"github.com/oauthproxy-go/oauthproxy"
	"github.com/oauthproxy-go/oauthproxy/storage"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// New reports the keys that persistent storage needs together with every
// other problem of the Config, so a configuration checker (cmd/oauthproxy
// check-config) shows them all at once.
func TestNew_PersistentStorageKeysReportedWithOtherProblems(t *testing.T) {
	_, err := oauthproxy.New(oauthproxy.Config{
		BaseURL:                       "https://mcp.example.com",
		UpstreamAuthorizationEndpoint: "https://idp.example.com/authorize",
		UpstreamTokenEndpoint:         "https://idp.example.com/token",
		UpstreamClientID:              "id",
		AccessTokenTTL:                -1,
		TokenStorage:                  persistentStore{storage.NewMemory()},
	})
	require.Error(t, err)
	assert.ErrorContains(t, err, "UpstreamClientSecret is required")
	assert.ErrorContains(t, err, "AccessTokenTTL must not be negative")
	assert.ErrorContains(t, err, "the storage is persistent or shared, so JWTSigningKey, EncryptionKey, ConsentSigningKey must be set")
}
