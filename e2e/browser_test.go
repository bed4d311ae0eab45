package e2e

import (
	"context"
	"net/url"
	"testing"

	"github.com/oauthproxy-go/oauthproxy/oauthproxytest"
)

// clientRedirectURI is the MCP clients' loopback redirect URI. Nothing
// listens there: the browser stops at the redirect and reads the response
// from it, as the client's own listener would.
const clientRedirectURI = "http://127.0.0.1:53682/callback"

// browser plays the user with oauthproxytest.Browser, dialing 127.0.0.1 only,
// and keeps what the last authorization showed for the assertions.
type browser struct {
	b         *oauthproxytest.Browser
	pages     []string   // forms it submitted: "consent", "login"
	authQuery url.Values // the query of the authorization URL it was given
	iss       string     // the iss of the authorization response (RFC 9207)
}

func newBrowser(t *testing.T) *browser {
	t.Helper()
	b := oauthproxytest.NewBrowser(t)
	hc := loopbackClient(nil)
	t.Cleanup(hc.CloseIdleConnections)
	b.Transport = hc.Transport
	b.RedirectURIs = []string{clientRedirectURI}
	return &browser{b: b}
}

// authorize opens authURL, approves the consent page and signs in upstream,
// and returns the query of the redirect to the client. An error response
// (RFC 6749 §4.1.2.1) is returned as an error.
func (b *browser) authorize(ctx context.Context, authURL string) (url.Values, error) {
	res, err := b.b.AuthorizeContext(ctx, authURL)
	if res != nil {
		b.pages, b.authQuery, b.iss = res.Pages, res.AuthorizationURL.Query(), res.Iss
	}
	if err != nil {
		return nil, err
	}
	return res.RedirectURL.Query(), nil
}
