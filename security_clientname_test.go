package oauthproxy_test

import (
	"context"
	"crypto/x509"
	"encoding/json"
	"html"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/oauthproxy-go/oauthproxy"
	"github.com/oauthproxy-go/oauthproxy/internal/pkce"
	"github.com/oauthproxy-go/oauthproxy/storage"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// Tests for SECURITY.md S21: client-supplied display text.

// spoofingNames are client_name values that could mislead on the consent page
// (Unicode TR #36): each hides, reorders or breaks what the page shows.
var spoofingNames = map[string]string{
	"right-to-left override U+202E":    "Acme\u202Egnp.exe",
	"left-to-right embedding U+202A":   "\u202AAcme",
	"pop directional formatting":       "Acme\u202C",
	"right-to-left isolate U+2067":     "\u2067Acme\u2069",
	"first strong isolate U+2068":      "\u2068Acme\u2069",
	"arabic letter mark U+061C":        "Acme\u061C",
	"right-to-left mark U+200F":        "Acme\u200F",
	"left-to-right mark U+200E":        "Acme\u200E",
	"zero-width space U+200B":          "Pay\u200Bpal",
	"zero-width joiner U+200D":         "Pay\u200Dpal",
	"word joiner U+2060":               "Pay\u2060pal",
	"byte order mark U+FEFF":           "\uFEFFAcme",
	"soft hyphen U+00AD (format)":      "Ac\u00ADme",
	"line feed":                        "Acme\nApproved by your administrator",
	"carriage return":                  "Acme\rApproved",
	"next line U+0085":                 "Acme\u0085Approved",
	"line separator U+2028":            "Acme\u2028Approved",
	"paragraph separator U+2029":       "Acme\u2029Approved",
	"escape sequence":                  "Acme\x1b[8mhidden",
	"NUL":                              "Acme\x00",
	"tab":                              "Acme\tTool",
	"delete":                           "Acme\x7f",
	"invisible format U+180E (Mongol)": "Acme\u180E",
}

// TestSecurity_S21_ClientNameWithInvisibleOrBidiCharactersRefused: a
// client_name with bidi controls, invisible format characters, control
// characters or line breaks is refused, at /register with
// invalid_client_metadata and a fixed text that does not quote it, from a
// Client ID Metadata Document with invalid_client; nothing is stored either
// way. Names in any script, emoji included, are still accepted.
func TestSecurity_S21_ClientNameWithInvisibleOrBidiCharactersRefused(t *testing.T) {
	t.Run("dynamic registration", func(t *testing.T) {
		store := newRecordingStore(storage.NewMemory())
		e := newEnv(t, withConfig(func(c *oauthproxy.Config) { c.TokenStorage = store }))
		for name, clientName := range spoofingNames {
			t.Run(name, func(t *testing.T) {
				mark := store.mark()
				res := secRegister(t, e.srv.URL, s21RegistrationWithName(clientName))
				require.Equal(t, http.StatusBadRequest, res.Status, "%v", res.Body)
				assert.Equal(t, "invalid_client_metadata", res.str("error"))
				assert.Contains(t, res.str("error_description"), "client_name")
				assert.NotContains(t, res.str("error_description"), clientName)
				assert.Equal(t, "no-store", res.Header.Get("Cache-Control"))
				store.unchanged(t, mark, "a refused registration stores nothing")
			})
		}
		for _, ok := range []string{"Claude", "VS Code", "Ünïcode App", "تطبيق", "אפליקציה", "日本語のアプリ", "Rocket 🚀", `Cursor <beta> & "friends"`} {
			res := secRegister(t, e.srv.URL, s21RegistrationWithName(ok))
			assert.Equal(t, http.StatusCreated, res.Status, "%q must be accepted: %v", ok, res.Body)
			assert.Equal(t, ok, res.str("client_name"))
		}
	})

	t.Run("client metadata document", func(t *testing.T) {
		for name, clientName := range spoofingNames {
			t.Run(name, func(t *testing.T) {
				clientID, pool := s21MetadataDocument(t, clientName)
				store := newRecordingStore(storage.NewMemory())
				e := newEnv(t, withCIMD(pool, true), withConfig(func(c *oauthproxy.Config) { c.TokenStorage = store }))
				mark := store.mark()
				h := e.secAuthorize(newSecBrowser(t), authorizeParams(registered{ID: clientID}, pkce.Challenge(pkce.GenerateVerifier())))
				secErrorPage(t, h, http.StatusBadRequest)
				assert.Contains(t, h.Body, "invalid_client")
				assert.Contains(t, strings.ToLower(h.Body), "client_name contains", "the page says what is wrong")
				assert.NotContains(t, h.Body, html.EscapeString(clientName))
				store.unchanged(t, mark, "a refused metadata document is not cached as a client")
			})
		}
		t.Run("clean name accepted", func(t *testing.T) {
			clientID, pool := s21MetadataDocument(t, "تطبيق 🚀")
			e := newEnv(t, withCIMD(pool, true))
			page, _ := e.secOpenConsent(newSecBrowser(t), authorizeParams(registered{ID: clientID}, pkce.Challenge(pkce.GenerateVerifier())))
			assert.Contains(t, page.Body, "تطبيق 🚀")
		})
	})
}

// TestSecurity_S21_ConsentPageCleansStoredClientName: a client stored before
// names were checked, with bidi, zero-width and line-break characters in its
// name, is shown on the consent page without them.
func TestSecurity_S21_ConsentPageCleansStoredClientName(t *testing.T) {
	store := newRecordingStore(storage.NewMemory())
	e := newEnv(t, withConfig(func(c *oauthproxy.Config) {
		c.TokenStorage = store
		c.DisableEncryption = true // so the test can rewrite the stored record
		c.EncryptionKey = nil
	}))
	c := e.register("none")

	// Rewrite the record as an older version would have stored it.
	ctx := context.Background()
	raw, err := store.Get(ctx, "client:"+c.ID)
	require.NoError(t, err)
	var rec map[string]any
	require.NoError(t, json.Unmarshal(raw, &rec))
	rec["client_name"] = "\u2067Acme\u202Egnp.exe\u2069\u200B\nApproved by your administrator\u2028\x00"
	raw, err = json.Marshal(rec)
	require.NoError(t, err)
	require.NoError(t, store.Save(ctx, "client:"+c.ID, raw, time.Hour))

	page, _ := e.secOpenConsent(newSecBrowser(t), authorizeParams(c, pkce.Challenge(pkce.GenerateVerifier())))
	const clean = "Acmegnp.exe Approved by your administrator"
	title := regexp.MustCompile(`<title>Allow (.*) to access`).FindStringSubmatch(page.Body)
	require.NotNil(t, title, page.Body)
	assert.Equal(t, clean, html.UnescapeString(title[1]))
	heading := regexp.MustCompile(`<h1 id="title"><strong>([^<]*)</strong>`).FindStringSubmatch(page.Body)
	require.NotNil(t, heading, page.Body)
	assert.Equal(t, clean, html.UnescapeString(heading[1]))
	for _, r := range []string{"\u2067", "\u202E", "\u2069", "\u200B", "\u2028", "\x00"} {
		assert.NotContains(t, page.Body, r, "the page shows %U", []rune(r)[0])
	}

	// The typed method, which a custom ConsentTemplate renders, is clean too.
	q := page.Body[strings.Index(page.Body, `name="txn" value="`)+len(`name="txn" value="`):]
	txn := html.UnescapeString(q[:strings.Index(q, `"`)])
	cp, err := e.proxy.ConsentPage(ctx, txn, "")
	require.NoError(t, err)
	assert.Equal(t, clean, cp.ClientName)
}

// s21RegistrationWithName is a valid public-client registration request
// named name.
func s21RegistrationWithName(name string) string {
	b, _ := json.Marshal(map[string]any{
		"redirect_uris":              []string{clientRedirect},
		"token_endpoint_auth_method": "none",
		"client_name":                name,
	})
	return string(b)
}

// s21MetadataDocument serves over TLS on loopback a valid Client ID Metadata
// Document whose client_name is name, and returns its URL and the pool that
// trusts the server.
func s21MetadataDocument(t *testing.T, name string) (string, *x509.CertPool) {
	t.Helper()
	var clientID string
	srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(map[string]any{
			"client_id":                  clientID,
			"client_name":                name,
			"redirect_uris":              []string{clientRedirect},
			"token_endpoint_auth_method": "none",
		})
	}))
	t.Cleanup(srv.Close)
	clientID = srv.URL + "/oauth/client.json"
	pool := x509.NewCertPool()
	pool.AddCert(srv.Certificate())
	return clientID, pool
}
