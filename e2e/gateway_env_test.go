package e2e

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/oauthproxy-go/oauthproxy/gateway"
	"github.com/oauthproxy-go/oauthproxy/oauthproxytest"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// gatewayEnv is the standalone gateway (package gateway, as cmd/oauthproxy
// runs it, provider oidc at the fake upstream) in front of an MCP server
// that has no auth of its own, on one settable clock.
type gatewayEnv struct {
	clock  *clock
	idp    *oauthproxytest.Server
	gw     *gateway.Gateway
	base   string
	mcpURL string
	http   *http.Client // the MCP client's: it also sends spoofed identity headers
	log    *requestLog
}

// spoofedIdentity is what a malicious client sends to pose as someone else.
var spoofedIdentity = http.Header{
	"X-Forwarded-User":      {"admin"},
	"X-Forwarded-Email":     {"admin@evil.example"},
	"X-Forwarded-Client-Id": {"trusted-client"},
	"X-Forwarded-Scopes":    {"admin"},
}

func newGatewayEnv(t *testing.T, backendURL string) *gatewayEnv {
	t.Helper()
	e := &gatewayEnv{clock: newClock(), log: &requestLog{}}
	plain := loopbackClient(nil)
	t.Cleanup(plain.CloseIdleConnections)
	e.http = &http.Client{Timeout: plain.Timeout, Transport: &addHeaders{next: plain.Transport, header: spoofedIdentity}}

	secret := rand.Text()
	e.idp = oauthproxytest.NewServer(oauthproxytest.Options{
		ClientID: "gateway", ClientSecret: secret,
		LoginPage: true, IssueIDToken: true, RequirePKCE: true, Now: e.clock.Now,
	})
	t.Cleanup(e.idp.Close)

	var handler http.Handler = http.NotFoundHandler()
	front := httptest.NewServer(e.log.wrap(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { handler.ServeHTTP(w, r) })))
	t.Cleanup(front.Close)
	e.base, e.mcpURL = front.URL, front.URL+"/mcp"

	upstream := loopbackClient(nil)
	t.Cleanup(upstream.CloseIdleConnections)
	gw, err := gateway.New(context.Background(), &gateway.Config{
		BaseURL:  e.base,
		Provider: gateway.Provider{Name: gateway.ProviderOIDC, Issuer: e.idp.Issuer(), ClientID: "gateway"},
		Backend:  gateway.Backend{URL: backendURL},
		Scopes:   scopes,
		Secrets:  gateway.Secrets{UpstreamClientSecret: secret},
	}, gateway.Options{Logger: slog.New(slog.DiscardHandler), HTTPClient: upstream, Now: e.clock.Now})
	require.NoError(t, err)
	t.Cleanup(func() { require.NoError(t, gw.Close()) })
	e.gw = gw
	handler = gw.Handler()
	return e
}

// addHeaders adds header to every request.
type addHeaders struct {
	next   http.RoundTripper
	header http.Header
}

func (a *addHeaders) RoundTrip(r *http.Request) (*http.Response, error) {
	r = r.Clone(r.Context())
	for k, v := range a.header {
		r.Header[k] = v
	}
	return a.next.RoundTrip(r)
}

// backendWho is what the backends' whoami tool returns: the identity
// headers the gateway sent them.
type backendWho struct {
	Subject       string `json:"subject"`
	Email         string `json:"email"`
	ClientID      string `json:"client_id"`
	Scopes        string `json:"scopes"`
	Authorization string `json:"authorization"`
}

func parseWho(t *testing.T, text string) backendWho {
	t.Helper()
	var who backendWho
	require.NoError(t, json.Unmarshal([]byte(text), &who), "%s", text)
	return who
}

// checkIdentity asserts the backend saw the signed-in user and the client,
// from the gateway's headers, with the client's spoofed ones stripped and
// its bearer token kept away.
func (e *gatewayEnv) checkIdentity(t *testing.T, who backendWho, clientID string) {
	t.Helper()
	assert.Equal(t, oauthproxytest.DefaultUser.Subject, who.Subject)
	assert.Equal(t, oauthproxytest.DefaultUser.Email, who.Email)
	assert.Equal(t, clientID, who.ClientID)
	assert.ElementsMatch(t, scopes, strings.Fields(who.Scopes), "the granted scopes, space-separated")
	assert.Empty(t, who.Authorization, "the client's bearer token never reaches the backend")
}

// expireAccessToken moves the clock past the access token's hour and
// returns the token the last tool call carried.
func (e *gatewayEnv) expireAccessToken(t *testing.T) string {
	t.Helper()
	calls := e.log.toolCallTokens()
	require.NotEmpty(t, calls)
	e.clock.Advance(time.Hour + time.Minute)
	return calls[len(calls)-1]
}

// checkRefreshed asserts one refresh and no second sign-in, and that the
// last tool call carried a new token.
func (e *gatewayEnv) checkRefreshed(t *testing.T, old string) {
	t.Helper()
	assert.Equal(t, 1, e.log.count("POST /oauth/token refresh_token 200"), "one refresh")
	assert.Equal(t, 1, e.log.count("POST /oauth/token authorization_code 200"), "no second sign-in")
	calls := e.log.toolCallTokens()
	assert.NotEqual(t, old, calls[len(calls)-1], "the last call carried the refreshed token")
}
