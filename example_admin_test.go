package oauthproxy_test

import (
	"context"
	"crypto/subtle"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"

	"golang.org/x/oauth2"

	"github.com/oauthproxy-go/oauthproxy"
	"github.com/oauthproxy-go/oauthproxy/oauthproxytest"
)

// ExampleProxy_RevokeSubject signs a user in, lists their sessions and signs
// them out everywhere: the access token they hold is refused at the next
// bearer check. It also mounts the JSON administration API behind the
// operator's own authentication, which AdminHandler does not have.
func ExampleProxy_RevokeSubject() {
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
	mux.Handle("/mcp", p.RequireBearer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {})))
	// The administration API has no authentication of its own: put yours in
	// front (here a bearer secret for operators; mTLS or a private listener
	// do as well).
	const adminSecret = "operator-secret"
	mux.Handle("/admin/", http.StripPrefix("/admin", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if subtle.ConstantTimeCompare([]byte(r.Header.Get("Authorization")), []byte("Bearer "+adminSecret)) != 1 {
			http.Error(w, "forbidden", http.StatusForbidden)
			return
		}
		p.AdminHandler().ServeHTTP(w, r)
	})))

	// A user (the stand-in provider's "user-1") signs in through an MCP client.
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
	var browser oauthproxytest.Browser
	res, err := browser.Authorize(client.AuthCodeURL("xyz", oauth2.S256ChallengeOption(verifier)))
	if err != nil {
		panic(err)
	}
	tok, err := client.Exchange(ctx, res.Code, oauth2.VerifierOption(verifier))
	if err != nil {
		panic(err)
	}
	callMCP := func() int {
		req, _ := http.NewRequest(http.MethodPost, srv.URL+"/mcp", nil)
		tok.SetAuthHeader(req)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			panic(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	fmt.Println("MCP call:", callMCP())

	// The operator looks at the user's sessions and signs them out everywhere.
	grants, err := p.ListGrants(ctx, oauthproxy.GrantFilter{Subject: "user-1"}, oauthproxy.Page{})
	if err != nil {
		panic(err)
	}
	for _, g := range grants.Grants {
		fmt.Println("grant of", g.Subject, "at", g.ClientID == info.ClientID, "scopes", g.Scopes)
	}
	n, err := p.RevokeSubject(ctx, "user-1")
	if err != nil {
		panic(err)
	}
	fmt.Println("revoked:", n)
	fmt.Println("MCP call:", callMCP())

	// The same over HTTP, as the operator's tools would.
	req, _ := http.NewRequest(http.MethodDelete, srv.URL+"/admin/grants?subject=user-1", nil)
	req.Header.Set("Authorization", "Bearer "+adminSecret)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		panic(err)
	}
	resp.Body.Close()
	fmt.Println("DELETE /admin/grants?subject=user-1:", resp.StatusCode)
	// Output:
	// MCP call: 200
	// grant of user-1 at true scopes [openid email]
	// revoked: 1
	// MCP call: 401
	// DELETE /admin/grants?subject=user-1: 200
}
