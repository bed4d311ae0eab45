package oauthproxy

import (
	"testing"
	"time"

	"github.com/oauthproxy-go/oauthproxy/internal/redirecturi"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestSecurity_S22_RememberedConsentRefusedForUnrememberableTransactions: a
// correctly signed remembered consent (as a version that remembered public
// loopback clients minted) is not honoured for a transaction whose client and
// redirect URI may not be remembered.
func TestSecurity_S22_RememberedConsentRefusedForUnrememberableTransactions(t *testing.T) {
	p := newInternalTestProxy(t, func(c *Config) { c.ConsentRememberTTL = time.Hour })

	const redirect = "http://127.0.0.1/cb"
	txn := &transaction{ClientID: "public-client", RedirectURI: redirect, Scopes: []string{"openid"}}
	value := p.rememberConsent(txn.ClientID, txn.RedirectURI, txn.Scopes)
	require.NotEmpty(t, value)

	txn.ConsentRememberable = true
	assert.True(t, p.consentRemembered(value, txn), "the signature itself is good")
	txn.ConsentRememberable = false
	assert.False(t, p.consentRemembered(value, txn))
}

func TestConsentRememberable(t *testing.T) {
	public := &clientRecord{TokenEndpointAuthMethod: AuthMethodNone}
	confidential := &clientRecord{TokenEndpointAuthMethod: AuthMethodClientSecretBasic}
	for _, tc := range []struct {
		client   *clientRecord
		redirect string
		want     bool
	}{
		{public, "http://127.0.0.1:8080/cb", false},
		{public, "http://localhost/cb", false},
		{public, "http://[::1]:1/cb", false},
		{public, "cursor://anysphere.cursor-mcp/oauth/callback", false},
		{public, "com.example.app:/cb", false},
		{public, "https://app.example.com/cb", true},
		{public, "HTTPS://app.example.com/cb", true},
		{public, "https.evil://app.example.com/cb", false},
		{public, "httpsx://app.example.com/cb", false},
		{confidential, "http://127.0.0.1:8080/cb", true},
		{confidential, "com.example.app:/cb", true},
	} {
		assert.Equal(t, tc.want, consentRememberable(tc.client, tc.redirect), "%s %s", tc.client.TokenEndpointAuthMethod, tc.redirect)
	}
}

// For every URI /authorize can accept, reading the scheme off the text must
// say what parsing it says.
func TestConsentRememberable_SchemeAsParsed(t *testing.T) {
	public := &clientRecord{TokenEndpointAuthMethod: AuthMethodNone}
	for _, raw := range []string{
		"https://app.example.com/cb", "HTTPS://app.example.com/cb", "HtTpS://a.example/x?y=1",
		"http://127.0.0.1:1/cb", "https://127.0.0.1:1/cb", "cursor://x/cb", "com.example.app:/cb",
		"https://[::1]:8443/cb", "https://app.example.com:443/a:b",
	} {
		u, err := redirecturi.Parse(raw)
		require.NoError(t, err, raw)
		assert.Equal(t, u.Scheme == "https", consentRememberable(public, raw), raw)
	}
}
