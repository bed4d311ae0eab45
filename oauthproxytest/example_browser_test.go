package oauthproxytest_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"testing"

	"golang.org/x/oauth2"

	"github.com/oauthproxy-go/oauthproxy"
	"github.com/oauthproxy-go/oauthproxy/oauthproxytest"
)

// ExampleBrowser signs a user in to an MCP server behind the proxy, with the
// fake provider upstream: the Browser approves the proxy's consent page and
// signs in at the provider's page, and the client redeems the code with PKCE
// and calls the protected endpoint.
func ExampleBrowser() {
	idp := oauthproxytest.NewServer(oauthproxytest.Options{
		ClientID: "proxy", ClientSecret: "s3cret", LoginPage: true, IssueIDToken: true,
	})
	defer idp.Close()

	mux := http.NewServeMux()
	srv := httptest.NewServer(mux)
	defer srv.Close()
	p, err := oauthproxy.New(oauthproxy.Config{
		BaseURL:                       srv.URL,
		UpstreamAuthorizationEndpoint: idp.AuthorizationEndpoint(),
		UpstreamTokenEndpoint:         idp.TokenEndpoint(),
		UpstreamClientID:              "proxy",
		UpstreamClientSecret:          "s3cret",
		Scopes:                        []string{"openid", "email"},
		Logger:                        slog.New(slog.DiscardHandler), // quiet about the generated keys
	})
	if err != nil {
		panic(err)
	}
	defer p.Destroy()
	mux.Handle("/", p.Handler())
	mux.Handle("/mcp", p.RequireBearer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		claims, _ := oauthproxy.ClaimsFromContext(r.Context())
		fmt.Fprintln(w, "hello", claims.Subject)
	})))

	// An MCP client registers (RFC 7591) and starts the flow with PKCE.
	ctx := context.Background()
	info, err := p.RegisterClient(ctx, &oauthproxy.ClientMetadata{
		RedirectURIs: []string{"http://127.0.0.1:33418/callback"}, TokenEndpointAuthMethod: "none",
	})
	if err != nil {
		panic(err)
	}
	client := &oauth2.Config{
		ClientID:    info.ClientID,
		Endpoint:    oauth2.Endpoint{AuthURL: srv.URL + "/oauth/authorize", TokenURL: srv.URL + "/oauth/token"},
		RedirectURL: "http://127.0.0.1:33418/callback",
		Scopes:      []string{"openid", "email"},
	}
	verifier := oauth2.GenerateVerifier()

	// The user's browser: in a test, oauthproxytest.NewBrowser(t).
	var browser oauthproxytest.Browser
	res, err := browser.Authorize(client.AuthCodeURL("xyz", oauth2.S256ChallengeOption(verifier)))
	if err != nil {
		panic(err)
	}
	fmt.Println("pages:", res.Pages)
	fmt.Println("state:", res.State)
	fmt.Println("iss is the proxy:", res.Iss == srv.URL)

	tok, err := client.Exchange(ctx, res.Code, oauth2.VerifierOption(verifier))
	if err != nil {
		panic(err)
	}
	resp, err := client.Client(ctx, tok).Get(srv.URL + "/mcp")
	if err != nil {
		panic(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	fmt.Print(string(body))
	// Output:
	// pages: [consent login]
	// state: xyz
	// iss is the proxy: true
	// hello user-1
}

// ExampleStart is the shape of a test of your own server: Start the fake
// provider for the test, put the proxy in front of it, and let a Browser sign
// in. Both are cleaned up when the test ends. (An example cannot run a test
// function, so this one is compiled, not run; ExampleBrowser runs the flow.)
func ExampleStart() {
	testSignIn := func(t *testing.T) { // func TestSignIn(t *testing.T) in your _test.go file
		idp := oauthproxytest.Start(t, oauthproxytest.Options{
			ClientID: "proxy", ClientSecret: "s3cret", LoginPage: true, IssueIDToken: true,
		})
		mux := http.NewServeMux()
		srv := httptest.NewServer(mux)
		t.Cleanup(srv.Close)
		p, err := oauthproxy.New(oauthproxy.Config{
			BaseURL:                       srv.URL,
			UpstreamAuthorizationEndpoint: idp.AuthorizationEndpoint(),
			UpstreamTokenEndpoint:         idp.TokenEndpoint(),
			UpstreamClientID:              "proxy",
			UpstreamClientSecret:          "s3cret",
			Scopes:                        []string{"openid"},
		})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(p.Destroy)
		mux.Handle("/", p.Handler())

		// Your MCP client's part: register, then authorize with PKCE.
		info, err := p.RegisterClient(t.Context(), &oauthproxy.ClientMetadata{
			RedirectURIs: []string{"http://127.0.0.1:33418/callback"}, TokenEndpointAuthMethod: "none",
		})
		if err != nil {
			t.Fatal(err)
		}
		client := &oauth2.Config{
			ClientID:    info.ClientID,
			Endpoint:    oauth2.Endpoint{AuthURL: srv.URL + "/oauth/authorize", TokenURL: srv.URL + "/oauth/token"},
			RedirectURL: "http://127.0.0.1:33418/callback",
			Scopes:      []string{"openid"},
		}
		verifier := oauth2.GenerateVerifier()

		res, err := oauthproxytest.NewBrowser(t).Authorize(client.AuthCodeURL("xyz", oauth2.S256ChallengeOption(verifier)))
		if err != nil {
			t.Fatal(err)
		}
		if _, err := client.Exchange(t.Context(), res.Code, oauth2.VerifierOption(verifier)); err != nil {
			t.Fatal(err)
		}
	}
	_ = testSignIn
}
