package oauthproxy_test

import (
	"context"
	"crypto/x509"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/oauthproxy-go/oauthproxy"
	"github.com/oauthproxy-go/oauthproxy/storage"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// docServer is a TLS server on loopback for Client ID Metadata Documents. It
// counts the requests it receives, so a test can tell whether the proxy fetched.
type docServer struct {
	*httptest.Server
	mux      *http.ServeMux
	requests atomic.Int32
}

func newDocServer(t *testing.T) *docServer {
	t.Helper()
	s := &docServer{mux: http.NewServeMux()}
	s.Server = httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.requests.Add(1)
		s.mux.ServeHTTP(w, r)
	}))
	t.Cleanup(s.Close)
	return s
}

// pool trusts the server's certificate.
func (s *docServer) pool() *x509.CertPool {
	pool := x509.NewCertPool()
	pool.AddCert(s.Certificate())
	return pool
}

// serveDocument serves a public client's metadata document at path and
// returns its client_id URL.
func (s *docServer) serveDocument(path string, redirectURIs ...string) string {
	clientID := s.URL + path
	s.mux.HandleFunc(path, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(map[string]any{
			"client_id":                  clientID,
			"client_name":                "Metadata Client",
			"redirect_uris":              redirectURIs,
			"token_endpoint_auth_method": "none",
			"grant_types":                []string{"authorization_code", "refresh_token"},
		})
	})
	return clientID
}

// metadataDocumentServer serves a Client ID Metadata Document over TLS on
// loopback and returns the client_id URL and the pool that trusts it.
func metadataDocumentServer(t *testing.T, redirectURIs ...string) (string, *x509.CertPool) {
	t.Helper()
	s := newDocServer(t)
	return s.serveDocument("/oauth/client.json", redirectURIs...), s.pool()
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
// the allowed patterns refused. Each refusal is an error page, never a
// redirect, and stores no client. Each case would succeed without its guard:
// the document is reachable and trusted, and the request names the document's
// own redirect URI.
func TestSecurity_S17_MetadataDocumentRefusals(t *testing.T) {
	const evilRedirect = "https://evil.example/cb"
	for _, tc := range []struct {
		name      string
		redirect  string
		opt       func(pool *x509.CertPool) envOption
		wantText  string
		wantFetch bool
	}{
		{
			name:     "disabled by default",
			redirect: clientRedirect,
			opt: func(pool *x509.CertPool) envOption {
				return withConfig(func(c *oauthproxy.Config) {
					c.CIMDRootCAs = pool
					c.InsecureAllowPrivateCIMDAddresses = true
				})
			},
			wantText: "unknown client",
		},
		{
			name:      "loopback address refused",
			redirect:  clientRedirect,
			opt:       func(pool *x509.CertPool) envOption { return withCIMD(pool, false) },
			wantText:  "not a public internet address",
			wantFetch: false,
		},
		{
			name:      "redirect URI outside the patterns",
			redirect:  evilRedirect,
			opt:       func(pool *x509.CertPool) envOption { return withCIMD(pool, true) },
			wantText:  "names a redirect URI this server does not allow",
			wantFetch: true,
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			docs := newDocServer(t)
			clientID := docs.serveDocument("/oauth/client.json", tc.redirect)
			store := storage.NewMemory()
			e := newEnv(t, tc.opt(docs.pool()), withConfig(func(c *oauthproxy.Config) { c.TokenStorage = store }))
			params := authorizeParams(registered{ID: clientID}, "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM")
			params.Set("redirect_uri", tc.redirect)
			resp, err := e.browser().Get(e.srv.URL + "/oauth/authorize?" + params.Encode())
			require.NoError(t, err)
			body, err := io.ReadAll(resp.Body)
			require.NoError(t, err)
			resp.Body.Close()
			assert.Equal(t, http.StatusBadRequest, resp.StatusCode)
			assert.Empty(t, resp.Header.Get("Location"))
			assert.Contains(t, strings.ToLower(string(body)), strings.ToLower(tc.wantText), "the refusal names its reason")
			_, err = store.Get(context.Background(), "client:"+clientID)
			assert.ErrorIs(t, err, storage.ErrNotFound, "a refused document must not be stored as a client")
			if tc.wantFetch {
				assert.EqualValues(t, 1, docs.requests.Load())
			} else {
				assert.Zero(t, docs.requests.Load(), "the document must not be fetched")
			}
		})
	}
}
