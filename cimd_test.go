package oauthproxy_test

import (
	"crypto/x509"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/oauthproxy-go/oauthproxy"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// metadataDocumentServer serves a Client ID Metadata Document over TLS on
// loopback and returns the client_id URL and the pool that trusts it.
func metadataDocumentServer(t *testing.T, redirectURIs ...string) (string, *x509.CertPool) {
	t.Helper()
	var clientID string
	srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(map[string]any{
			"client_id":                  clientID,
			"client_name":                "Metadata Client",
			"redirect_uris":              redirectURIs,
			"token_endpoint_auth_method": "none",
			"grant_types":                []string{"authorization_code", "refresh_token"},
		})
	}))
	t.Cleanup(srv.Close)
	clientID = srv.URL + "/oauth/client.json"
	pool := x509.NewCertPool()
	pool.AddCert(srv.Certificate())
	return clientID, pool
}

func withCIMD(pool *x509.CertPool, allowLoopback bool) envOption {
	return withConfig(func(c *oauthproxy.Config) {
		c.EnableCIMD = true
		c.CIMDRootCAs = pool
		c.InsecureAllowPrivateCIMDAddresses = allowLoopback
	})
}

// TestSecurity_S17_MetadataDocumentClientCompletesFlow: an https client_id is
// fetched, its redirect URIs checked, and the client runs the whole flow as a
// public client without registering.
func TestSecurity_S17_MetadataDocumentClientCompletesFlow(t *testing.T) {
	clientID, pool := metadataDocumentServer(t, clientRedirect)
	e := newEnv(t, withCIMD(pool, true))
	meta := e.proxy.GetAuthorizationServerMetadata()
	assert.True(t, meta.ClientIDMetadataDocumentSupported)

	c := registered{ID: clientID, AuthMethod: "none"}
	code, verifier := e.code(c)
	tok := e.exchange(c, code, verifier)
	require.Equal(t, http.StatusOK, tok.Status, "%v", tok.Body)
	resp, claims := e.callMCP(tok.str("access_token"))
	require.Equal(t, http.StatusOK, resp.StatusCode)
	assert.Equal(t, clientID, claims["ClientID"])
	ref := e.refresh(c, tok.str("refresh_token"))
	assert.Equal(t, http.StatusOK, ref.Status, "%v", ref.Body)
}

// TestSecurity_S17_MetadataDocumentRefusals: off by default; loopback and
// private addresses refused unless explicitly allowed; redirect URIs outside
// the allowed patterns refused. Each refusal is an error page, never a redirect.
func TestSecurity_S17_MetadataDocumentRefusals(t *testing.T) {
	good, goodPool := metadataDocumentServer(t, clientRedirect)
	bad, badPool := metadataDocumentServer(t, "https://evil.example/cb")
	for _, tc := range []struct {
		name     string
		clientID string
		opt      envOption
	}{
		{"disabled by default", good, withConfig(func(*oauthproxy.Config) {})},
		{"loopback address refused", good, withCIMD(goodPool, false)},
		{"redirect URI outside the patterns", bad, withCIMD(badPool, true)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t, tc.opt)
			params := authorizeParams(registered{ID: tc.clientID}, "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM")
			resp, err := e.browser().Get(e.srv.URL + "/oauth/authorize?" + params.Encode())
			require.NoError(t, err)
			resp.Body.Close()
			assert.Equal(t, http.StatusBadRequest, resp.StatusCode)
			assert.Empty(t, resp.Header.Get("Location"))
		})
	}
}
