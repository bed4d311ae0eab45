package oauthproxy

import (
	"io"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// Edges of the consent code that mutation testing found unpinned
// (docs/mutation.md). Named TestConsent… so scripts/mutate.sh's selection for
// the consent group runs them.

// TestConsent_RememberPeriodInWords: the period the consent page promises is
// the one ConsentRememberTTL sets, in the largest whole unit, singular for
// one; nothing (no box) for none.
func TestConsent_RememberPeriodInWords(t *testing.T) {
	for _, tc := range []struct {
		d    time.Duration
		want string
	}{
		{-time.Hour, ""},
		{0, ""},
		{time.Minute, "1 minute"},
		{2 * time.Minute, "2 minutes"},
		{90 * time.Second, "1 minute"}, // whole minutes only
		{59 * time.Minute, "59 minutes"},
		{time.Hour, "1 hour"},
		{61 * time.Minute, "61 minutes"},
		{2 * time.Hour, "2 hours"},
		{23 * time.Hour, "23 hours"},
		{24*time.Hour - time.Minute, "1439 minutes"},
		{24 * time.Hour, "1 day"},
		{25 * time.Hour, "25 hours"},
		{36 * time.Hour, "36 hours"},
		{48 * time.Hour, "2 days"},
		{30 * 24 * time.Hour, "30 days"},
		{72*time.Hour + 30*time.Minute, "4350 minutes"},
	} {
		assert.Equal(t, tc.want, durationInWords(tc.d), "%v", tc.d)
	}
}

// TestConsent_RememberCookieOfExactly3500BytesIsKept: a remembered consent
// whose cookie value is exactly maxRememberCookie bytes is minted and
// honoured; one byte more and it is not minted (the scope set is too large to
// remember, and the page simply shows again).
func TestConsent_RememberCookieOfExactly3500BytesIsKept(t *testing.T) {
	p, err := New(Config{
		BaseURL:                       "http://127.0.0.1:1",
		UpstreamAuthorizationEndpoint: "http://127.0.0.1:2/authorize",
		UpstreamTokenEndpoint:         "http://127.0.0.1:2/token",
		UpstreamClientID:              "upstream-client",
		UpstreamClientSecret:          "upstream-secret",
		ConsentRememberTTL:            time.Hour,
		JWTSigningKey:                 []byte(strings.Repeat("j", 32)),
		EncryptionKey:                 []byte(strings.Repeat("e", 32)),
		ConsentSigningKey:             []byte(strings.Repeat("c", 32)),
		Logger:                        slog.New(slog.NewTextHandler(io.Discard, nil)),
	})
	require.NoError(t, err)
	t.Cleanup(p.Destroy)

	// v1.<10-digit expiry>.<base64url of the set>.<43-byte HMAC>: a set of
	// 2581 bytes encodes to 3442 characters, 3500 in all.
	scope := strings.Repeat("s", 2581)
	txn := &transaction{ClientID: "c", RedirectURI: "https://app.example/cb", Scopes: []string{scope}, ConsentRememberable: true}
	value := p.rememberConsent(txn.ClientID, txn.RedirectURI, txn.Scopes)
	require.Len(t, value, maxRememberCookie)
	assert.True(t, p.consentRemembered(value, txn))

	txn.Scopes = []string{scope + "s"}
	assert.Empty(t, p.rememberConsent(txn.ClientID, txn.RedirectURI, txn.Scopes), "3501 bytes")
}
