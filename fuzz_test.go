package oauthproxy_test

import (
	"bytes"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/oauthproxy-go/oauthproxy"
	"github.com/oauthproxy-go/oauthproxy/internal/redirecturi"
)

// fuzzBase is the issuer of the fuzzed proxies. Nothing listens there: the
// fuzzed paths never reach the upstream.
const fuzzBase = "http://127.0.0.1:8080"

var fuzzSigningKey = []byte(strings.Repeat("f", 32))

func newFuzzProxy(f *testing.F) *oauthproxy.Proxy {
	f.Helper()
	p, err := oauthproxy.New(oauthproxy.Config{
		BaseURL:                       fuzzBase,
		UpstreamAuthorizationEndpoint: "http://127.0.0.1:1/authorize",
		UpstreamTokenEndpoint:         "http://127.0.0.1:1/token",
		UpstreamClientID:              "up",
		UpstreamClientSecret:          "up-secret",
		JWTSigningKey:                 fuzzSigningKey,
		EncryptionKey:                 []byte(strings.Repeat("e", 32)),
		ConsentSigningKey:             []byte(strings.Repeat("c", 32)),
		Logger:                        slog.New(slog.NewTextHandler(io.Discard, nil)),
	})
	if err != nil {
		f.Fatal(err)
	}
	f.Cleanup(p.Destroy)
	return p
}

// oauthErrorCodes are the codes the token and registration endpoints may
// answer with (RFC 6749 §5.2, RFC 7591 §3.2.2, RFC 8707 §2).
var oauthErrorCodes = map[string]bool{
	"invalid_request": true, "invalid_client": true, "invalid_grant": true,
	"unauthorized_client": true, "unsupported_grant_type": true, "invalid_scope": true,
	"invalid_redirect_uri": true, "invalid_client_metadata": true, "invalid_target": true,
}

// checkOAuthError asserts the response is a well-formed RFC 6749 §5.2 error
// or success: never a 5xx, always no-store, always a JSON body.
func checkOAuthError(t *testing.T, rec *httptest.ResponseRecorder, okStatus int) map[string]any {
	t.Helper()
	if rec.Header().Get("Cache-Control") != "no-store" {
		t.Fatalf("missing Cache-Control: no-store (S13)")
	}
	var body map[string]any
	if err := json.Unmarshal(rec.Body.Bytes(), &body); err != nil {
		t.Fatalf("status %d with a non-JSON body %q", rec.Code, rec.Body.String())
	}
	if rec.Code == okStatus {
		return body
	}
	if rec.Code != http.StatusBadRequest && rec.Code != http.StatusUnauthorized {
		t.Fatalf("status %d (want %d, 400 or 401): %v", rec.Code, okStatus, body)
	}
	if code, _ := body["error"].(string); !oauthErrorCodes[code] {
		t.Fatalf("unknown error code %q", code)
	}
	return body
}

// FuzzRegistration feeds arbitrary bodies to POST /oauth/register: every
// answer is 201 or a clean invalid_client_metadata / invalid_redirect_uri, and
// a registered client never has a redirect URI the default patterns refuse
// (S01, S14).
func FuzzRegistration(f *testing.F) {
	p := newFuzzProxy(f)
	h := p.Handler()
	f.Add([]byte(`{"redirect_uris":["http://127.0.0.1:3000/cb"],"token_endpoint_auth_method":"none"}`))
	f.Add([]byte(`{"redirect_uris":["http://localhost:@evil.com/cb"]}`))
	f.Add([]byte(`{"redirect_uris":"http://localhost/cb"}`))
	f.Add([]byte(`{"redirect_uris":["http://[::1]/cb"],"grant_types":["implicit"]}`))
	f.Add([]byte(`{"redirect_uris":["http://localhost/cb"],"client_name":"x"} trailing`))
	f.Add([]byte(`[]`))
	f.Fuzz(func(t *testing.T, body []byte) {
		req := httptest.NewRequest(http.MethodPost, "/oauth/register", bytes.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		out := checkOAuthError(t, rec, http.StatusCreated)
		if rec.Code != http.StatusCreated {
			return
		}
		uris, _ := out["redirect_uris"].([]any)
		if len(uris) == 0 {
			t.Fatalf("registered without redirect URIs: %v", out)
		}
		for _, u := range uris {
			s, _ := u.(string)
			parsed, err := redirecturi.Parse(s)
			if err != nil || !redirecturi.Allowed(parsed, redirecturi.DefaultPatterns()) {
				t.Fatalf("registered a redirect URI the patterns refuse: %q", s)
			}
		}
	})
}

// FuzzTokenRequest feeds arbitrary form bodies and Authorization headers to
// POST /oauth/token: every answer is a clean RFC 6749 §5.2 error (nothing here
// holds a valid code or refresh token), never a 5xx or a panic.
func FuzzTokenRequest(f *testing.F) {
	p := newFuzzProxy(f)
	h := p.Handler()
	f.Add("grant_type=authorization_code&code=abc&code_verifier=def&client_id=x", "")
	f.Add("grant_type=refresh_token&refresh_token=abc", "Basic eDp5")
	f.Add("grant_type=password&username=a&password=b", "")
	f.Add("grant_type=authorization_code&grant_type=refresh_token", "Bearer x")
	f.Add("%zz", "Basic !!!")
	f.Add("grant_type=refresh_token&refresh_token=a&client_secret=s", "Basic eDp5")
	f.Fuzz(func(t *testing.T, form, authorization string) {
		req := httptest.NewRequest(http.MethodPost, "/oauth/token", strings.NewReader(form))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		if authorization != "" {
			req.Header.Set("Authorization", authorization)
		}
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		if rec.Code == http.StatusOK {
			t.Fatalf("a fuzzed request got tokens: %s", rec.Body.String())
		}
		checkOAuthError(t, rec, -1)
	})
}
