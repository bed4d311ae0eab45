// Package loadtest measures the proxy under load: an upstream identity
// provider that answers instantly in process (so only the proxy's own work is
// measured), a client that drives complete OAuth flows over HTTP, and latency
// statistics. cmd/oauthproxy-load is its command line; the root package's
// benchmarks use its upstream.
package loadtest

import (
	"bytes"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync/atomic"
	"time"
)

// The instant upstream's identity: point Config at these.
const (
	UpstreamHost                  = "upstream.invalid" // RFC 2606: never resolves, so nothing leaves the process
	UpstreamAuthorizationEndpoint = "https://" + UpstreamHost + "/authorize"
	UpstreamTokenEndpoint         = "https://" + UpstreamHost + "/token"
	UpstreamClientID              = "load-upstream-client"
	UpstreamClientSecret          = "load-upstream-secret"
)

// Upstream is an OAuth/OIDC provider that lives in an http.RoundTripper: no
// sockets, no goroutines, a canned answer. As Config.HTTPClient.Transport it
// answers the proxy's token requests (code and refresh) with a realistic token
// set (Google-sized id_token included); as a browser's transport it approves
// every authorization request at once, redirecting back with a code.
type Upstream struct {
	tokenBody []byte
	codes     atomic.Uint64
	// TokenRequests counts the token requests answered.
	TokenRequests atomic.Uint64
	sample        upstreamSample
}

// NewUpstream returns an instant upstream whose id_token names the user with
// the claims a Google sign-in carries.
func NewUpstream() *Upstream {
	now := time.Now()
	idToken := fakeJWT(map[string]any{
		"iss":                "https://" + UpstreamHost,
		"azp":                UpstreamClientID,
		"aud":                UpstreamClientID,
		"sub":                "110169484474386276334",
		"email":              "alice@example.com",
		"email_verified":     true,
		"name":               "Alice Example",
		"preferred_username": "alice",
		"given_name":         "Alice",
		"family_name":        "Example",
		"picture":            "https://lh3.googleusercontent.com/a/ACg8ocJ0123456789abcdefghijklmnopqrstuvwxyz=s96-c",
		"locale":             "en",
		"iat":                now.Unix(),
		"exp":                now.Add(time.Hour).Unix(),
	})
	body, _ := json.Marshal(map[string]any{
		"access_token":  "ya29.a0AfB_byC" + randomString(150),
		"token_type":    "Bearer",
		"expires_in":    3599,
		"refresh_token": "1//0g" + randomString(98),
		"scope":         "openid https://www.googleapis.com/auth/userinfo.email https://www.googleapis.com/auth/userinfo.profile",
		"id_token":      idToken,
	})
	return &Upstream{tokenBody: body}
}

// HTTPClient returns a client whose every request is answered by u.
func (u *Upstream) HTTPClient() *http.Client {
	return &http.Client{Transport: u, Timeout: 10 * time.Second}
}

// RoundTrip answers POST /token with the token set and GET /authorize with a
// redirect to the request's redirect_uri carrying a fresh code and its state.
func (u *Upstream) RoundTrip(req *http.Request) (*http.Response, error) {
	if req.Body != nil {
		_, _ = io.Copy(io.Discard, req.Body)
		_ = req.Body.Close()
	}
	switch {
	case req.Method == http.MethodPost && req.URL.Path == "/token":
		u.TokenRequests.Add(1)
		return response(req, http.StatusOK, http.Header{
			"Content-Type":  {"application/json"},
			"Cache-Control": {"no-store"},
		}, u.tokenBody), nil
	case req.Method == http.MethodGet && req.URL.Path == "/authorize":
		q := req.URL.Query()
		back, err := url.Parse(q.Get("redirect_uri"))
		if err != nil || back.Host == "" {
			return response(req, http.StatusBadRequest, nil, []byte("bad redirect_uri")), nil
		}
		bq := back.Query()
		bq.Set("code", "upstream-code-"+strconv.FormatUint(u.codes.Add(1), 10))
		bq.Set("state", q.Get("state"))
		back.RawQuery = bq.Encode()
		return response(req, http.StatusFound, http.Header{"Location": {back.String()}}, nil), nil
	}
	return response(req, http.StatusNotFound, nil, nil), nil
}

func response(req *http.Request, status int, h http.Header, body []byte) *http.Response {
	if h == nil {
		h = http.Header{}
	}
	return &http.Response{
		Status:        strconv.Itoa(status) + " " + http.StatusText(status),
		StatusCode:    status,
		Proto:         "HTTP/1.1",
		ProtoMajor:    1,
		ProtoMinor:    1,
		Header:        h,
		Body:          io.NopCloser(bytes.NewReader(body)),
		ContentLength: int64(len(body)),
		Request:       req,
	}
}

// fakeJWT builds an RS256-shaped JWT with a random signature: the proxy reads
// the id_token it got straight from the token endpoint without checking the
// signature (OIDC Core §3.1.3.7), so only its size and claims matter here.
func fakeJWT(claims map[string]any) string {
	enc := base64.RawURLEncoding
	header := enc.EncodeToString([]byte(`{"alg":"RS256","kid":"1f40f0a8ef3d880978dc82f25c3ec317c6a5b781","typ":"JWT"}`))
	payload, _ := json.Marshal(claims)
	sig := make([]byte, 256) // RSA-2048
	_, _ = rand.Read(sig)
	return strings.Join([]string{header, enc.EncodeToString(payload), enc.EncodeToString(sig)}, ".")
}

func randomString(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)[:n]
}
