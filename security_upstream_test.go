package oauthproxy_test

// Security tests for S18: upstream errors reach the client sanitized.

import (
	"net/http"
	"net/url"
	"testing"
	"time"

	"github.com/oauthproxy-go/oauthproxy"
	"github.com/oauthproxy-go/oauthproxy/internal/pkce"
	"github.com/oauthproxy-go/oauthproxy/oauthproxytest"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// ---------------------------------------------------------------------------
// S18 upstream errors

// secAuthzErrorCodes are the codes an authorization error response may
// carry (RFC 6749 §4.1.2.1).
var secAuthzErrorCodes = []string{
	"invalid_request", "unauthorized_client", "access_denied", "unsupported_response_type",
	"invalid_scope", "server_error", "temporarily_unavailable",
}

func TestSecurity_S18_UpstreamErrorsReachClientSanitized(t *testing.T) {
	for _, tc := range []struct {
		name       string
		opts       []envOption
		before     func(e *env)
		wantErrors []string
	}{
		{
			name:       "upstream denies",
			opts:       []envOption{withIdP(func(o *oauthproxytest.Options) { o.DenyAuthorization = true })},
			wantErrors: []string{"access_denied"},
		},
		{
			name: "upstream token endpoint refuses",
			before: func(e *env) {
				e.idp.FailNext(http.StatusBadRequest,
					`{"error":"invalid_grant","error_description":"secret upstream-secret <script>"}`, "")
			},
			wantErrors: secAuthzErrorCodes,
		},
		{
			name: "upstream token endpoint sends a made-up error code",
			before: func(e *env) {
				e.idp.FailNext(http.StatusBadRequest, `{"error":"<script>alert(1)</script>"}`, "")
			},
			wantErrors: secAuthzErrorCodes,
		},
		{
			name: "upstream 500",
			before: func(e *env) {
				e.idp.FailNext(http.StatusInternalServerError, "upstream-secret stack trace", "text/plain")
			},
			wantErrors: []string{"server_error", "temporarily_unavailable"},
		},
		{
			name:       "upstream hangs",
			opts:       []envOption{withConfig(func(c *oauthproxy.Config) { c.HTTPClient = &http.Client{Timeout: 200 * time.Millisecond} })},
			before:     func(e *env) { e.idp.HangNext(nil) },
			wantErrors: []string{"temporarily_unavailable"},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t, tc.opts...)
			c := e.register("none")
			if tc.before != nil {
				tc.before(e)
			}
			loc := e.login(e.browser(), authorizeParams(c, pkce.Challenge(pkce.GenerateVerifier())))
			got := *loc
			got.RawQuery = ""
			assert.Equal(t, clientRedirect, got.String(), "errors go to the client's validated redirect URI")
			q := loc.Query()
			assert.Contains(t, tc.wantErrors, q.Get("error"))
			assert.Equal(t, "client-state-123", q.Get("state"))
			assert.Equal(t, e.srv.URL, q.Get("iss"))
			assert.Empty(t, q.Get("code"))
			for _, leak := range []string{"upstream-secret", "<script>"} {
				assert.NotContains(t, loc.RawQuery, url.QueryEscape(leak), "leaked %q", leak)
				assert.NotContains(t, q.Get("error_description"), leak, "leaked %q", leak)
			}
		})
	}
}

func TestSecurity_S18_UpstreamAuthorizationErrorIsSanitized(t *testing.T) {
	e := newEnv(t)
	c := e.register("none")
	for _, tc := range []struct {
		name, code, description, wantError string
	}{
		{"markup in the description", "access_denied", `denied <script>alert("x")</script>`, "access_denied"},
		{"made-up error code", "<script>alert(1)</script>", "", "server_error"},
		{"token-endpoint error code", "invalid_grant", "", "server_error"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b := newSecBrowser(t)
			cb, err := url.Parse(e.secCallbackURL(b, authorizeParams(c, pkce.Challenge(pkce.GenerateVerifier()))))
			require.NoError(t, err)
			// The upstream answers with an error instead of a code (RFC 6749 §4.1.2.1).
			q := url.Values{"state": {cb.Query().Get("state")}, "error": {tc.code}}
			if tc.description != "" {
				q.Set("error_description", tc.description)
			}
			cb.RawQuery = q.Encode()

			got := secClientRedirect(t, b.get(cb.String()), clientRedirect)
			assert.Equal(t, tc.wantError, got.Get("error"))
			assert.Equal(t, "client-state-123", got.Get("state"))
			assert.Equal(t, e.srv.URL, got.Get("iss"))
			assert.Empty(t, got.Get("code"))
			assert.NotContains(t, got.Get("error_description"), "<script>")
			assert.NotContains(t, got.Get("error_description"), `"`)
		})
	}
}
