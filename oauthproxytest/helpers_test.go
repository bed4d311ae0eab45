package oauthproxytest_test

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"io"
	"mime"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/oauthproxy-go/oauthproxy/oauthproxytest"
)

const (
	testClientID = "proxy client"
	// The secret has characters that RFC 6749 §2.3.1 form-urlencodes.
	testSecret   = "s3cret+p@ss/word"
	testRedirect = "http://127.0.0.1:9999/oauth/callback"
)

// newIdP starts a server for the test with the test client filled in.
func newIdP(t *testing.T, opts oauthproxytest.Options) *oauthproxytest.Server {
	t.Helper()
	if opts.ClientID == "" {
		opts.ClientID, opts.ClientSecret = testClientID, testSecret
	}
	s := oauthproxytest.NewServer(opts)
	t.Cleanup(s.Close)
	return s
}

// newClient returns a client that does not follow redirects.
func newClient(t *testing.T) *http.Client {
	t.Helper()
	c := &http.Client{
		Timeout:       10 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
	t.Cleanup(c.CloseIdleConnections)
	return c
}

// authParams is a valid authorization request.
func authParams() url.Values {
	return url.Values{
		"client_id":     {testClientID},
		"redirect_uri":  {testRedirect},
		"response_type": {"code"},
		"state":         {"st-123"},
		"scope":         {"read:user"},
	}
}

// get performs a GET and returns the response with its body read.
func get(t *testing.T, c *http.Client, u string) (*http.Response, string) {
	t.Helper()
	resp, err := c.Get(u)
	require.NoError(t, err)
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return resp, string(b)
}

// authorize sends params to /authorize and returns the redirect's query.
func authorize(t *testing.T, s *oauthproxytest.Server, params url.Values) url.Values {
	t.Helper()
	resp, body := get(t, newClient(t), s.AuthorizationEndpoint()+"?"+params.Encode())
	require.Equal(t, http.StatusFound, resp.StatusCode, body)
	loc, err := url.Parse(resp.Header.Get("Location"))
	require.NoError(t, err)
	return loc.Query()
}

// authorizeCode runs /authorize and returns the code, failing on an error redirect.
func authorizeCode(t *testing.T, s *oauthproxytest.Server, params url.Values) string {
	t.Helper()
	q := authorize(t, s, params)
	require.Empty(t, q.Get("error"), q.Get("error_description"))
	require.NotEmpty(t, q.Get("code"))
	return q.Get("code")
}

// tokenResult is a decoded token endpoint response.
type tokenResult struct {
	status int
	header http.Header
	body   map[string]any
}

func (r tokenResult) str(key string) string {
	v, _ := r.body[key].(string)
	return v
}

// postToken posts form to the token endpoint, authenticating with method
// ("client_secret_basic", "client_secret_post" or "" for none).
func postToken(t *testing.T, s *oauthproxytest.Server, method string, form url.Values) tokenResult {
	t.Helper()
	form = cloneForm(form)
	if method == oauthproxytest.AuthMethodPost {
		form.Set("client_id", testClientID)
		form.Set("client_secret", testSecret)
	}
	req, err := http.NewRequest(http.MethodPost, s.TokenEndpoint(), strings.NewReader(form.Encode()))
	require.NoError(t, err)
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Accept", "application/json")
	if method == oauthproxytest.AuthMethodBasic {
		req.SetBasicAuth(url.QueryEscape(testClientID), url.QueryEscape(testSecret))
	}
	return doToken(t, req)
}

func doToken(t *testing.T, req *http.Request) tokenResult {
	t.Helper()
	resp, err := newClient(t).Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	res := tokenResult{status: resp.StatusCode, header: resp.Header, body: map[string]any{}}
	mt, _, _ := mime.ParseMediaType(resp.Header.Get("Content-Type"))
	switch mt {
	case "application/json":
		require.NoError(t, json.Unmarshal(raw, &res.body), string(raw))
	case "application/x-www-form-urlencoded":
		v, err := url.ParseQuery(string(raw))
		require.NoError(t, err)
		for k := range v {
			res.body[k] = v.Get(k)
		}
	default:
		res.body["raw"] = string(raw)
	}
	return res
}

func cloneForm(v url.Values) url.Values {
	out := url.Values{}
	for k, vs := range v {
		out[k] = append([]string(nil), vs...)
	}
	return out
}

// exchange redeems code with client_secret_basic.
func exchange(t *testing.T, s *oauthproxytest.Server, code string, extra url.Values) tokenResult {
	t.Helper()
	form := url.Values{"grant_type": {"authorization_code"}, "code": {code}, "redirect_uri": {testRedirect}}
	for k, v := range extra {
		form[k] = v
	}
	return postToken(t, s, oauthproxytest.AuthMethodBasic, form)
}

// login runs a whole flow and returns the successful token response.
func login(t *testing.T, s *oauthproxytest.Server, scope string) tokenResult {
	t.Helper()
	p := authParams()
	p.Set("scope", scope)
	res := exchange(t, s, authorizeCode(t, s, p), nil)
	require.Equal(t, http.StatusOK, res.status, res.body)
	return res
}

// refresh sends a refresh_token grant with client_secret_basic.
func refresh(t *testing.T, s *oauthproxytest.Server, rt string, extra url.Values) tokenResult {
	t.Helper()
	form := url.Values{"grant_type": {"refresh_token"}, "refresh_token": {rt}}
	for k, v := range extra {
		form[k] = v
	}
	return postToken(t, s, oauthproxytest.AuthMethodBasic, form)
}

// userInfo calls /userinfo with the bearer token and returns status and claims.
func userInfo(t *testing.T, s *oauthproxytest.Server, token string) (*http.Response, map[string]any) {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, s.UserInfoEndpoint(), nil)
	require.NoError(t, err)
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := newClient(t).Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	var claims map[string]any
	require.NoError(t, json.NewDecoder(resp.Body).Decode(&claims))
	return resp, claims
}

// pkcePair returns an RFC 7636 verifier and its S256 challenge.
func pkcePair() (verifier, challenge string) {
	b := make([]byte, 32)
	_, _ = rand.Read(b)
	verifier = base64.RawURLEncoding.EncodeToString(b)
	sum := sha256.Sum256([]byte(verifier))
	return verifier, base64.RawURLEncoding.EncodeToString(sum[:])
}

// fakeClock is a settable clock for Options.Now.
type fakeClock struct {
	mu  sync.Mutex
	now time.Time
}

func newFakeClock() *fakeClock { return &fakeClock{now: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)} }

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}
