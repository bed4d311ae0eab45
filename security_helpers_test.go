package oauthproxy_test

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"strings"
	"sync"
	"testing"

	"github.com/golang-jwt/jwt/v5"
	"github.com/oauthproxy-go/oauthproxy"
	opcrypto "github.com/oauthproxy-go/oauthproxy/crypto"
	"github.com/oauthproxy-go/oauthproxy/storage"
	"github.com/stretchr/testify/require"
)

// secClock is the settable clock of methods_helpers_test.go.
type secClock = stepClock

func newSecClock() *secClock { return newStepClock() }

// withSecClock makes the proxy read time from clk.
func withSecClock(clk *secClock) envOption {
	return withConfig(func(c *oauthproxy.Config) { c.Now = clk.Now })
}

// withSecStore makes the proxy keep its state in s.
func withSecStore(s storage.TokenStorage) envOption {
	return withConfig(func(c *oauthproxy.Config) { c.TokenStorage = s })
}

// secBrowser keeps cookies but never follows redirects, so a test can look
// at every hop of the browser flow.
type secBrowser struct {
	t *testing.T
	c *http.Client
}

func newSecBrowser(t *testing.T) *secBrowser {
	t.Helper()
	jar, err := cookiejar.New(nil)
	require.NoError(t, err)
	return &secBrowser{t: t, c: &http.Client{
		Jar:           jar,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}}
}

// secHop is one HTTP response the browser saw.
type secHop struct {
	Status   int
	Header   http.Header
	Body     string
	Location *url.URL // nil when there is no Location header
	Cookies  []*http.Cookie
}

func (h secHop) cookie(prefix string) *http.Cookie {
	for _, c := range h.Cookies {
		if strings.HasPrefix(c.Name, prefix) {
			return c
		}
	}
	return nil
}

func (b *secBrowser) do(req *http.Request) secHop {
	b.t.Helper()
	resp, err := b.c.Do(req)
	require.NoError(b.t, err)
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	require.NoError(b.t, err)
	h := secHop{Status: resp.StatusCode, Header: resp.Header, Body: string(body), Cookies: resp.Cookies()}
	if loc := resp.Header.Get("Location"); loc != "" {
		h.Location, err = resp.Request.URL.Parse(loc)
		require.NoError(b.t, err)
	}
	return h
}

func (b *secBrowser) get(rawURL string) secHop {
	b.t.Helper()
	req, err := http.NewRequest(http.MethodGet, rawURL, nil)
	require.NoError(b.t, err)
	return b.do(req)
}

func (b *secBrowser) post(rawURL string, form url.Values, header http.Header) secHop {
	b.t.Helper()
	req, err := http.NewRequest(http.MethodPost, rawURL, strings.NewReader(form.Encode()))
	require.NoError(b.t, err)
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	for k, vs := range header {
		req.Header[k] = vs
	}
	return b.do(req)
}

// secAuthorize sends the browser to /authorize with params.
func (e *env) secAuthorize(b *secBrowser, params url.Values) secHop {
	e.t.Helper()
	return b.get(e.srv.URL + "/oauth/authorize?" + params.Encode())
}

// secOpenConsent goes from /authorize to the consent page and returns the page
// and its form, ready to post.
func (e *env) secOpenConsent(b *secBrowser, params url.Values) (secHop, url.Values) {
	e.t.Helper()
	h := e.secAuthorize(b, params)
	require.Equal(e.t, http.StatusFound, h.Status, "authorize: %s", h.Body)
	require.NotNil(e.t, h.Location)
	require.Equal(e.t, "/oauth/consent", h.Location.Path)
	page := b.get(h.Location.String())
	require.Equal(e.t, http.StatusOK, page.Status, page.Body)
	return page, secConsentForm(e.t, page.Body)
}

// secConsentForm extracts the hidden inputs of a consent page.
func secConsentForm(t *testing.T, body string) url.Values {
	t.Helper()
	form := url.Values{}
	for _, m := range hiddenInput.FindAllStringSubmatch(body, -1) {
		form.Set(m[1], htmlUnescape(m[2]))
	}
	require.NotEmpty(t, form.Get("txn"), "consent page has no txn")
	require.NotEmpty(t, form.Get("csrf_token"), "consent page has no csrf_token")
	return form
}

// secDecide posts the consent decision ("approve" or "deny") with form.
func (e *env) secDecide(b *secBrowser, form url.Values, action string) secHop {
	e.t.Helper()
	form = cloneValues(form)
	form.Set("action", action)
	return b.post(e.srv.URL+"/oauth/consent", form, nil)
}

// secToCallback follows the redirect to the upstream and returns the upstream's
// redirect back to the proxy's callback (not followed).
func (e *env) secToCallback(b *secBrowser, upstreamRedirect secHop) string {
	e.t.Helper()
	require.Contains(e.t, []int{http.StatusFound, http.StatusSeeOther}, upstreamRedirect.Status, upstreamRedirect.Body)
	require.NotNil(e.t, upstreamRedirect.Location)
	require.True(e.t, strings.HasPrefix(upstreamRedirect.Location.String(), e.idp.AuthorizationEndpoint()),
		"expected a redirect to the upstream, got %s", upstreamRedirect.Location)
	h := b.get(upstreamRedirect.Location.String())
	require.Equal(e.t, http.StatusFound, h.Status, h.Body)
	require.NotNil(e.t, h.Location)
	require.True(e.t, strings.HasPrefix(h.Location.String(), e.srv.URL+"/oauth/callback?"),
		"expected the upstream to send the browser to the callback, got %s", h.Location)
	return h.Location.String()
}

