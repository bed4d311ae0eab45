package main

import (
	"context"
	"io"
	"net/http/httptest"
	"testing"

	"github.com/oauthproxy-go/oauthproxy"
	"github.com/oauthproxy-go/oauthproxy/oauthproxytest"
	"github.com/stretchr/testify/require"
	"golang.org/x/oauth2"
)

// TestWhoami signs in through the proxy at a stand-in provider, as an MCP
// client does, and calls the protected endpoint with the token.
func TestWhoami(t *testing.T) {
	idp := oauthproxytest.Start(t, oauthproxytest.Options{ClientID: "proxy", ClientSecret: "s3cret", IssueIDToken: true})
	srv := httptest.NewUnstartedServer(nil) // its address, the proxy's BaseURL, is known before it starts
	p, err := oauthproxy.New(oauthproxy.Config{
		BaseURL:                       "http://" + srv.Listener.Addr().String(),
		UpstreamAuthorizationEndpoint: idp.AuthorizationEndpoint(),
		UpstreamTokenEndpoint:         idp.TokenEndpoint(),
		UpstreamClientID:              "proxy",
		UpstreamClientSecret:          "s3cret",
		Scopes:                        []string{"openid", "email"}, // openid: the id_token says who signed in
	})
	require.NoError(t, err)
	t.Cleanup(p.Destroy)
	srv.Config.Handler = newMux(p)
	srv.Start()
	t.Cleanup(srv.Close)

	ctx := context.Background()
	client, err := p.RegisterClient(ctx, &oauthproxy.ClientMetadata{ // as POST /oauth/register does
		RedirectURIs: []string{"http://127.0.0.1:9999/cb"}, TokenEndpointAuthMethod: "none",
		GrantTypes: []string{"authorization_code", "refresh_token"}, // without it, no refresh token
	})
	require.NoError(t, err)
	conf := oauth2.Config{ClientID: client.ClientID, RedirectURL: "http://127.0.0.1:9999/cb", Scopes: []string{"openid", "email"},
		Endpoint: oauth2.Endpoint{AuthURL: srv.URL + "/oauth/authorize", TokenURL: srv.URL + "/oauth/token"}}
	verifier := oauth2.GenerateVerifier() // PKCE S256 is required
	res, err := oauthproxytest.NewBrowser(t).Authorize(conf.AuthCodeURL("st4te", oauth2.S256ChallengeOption(verifier)))
	require.NoError(t, err) // the browser approved the consent page and signed in at the stand-in
	tok, err := conf.Exchange(ctx, res.Code, oauth2.VerifierOption(verifier))
	require.NoError(t, err)
	require.NotEmpty(t, tok.RefreshToken)

	resp, err := conf.Client(ctx, tok).Get(srv.URL + "/mcp")
	require.NoError(t, err)
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	require.Equal(t, "hello "+oauthproxytest.DefaultUser.Subject+" (client "+client.ClientID+")\n", string(body))
}
