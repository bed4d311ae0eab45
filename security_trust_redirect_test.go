package oauthproxy_test

// Security tests for S22: AllowedRedirectURIPatterns apply each time a stored
// client is used, not only when it registers.

import (
	"net/http"
	"net/url"
	"testing"

	"github.com/oauthproxy-go/oauthproxy"
	"github.com/oauthproxy-go/oauthproxy/internal/pkce"
	"github.com/oauthproxy-go/oauthproxy/storage"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func withPatterns(patterns ...string) envOption {
	return withConfig(func(c *oauthproxy.Config) { c.AllowedRedirectURIPatterns = patterns })
}

// TestSecurity_S22_TightenedRedirectPatternsCutOffOldClients: a client
// registered under wide patterns, used through a proxy on the same storage
// with narrower ones, is refused at /authorize (an error page: the redirect
// URI is what is in doubt) and at /token, and nothing is stored or spent: the
// old configuration still honours the same code and refresh token.
func TestSecurity_S22_TightenedRedirectPatternsCutOffOldClients(t *testing.T) {
	const keptRedirect = "http://127.0.0.1:9/kept/callback"
	store := newRecordingStore(storage.NewMemory())
	before := newEnv(t, withSecStore(store), withPatterns("http://127.0.0.1")) // any port, any path
	c := before.register("client_secret_basic")
	tok := before.secTokens(c)
	code, verifier := before.code(c)
	both := before.register("none", clientRedirect, keptRedirect)

	after := newEnv(t, withSecStore(store), withPatterns("http://127.0.0.1/kept/callback"))

	t.Run("authorize shows an error page and stores nothing", func(t *testing.T) {
		mark := store.mark()
		h := after.secAuthorize(newSecBrowser(t), authorizeParams(c, pkce.Challenge(pkce.GenerateVerifier())))
		secErrorPage(t, h, http.StatusBadRequest)
		assert.Contains(t, h.Body, "<code>invalid_request</code>")
		assert.Contains(t, h.Body, "no longer allowed")
		assert.Empty(t, store.changedSince(mark))
	})

	t.Run("token refuses the code, which stays unspent", func(t *testing.T) {
		mark := store.mark()
		res := after.exchange(c, code, verifier)
		assert.Equal(t, http.StatusBadRequest, res.Status, "%v", res.Body)
		assert.Equal(t, "invalid_grant", res.str("error"))
		assert.Empty(t, res.Header.Get("WWW-Authenticate"), "the client did authenticate")
		assert.Empty(t, store.changedSince(mark))
		assert.Equal(t, http.StatusOK, before.exchange(c, code, verifier).Status, "the refusal spent nothing")
	})

	t.Run("refresh is refused when no redirect URI is left", func(t *testing.T) {
		mark := store.mark()
		res := after.refresh(c, tok.str("refresh_token"))
		assert.Equal(t, http.StatusBadRequest, res.Status, "%v", res.Body)
		assert.Equal(t, "invalid_grant", res.str("error"))
		assert.Empty(t, store.changedSince(mark))
		assert.Equal(t, http.StatusOK, before.refresh(c, tok.str("refresh_token")).Status, "the refusal spent nothing")
	})

	t.Run("a client keeps the redirect URIs still allowed", func(t *testing.T) {
		q := authorizeParams(both, pkce.Challenge(pkce.GenerateVerifier()))
		q.Set("redirect_uri", keptRedirect)
		h := after.secAuthorize(newSecBrowser(t), q)
		require.Equal(t, http.StatusFound, h.Status, h.Body)
		assert.Equal(t, "/oauth/consent", h.Location.Path)

		q.Set("redirect_uri", clientRedirect)
		secErrorPage(t, after.secAuthorize(newSecBrowser(t), q), http.StatusBadRequest)
	})
}

// TestSecurity_S22_TightenedPatternsCutOffInFlightSignIns: a sign-in started
// under the old patterns and finished under the new ones gets an error page
// at the consent page and at the callback, never a redirect with a code.
func TestSecurity_S22_TightenedPatternsCutOffInFlightSignIns(t *testing.T) {
	store := newRecordingStore(storage.NewMemory())
	before := newEnv(t, withSecStore(store), withPatterns("http://127.0.0.1"))
	c := before.register("none")
	after := newEnv(t, withSecStore(store), withPatterns("http://127.0.0.1/elsewhere"))

	b := newSecBrowser(t)
	_, form := before.secOpenConsent(b, authorizeParams(c, pkce.Challenge(pkce.GenerateVerifier())))
	secErrorPage(t, b.get(after.srv.URL+"/oauth/consent?txn="+form.Get("txn")), http.StatusBadRequest)
	secErrorPage(t, after.secDecide(b, form, "deny"), http.StatusBadRequest)

	b = newSecBrowser(t)
	callback := before.secCallbackURL(b, authorizeParams(c, pkce.Challenge(pkce.GenerateVerifier())))
	// The upstream returns the browser to the after proxy (same keys and
	// storage; cookies are not per port, so the binding cookie comes along).
	u, err := url.Parse(callback)
	require.NoError(t, err)
	h := b.get(after.srv.URL + u.RequestURI())
	secErrorPage(t, h, http.StatusBadRequest)
	assert.Contains(t, h.Body, "no longer allowed")
}

// TestSecurity_S22_TightenedPatternsCutOffCachedMetadataDocumentClients: a
// Client ID Metadata Document client cached under the old patterns is
// refused on use, though its cached record is not fetched again.
func TestSecurity_S22_TightenedPatternsCutOffCachedMetadataDocumentClients(t *testing.T) {
	clientID, pool := metadataDocumentServer(t, clientRedirect)
	store := newRecordingStore(storage.NewMemory())
	before := newEnv(t, withSecStore(store), withCIMD(pool, true))
	c := registered{ID: clientID, AuthMethod: "none"}
	code, verifier := before.code(c) // fetches and caches the document
	after := newEnv(t, withSecStore(store), withCIMD(pool, true), withPatterns("http://127.0.0.1/elsewhere"))

	mark := store.mark()
	h := after.secAuthorize(newSecBrowser(t), authorizeParams(c, pkce.Challenge(pkce.GenerateVerifier())))
	secErrorPage(t, h, http.StatusBadRequest)
	assert.Contains(t, h.Body, "<code>invalid_request</code>", "refused by the check on use, not by a new fetch")
	res := after.exchange(c, code, verifier)
	assert.Equal(t, "invalid_grant", res.str("error"), "%v", res.Body)
	assert.Empty(t, store.changedSince(mark))
}
