package oauthproxy_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"

	"github.com/oauthproxy-go/oauthproxy"
	"github.com/oauthproxy-go/oauthproxy/oauthproxytest"
)

// Example mounts the proxy in front of an MCP endpoint: the ten lines of the
// README. Here the upstream is the oauthproxytest fake provider; in
// production it is GitHub, Google, Entra, Auth0 or any OIDC issuer.
func Example() {
	idp := oauthproxytest.NewServer(oauthproxytest.Options{ClientID: "proxy", ClientSecret: "s3cret"})
	defer idp.Close()

	p, err := oauthproxy.New(oauthproxy.Config{
		BaseURL:                       "http://127.0.0.1:8080", // New does not listen
		UpstreamAuthorizationEndpoint: idp.AuthorizationEndpoint(),
		UpstreamTokenEndpoint:         idp.TokenEndpoint(),
		UpstreamClientID:              "proxy",
		UpstreamClientSecret:          "s3cret",
		Scopes:                        []string{"read:user"},
		// Load these from a secret store: generated keys do not survive a restart.
		JWTSigningKey:     []byte(strings.Repeat("j", 32)),
		EncryptionKey:     []byte(strings.Repeat("e", 32)),
		ConsentSigningKey: []byte(strings.Repeat("c", 32)),
	})
	if err != nil {
		panic(err)
	}
	defer p.Destroy()

	mcpHandler := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		claims, _ := oauthproxy.ClaimsFromContext(r.Context())
		fmt.Fprintln(w, "hello", claims.Subject)
	})
	mux := http.NewServeMux()
	mux.Handle("/", p.Handler())                    // metadata, register, authorize, consent, callback, token
	mux.Handle("/mcp", p.RequireBearer(mcpHandler)) // the protected MCP endpoint

	// What an MCP client discovers.
	rec := httptest.NewRecorder()
	mux.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/.well-known/oauth-authorization-server", nil))
	var md oauthproxy.AuthorizationServerMetadata
	if err := json.NewDecoder(rec.Body).Decode(&md); err != nil {
		panic(err)
	}
	fmt.Println("issuer:", md.Issuer)
	fmt.Println("authorization_endpoint:", md.AuthorizationEndpoint)
	fmt.Println("token_endpoint:", md.TokenEndpoint)
	fmt.Println("code_challenge_methods_supported:", md.CodeChallengeMethodsSupported)

	// The MCP endpoint without a token points the client at the metadata.
	rec = httptest.NewRecorder()
	mux.ServeHTTP(rec, httptest.NewRequest(http.MethodPost, "/mcp", nil))
	fmt.Println(rec.Code, rec.Header().Get("WWW-Authenticate"))

	// Output:
	// issuer: http://127.0.0.1:8080
	// authorization_endpoint: http://127.0.0.1:8080/oauth/authorize
	// token_endpoint: http://127.0.0.1:8080/oauth/token
	// code_challenge_methods_supported: [S256]
	// 401 Bearer resource_metadata="http://127.0.0.1:8080/.well-known/oauth-protected-resource/mcp"
}

// ExampleProxy_RegisterClient registers an MCP client without HTTP, as the
// registration endpoint does (RFC 7591).
func ExampleProxy_RegisterClient() {
	p, err := oauthproxy.New(oauthproxy.Config{
		BaseURL:                       "http://127.0.0.1:8080",
		UpstreamAuthorizationEndpoint: "https://github.com/login/oauth/authorize",
		UpstreamTokenEndpoint:         "https://github.com/login/oauth/access_token",
		UpstreamClientID:              "id",
		UpstreamClientSecret:          "secret",
		Logger:                        slog.New(slog.DiscardHandler), // quiet about the generated keys
	})
	if err != nil {
		panic(err)
	}
	defer p.Destroy()

	info, err := p.RegisterClient(context.Background(), &oauthproxy.ClientMetadata{
		RedirectURIs:            []string{"http://127.0.0.1:33418/callback"},
		TokenEndpointAuthMethod: "none", // a public client: PKCE, no secret
		ClientName:              "My MCP client",
	})
	if err != nil {
		panic(err)
	}
	fmt.Println("secret issued:", info.ClientSecret != "")
	fmt.Println("grant_types:", info.GrantTypes)

	_, err = p.RegisterClient(context.Background(), &oauthproxy.ClientMetadata{
		RedirectURIs: []string{"https://evil.example/callback"},
	})
	var oerr *oauthproxy.Error
	if errors.As(err, &oerr) {
		fmt.Println("refused:", oerr.Status, oerr.Code)
	}
	// Output:
	// secret issued: false
	// grant_types: [authorization_code]
	// refused: 400 invalid_redirect_uri
}
