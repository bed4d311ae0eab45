package oauthproxy

import (
	"testing"
	"time"

	"github.com/oauthproxy-go/oauthproxy/internal/upstream"
	"github.com/stretchr/testify/assert"
)

// Edges of the token and refresh code that mutation testing found unpinned
// (docs/mutation.md). Named TestMethods_Exchange… so scripts/mutate.sh's
// selection for that group runs them.

// TestMethods_ExchangeRefreshToken_MergesUpstreamRefresh: an upstream refresh
// response (RFC 6749 §6) replaces each token it carries and keeps the old
// refresh token, id_token and scope where it sends none.
func TestMethods_ExchangeRefreshToken_MergesUpstreamRefresh(t *testing.T) {
	exp := time.Unix(2e9, 0)
	old := upstream.Token{AccessToken: "old-at", RefreshToken: "old-rt", IDToken: "old-id", Scope: "openid email"}

	all := upstream.Token{AccessToken: "new-at", RefreshToken: "new-rt", IDToken: "new-id", Scope: "openid", Expiry: exp}
	assert.Equal(t, all, mergeRefreshed(old, &all), "everything sent is taken")

	bare := upstream.Token{AccessToken: "new-at", Expiry: exp}
	assert.Equal(t, upstream.Token{AccessToken: "new-at", RefreshToken: "old-rt", IDToken: "old-id", Scope: "openid email", Expiry: exp},
		mergeRefreshed(old, &bare), "what is not sent is kept")
}
