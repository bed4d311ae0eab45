package gateway_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/oauthproxy-go/oauthproxy/gateway"
	"github.com/oauthproxy-go/oauthproxy/oauthproxytest"
	"github.com/stretchr/testify/require"
	"golang.org/x/oauth2"
)

// clientRedirect is the MCP client's loopback redirect URI; the browser
// stops there.
const clientRedirect = "http://127.0.0.1:53682/callback"

// harness is a gateway (provider oidc at a fake IdP) in front of backend, on
// loopback httptest servers.
type harness struct {
	idp     *oauthproxytest.Server
	gw      *gateway.Gateway
	url     string // the gateway's base URL
	mcpURL  string
	cfg     *gateway.Config
	logs    *syncWriter
	backend *httptest.Server
}

// newHarness starts a gateway in front of backend; edit adjusts the Config.
func newHarness(t testing.TB, backend http.Handler, edit ...func(*gateway.Config)) *harness {
	t.Helper()
	h := &harness{logs: &syncWriter{buf: &bytes.Buffer{}}}
	secret := rand.Text()
	h.idp = oauthproxytest.NewServer(oauthproxytest.Options{ClientID: "gateway", ClientSecret: secret, IssueIDToken: true, LoginPage: true})
	t.Cleanup(h.idp.Close)
	h.backend = httptest.NewServer(backend)
	t.Cleanup(h.backend.Close)

	var handler http.Handler = http.NotFoundHandler()
	front := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { handler.ServeHTTP(w, r) }))
	t.Cleanup(front.Close)
	h.url, h.mcpURL = front.URL, front.URL+"/mcp"

	h.cfg = &gateway.Config{
		BaseURL:  front.URL,
		Provider: gateway.Provider{Name: gateway.ProviderOIDC, Issuer: h.idp.Issuer(), ClientID: "gateway"},
		Backend:  gateway.Backend{URL: h.backend.URL + "/mcp"},
		Secrets:  gateway.Secrets{UpstreamClientSecret: secret},
	}
	for _, f := range edit {
		f(h.cfg)
	}
	gw, err := gateway.New(context.Background(), h.cfg, gateway.Options{
		Logger: slog.New(slog.NewJSONHandler(h.logs, &slog.HandlerOptions{Level: slog.LevelDebug})),
	})
	require.NoError(t, err)
	t.Cleanup(func() { require.NoError(t, gw.Close()) })
	h.gw = gw
	handler = gw.Handler()
	return h
}

// signIn registers a public client, signs the default user in through the
// consent page and the IdP's login page, and returns the token response.
func (h *harness) signIn(t testing.TB) *oauth2.Token {
	t.Helper()
	body := `{"redirect_uris":["` + clientRedirect + `"],"token_endpoint_auth_method":"none","client_name":"gateway test"}`
	resp, err := http.Post(h.url+"/oauth/register", "application/json", strings.NewReader(body))
	require.NoError(t, err)
	defer resp.Body.Close()
	require.Equal(t, http.StatusCreated, resp.StatusCode)
	var reg struct {
		ClientID string `json:"client_id"`
	}
	require.NoError(t, json.NewDecoder(resp.Body).Decode(&reg))

	oc := &oauth2.Config{
		ClientID:    reg.ClientID,
		RedirectURL: clientRedirect,
		Endpoint:    oauth2.Endpoint{AuthURL: h.url + "/oauth/authorize", TokenURL: h.url + "/oauth/token", AuthStyle: oauth2.AuthStyleInParams},
	}
	verifier := oauth2.GenerateVerifier()
	res, err := oauthproxytest.NewBrowser(t).Authorize(oc.AuthCodeURL("state-1", oauth2.S256ChallengeOption(verifier),
		oauth2.SetAuthURLParam("resource", h.mcpURL)))
	require.NoError(t, err)
	require.NotEmpty(t, res.Code, "%+v", res)
	tok, err := oc.Exchange(context.Background(), res.Code, oauth2.VerifierOption(verifier),
		oauth2.SetAuthURLParam("resource", h.mcpURL))
	require.NoError(t, err)
	return tok
}

// post sends a JSON-RPC body to the MCP endpoint with token and headers.
func (h *harness) post(t *testing.T, token, body string, header http.Header) *http.Response {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, h.mcpURL, strings.NewReader(body))
	require.NoError(t, err)
	for k, v := range header {
		req.Header[k] = v
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json, text/event-stream")
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	t.Cleanup(func() { resp.Body.Close() })
	return resp
}

func readAll(t *testing.T, r io.Reader) string {
	t.Helper()
	b, err := io.ReadAll(r)
	require.NoError(t, err)
	return string(b)
}
