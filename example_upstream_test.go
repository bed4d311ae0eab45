package oauthproxy_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"

	"github.com/oauthproxy-go/oauthproxy"
	"github.com/oauthproxy-go/oauthproxy/oauthproxytest"
	"golang.org/x/oauth2"
)

// ExampleProxy_UpstreamTokenSource calls the provider's API as the caller
// from a handler behind RequireBearer: a plain net/http handler here, and
// the same three lines in an mcp-go tool, whose context carries the claims
// too (go-sdk tools use mcpauth.UpstreamTokenSource). The oauthproxytest
// stand-in is the provider; its userinfo endpoint stands for its API.
func ExampleProxy_UpstreamTokenSource() {
	idp := oauthproxytest.NewServer(oauthproxytest.Options{ClientID: "proxy", ClientSecret: "s3cret", IssueIDToken: true})
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
		Logger:                        slog.New(slog.DiscardHandler),
	})
	if err != nil {
		panic(err)
	}
	defer p.Destroy()
	mux.Handle("/", p.Handler())
	mux.Handle("/mcp", p.RequireBearer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		claims, _ := oauthproxy.ClaimsFromContext(r.Context())
		ts, err := p.UpstreamTokenSource(r.Context(), claims)
		if err != nil {
			http.Error(w, "sign in again", http.StatusUnauthorized)
			return
		}
		resp, err := oauth2.NewClient(r.Context(), ts).Get(idp.UserInfoEndpoint())
		if err != nil {
			http.Error(w, "the provider is unavailable", http.StatusBadGateway)
			return
		}
		defer resp.Body.Close()
		_, _ = io.Copy(w, resp.Body)
	})))

	// A client signs the user in and calls /mcp with its token.
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
	var browser oauthproxytest.Browser // in a test: oauthproxytest.NewBrowser(t)
	res, err := browser.Authorize(client.AuthCodeURL("xyz", oauth2.S256ChallengeOption(verifier)))
	if err != nil {
		panic(err)
	}
	tok, err := client.Exchange(ctx, res.Code, oauth2.VerifierOption(verifier))
	if err != nil {
		panic(err)
	}
	resp, err := client.Client(ctx, tok).Get(srv.URL + "/mcp")
	if err != nil {
		panic(err)
	}
	defer resp.Body.Close()
	var user struct {
		Email string `json:"email"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&user); err != nil {
		panic(err)
	}
	fmt.Println(resp.StatusCode, user.Email)
	fmt.Println("provider API calls:", idp.Stats().UserInfoRequests)
	// Output:
	// 200 user@example.com
	// provider API calls: 1
}