// secCallbackURL runs a browser through /authorize, consent and the upstream,
// stopping before the proxy's callback.
func (e *env) secCallbackURL(b *secBrowser, params url.Values) string {
	e.t.Helper()
	_, form := e.secOpenConsent(b, params)
	return e.secToCallback(b, e.secDecide(b, form, "approve"))
}

// secClientRedirect checks h is a 302/303 to the client's redirect URI
// and returns its query.
func secClientRedirect(t *testing.T, h secHop, redirectURI string) url.Values {
	t.Helper()
	require.Contains(t, []int{http.StatusFound, http.StatusSeeOther}, h.Status, h.Body)
	require.NotNil(t, h.Location)
	got := *h.Location
	got.RawQuery = ""
	require.Equal(t, redirectURI, got.String())
	return h.Location.Query()
}

// secErrorPage checks h is an HTML error page that sends the browser
// nowhere.
func secErrorPage(t *testing.T, h secHop, status int) {
	t.Helper()
	require.Equal(t, status, h.Status, h.Body)
	require.Empty(t, h.Header.Get("Location"), "an error page must never redirect")
	require.Contains(t, h.Header.Get("Content-Type"), "text/html")
	require.NotContains(t, h.Body, "code=", "an error page must not carry a code")
}

// secToken posts form to /oauth/token with optional Basic credentials. It
// never calls t.FailNow, so goroutines may use it.
func secToken(srvURL string, form url.Values, basicID, basicSecret string) (tokenResult, error) {
	req, err := http.NewRequest(http.MethodPost, srvURL+"/oauth/token", strings.NewReader(form.Encode()))
	if err != nil {
		return tokenResult{}, err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if basicID != "" {
		req.SetBasicAuth(url.QueryEscape(basicID), url.QueryEscape(basicSecret))
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return tokenResult{}, err
	}
	defer resp.Body.Close()
	out := tokenResult{Status: resp.StatusCode, Header: resp.Header}
	if err := json.NewDecoder(resp.Body).Decode(&out.Body); err != nil {
		return out, fmt.Errorf("decoding token response (HTTP %d): %w", resp.StatusCode, err)
	}
	return out, nil
}

// secAuthForm adds c's credentials to form the way c registered, for secToken.
func secAuthForm(c registered, form url.Values) (url.Values, string, string) {
	form = cloneValues(form)
	switch c.AuthMethod {
	case "client_secret_basic":
		return form, c.ID, c.Secret
	case "client_secret_post":
		form.Set("client_id", c.ID)
		form.Set("client_secret", c.Secret)
	default:
		form.Set("client_id", c.ID)
	}
	return form, "", ""
}

// secRace runs f in n goroutines released at once and returns their results.
func secRace(n int, f func() (tokenResult, error)) ([]tokenResult, []error) {
	results := make([]tokenResult, n)
	errs := make([]error, n)
	var start, done sync.WaitGroup
	start.Add(1)
	for i := range n {
		done.Add(1)
		go func() {
			defer done.Done()
			start.Wait()
			results[i], errs[i] = f()
		}()
	}
	start.Done()
	done.Wait()
	return results, errs
}

// secJWTKey is the JWTSigningKey newEnv configures.
var secJWTKey = []byte(strings.Repeat("j", 32))

// secForgeJWT signs claims with method and key, with the header the proxy uses
// (typ at+jwt, kid of the harness key) changed by header.
func secForgeJWT(t *testing.T, method jwt.SigningMethod, key any, claims jwt.MapClaims, header map[string]any) string {
	t.Helper()
	tok := jwt.NewWithClaims(method, claims)
	tok.Header["typ"] = "at+jwt"
	tok.Header["kid"] = opcrypto.KeyID(secJWTKey)
	for k, v := range header {
		if v == nil {
			delete(tok.Header, k)
		} else {
			tok.Header[k] = v
		}
	}
	s, err := tok.SignedString(key)
	require.NoError(t, err)
	return s
}

// secClaims reads a JWT's claims without checking it.
func secClaims(t *testing.T, token string) jwt.MapClaims {
	t.Helper()
	claims := jwt.MapClaims{}
	_, _, err := jwt.NewParser().ParseUnverified(token, claims)
	require.NoError(t, err)
	return claims
}

// secRegister posts body to /oauth/register as application/json.
func secRegister(t *testing.T, srvURL, body string) tokenResult {
	t.Helper()
	resp, err := http.Post(srvURL+"/oauth/register", "application/json", strings.NewReader(body))
	require.NoError(t, err)
	defer resp.Body.Close()
	out := tokenResult{Status: resp.StatusCode, Header: resp.Header}
	require.NoError(t, json.NewDecoder(resp.Body).Decode(&out.Body))
	return out
}

// secRegistrationBody is a registration request for redirect URIs with auth method
// (omitted when empty).
func secRegistrationBody(authMethod string, redirects ...string) string {
	md := map[string]any{"redirect_uris": redirects, "client_name": "Test <Client>"}
	if authMethod != "" {
		md["token_endpoint_auth_method"] = authMethod
	}
	b, _ := json.Marshal(md)
	return string(b)
}

// secTokens runs a login and code exchange for c.
func (e *env) secTokens(c registered) tokenResult {
	e.t.Helper()
	code, verifier := e.code(c)
	tok := e.exchange(c, code, verifier)
	require.Equal(e.t, http.StatusOK, tok.Status, "%v", tok.Body)
	require.NotEmpty(e.t, tok.str("refresh_token"))
	return tok
}
