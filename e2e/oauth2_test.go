package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/oauth2"
)

// TestOAuth2Client is a Go program that signs in with golang.org/x/oauth2 as a
// confidential client (client_secret_basic) and calls tools with the
// resulting http.Client: discovery and registration with net/http, the rest
// with x/oauth2 (PKCE, code exchange, refresh through its TokenSource). The
// root package's TestOAuth2Client covers the token endpoint's client
// authentication methods against a plain endpoint; this one covers discovery
// and MCP tool calls.
func TestOAuth2Client(t *testing.T) {
	for _, m := range modes {
		for _, kind := range serverKinds {
			t.Run(m.name+"/"+string(kind), func(t *testing.T) {
				t.Parallel()
				ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
				defer cancel()
				e := newEnv(t, m, kind)
				b := newBrowser(t)
				oauthCtx := context.WithValue(ctx, oauth2.HTTPClient, e.http)

				// RFC 9728 §5.1: the 401 names the protected resource metadata.
				resp, err := e.http.Post(e.mcpURL, "application/json", strings.NewReader(`{}`))
				require.NoError(t, err)
				resp.Body.Close()
				require.Equal(t, http.StatusUnauthorized, resp.StatusCode)
				prmURL := regexp.MustCompile(`resource_metadata="([^"]+)"`).FindStringSubmatch(resp.Header.Get("WWW-Authenticate"))
				require.NotNil(t, prmURL, "WWW-Authenticate: %s", resp.Header.Get("WWW-Authenticate"))
				var prm struct {
					Resource             string   `json:"resource"`
					AuthorizationServers []string `json:"authorization_servers"`
					ScopesSupported      []string `json:"scopes_supported"`
				}
				getJSON(t, e.http, prmURL[1], &prm)
				require.Equal(t, e.mcpURL, prm.Resource, "RFC 9728 §3.3: the document is about this resource")
				require.NotEmpty(t, prm.AuthorizationServers)

				// RFC 8414 §3: the issuer has no path, so the document is at the
				// well-known path of its origin; §3.3: it names the same issuer.
				issuer := prm.AuthorizationServers[0]
				var asm struct {
					Issuer                string `json:"issuer"`
					AuthorizationEndpoint string `json:"authorization_endpoint"`
					TokenEndpoint         string `json:"token_endpoint"`
					RegistrationEndpoint  string `json:"registration_endpoint"`
				}
				getJSON(t, e.http, issuer+"/.well-known/oauth-authorization-server", &asm)
				require.Equal(t, issuer, asm.Issuer)

				// RFC 7591 §3.1: a confidential client gets a secret.
				regBody, err := json.Marshal(map[string]any{
					"redirect_uris":              []string{clientRedirectURI},
					"token_endpoint_auth_method": "client_secret_basic",
					"grant_types":                []string{"authorization_code", "refresh_token"},
					"client_name":                "x/oauth2 e2e client",
				})
				require.NoError(t, err)
				resp, err = e.http.Post(asm.RegistrationEndpoint, "application/json", bytes.NewReader(regBody))
				require.NoError(t, err)
				var reg struct {
					ClientID     string `json:"client_id"`
					ClientSecret string `json:"client_secret"`
				}
				require.NoError(t, json.NewDecoder(resp.Body).Decode(&reg))
				resp.Body.Close()
				require.Equal(t, http.StatusCreated, resp.StatusCode)
				require.NotEmpty(t, reg.ClientSecret)

				cfg := &oauth2.Config{
					ClientID:     reg.ClientID,
					ClientSecret: reg.ClientSecret,
					Endpoint: oauth2.Endpoint{
						AuthURL: asm.AuthorizationEndpoint, TokenURL: asm.TokenEndpoint, AuthStyle: oauth2.AuthStyleInHeader,
					},
					RedirectURL: clientRedirectURI,
					Scopes:      prm.ScopesSupported,
				}
				verifier := oauth2.GenerateVerifier()
				resource := oauth2.SetAuthURLParam("resource", prm.Resource)
				q, err := b.authorize(ctx, cfg.AuthCodeURL("x-oauth2-state", oauth2.S256ChallengeOption(verifier), resource))
				require.NoError(t, err)
				require.Equal(t, "x-oauth2-state", q.Get("state"))
				require.Equal(t, issuer, q.Get("iss"), "RFC 9207: the response comes from the issuer we asked")
				tok, err := cfg.Exchange(oauthCtx, q.Get("code"), oauth2.VerifierOption(verifier), resource)
				require.NoError(t, err)
				e.checkFirstContact(t, b, true)

				ts := newClockedTokenSource(oauthCtx, cfg, tok, e.clock)
				session := connectWithHTTPClient(ctx, t, e, &http.Client{Transport: &oauth2.Transport{Source: ts, Base: e.http.Transport}})
				e.checkWhoami(t, goSDKWhoami(ctx, t, session), reg.ClientID)
				old := e.expireAccessToken(t)
				e.checkWhoami(t, goSDKWhoami(ctx, t, session), reg.ClientID)
				e.checkRefreshed(t, old)
				fresh, err := ts.Token()
				require.NoError(t, err)
				require.NotEmpty(t, fresh.RefreshToken)
				if !m.passThrough {
					assert.NotEqual(t, tok.RefreshToken, fresh.RefreshToken, "swap mode rotates refresh tokens")
				}
			})
		}
	}
}

// connectWithHTTPClient opens an MCP session with the go-sdk client, with no
// OAuth handler: hc adds the bearer token itself.
func connectWithHTTPClient(ctx context.Context, t *testing.T, e *env, hc *http.Client) *mcp.ClientSession {
	t.Helper()
	client := mcp.NewClient(&mcp.Implementation{Name: "x/oauth2 e2e client", Version: "1"}, nil)
	session, err := client.Connect(ctx, &mcp.StreamableClientTransport{Endpoint: e.mcpURL, HTTPClient: hc, MaxRetries: -1}, nil)
	require.NoError(t, err)
	t.Cleanup(func() { _ = session.Close() })
	return session
}

func getJSON(t *testing.T, hc *http.Client, url string, v any) {
	t.Helper()
	resp, err := hc.Get(url)
	require.NoError(t, err)
	defer resp.Body.Close()
	require.Equal(t, http.StatusOK, resp.StatusCode, "GET %s", url)
	require.NoError(t, json.NewDecoder(resp.Body).Decode(v), "GET %s", url)
}
