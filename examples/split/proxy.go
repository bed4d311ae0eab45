package main

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"net/http"

	"github.com/oauthproxy-go/oauthproxy"
	"github.com/oauthproxy-go/oauthproxy/oauthproxytest"
)

// proxyService is the authorization server, with its stand-in identity
// provider.
type proxyService struct {
	handler http.Handler
	proxy   *oauthproxy.Proxy // for the operator's calls (RevokeSubject …)
	close   func()
}

// newProxyService starts the stand-in IdP and a proxy at issuer whose tokens
// are for resource, signed with a fresh ES256 key. introspection are the
// resource servers' credentials (id → secret).
func newProxyService(issuer, resource string, introspection map[string]string, opts options) (*proxyService, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, err
	}
	clientID, clientSecret := "oauthproxy-split", rand.Text()
	idp := oauthproxytest.NewServer(oauthproxytest.Options{
		ClientID: clientID, ClientSecret: clientSecret,
		LoginPage: true, IssueIDToken: true, RequirePKCE: true, Now: opts.now,
	})
	p, err := oauthproxy.New(oauthproxy.Config{
		BaseURL:                       issuer,
		Resource:                      resource, // the MCP server on the other port
		UpstreamAuthorizationEndpoint: idp.AuthorizationEndpoint(),
		UpstreamTokenEndpoint:         idp.TokenEndpoint(),
		UpstreamClientID:              clientID,
		UpstreamClientSecret:          clientSecret,
		Scopes:                        []string{"openid", "email", "profile"},
		ProviderName:                  "the demo identity provider",
		// ES256: the MCP server verifies with the public key alone. A real
		// deployment loads the key (or a KMS signer) from its secret store.
		AccessTokenSigningKeys:   []crypto.Signer{key},
		IntrospectionCredentials: introspection,
		AccessTokenTTL:           opts.accessTokenTTL,
		Logger:                   opts.log,
		Now:                      opts.now,
	})
	if err != nil {
		idp.Close()
		return nil, err
	}
	return &proxyService{handler: p.Handler(), proxy: p, close: func() { p.Destroy(); idp.Close() }}, nil
}
