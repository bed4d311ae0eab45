package oauthproxy_test

import (
	"encoding/base64"
	"encoding/json"
	"html"
	"html/template"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/oauthproxy-go/oauthproxy/internal/pkce"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// Tests for SECURITY.md S21: text the proxy shows or sends is clean.

// s21Hostile are request values an attacker chooses: markup, quoting,
// control characters, bidi controls, non-ASCII and sheer length.
var s21Hostile = []struct{ name, value string }{
	{"markup", `<img/src=x/onerror=alert(1)>`},
	{"quotes and backslashes", `"quoted" it's \back\slash\`},
	{"control characters", "ctl\x00\x07\x1b[31m\r\nSet-Cookie: x=1\x7f"},
	{"bidi and invisible", "evil\u202Egnp.exe\u2066x\u2069\u061C\u200F\u200B"},
	{"non-ASCII", "naïve-日本-ßcope-é"},
	{"very long", strings.Repeat(`<A"`, 4000)},
}

// s21Env is one proxy with the clients and browser the cases share.
type s21Env struct {
	*env
	b         *secBrowser
	basic     registered // confidential, client_secret_basic
	public    registered // public, none
	challenge string     // a valid S256 code_challenge
}

// s21Case is one error path: run sends the hostile value h where the path
// reads input and returns every response it got. upstreamText marks paths
// that relay the upstream's error text, sanitized (S18), by design.
type s21Case struct {
	name         string
	upstreamText bool
	run          func(t *testing.T, s *s21Env, h string) []secHop
}

// s21Request sends one request through the env's browser (no redirects
// followed), with a form or JSON body when body is set.
func (s *s21Env) request(t *testing.T, method, path, contentType, body string, header http.Header) secHop {
	t.Helper()
	req, err := http.NewRequest(method, s.srv.URL+path, strings.NewReader(body))
	require.NoError(t, err)
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	for k, vs := range header {
		req.Header[k] = vs
	}
	return s.b.do(req)
}

// page fetches a browser-facing URL twice: as a person (HTML error page) and
// as a client that asks for JSON (RFC 6749 §5.2 body).
func (s *s21Env) page(t *testing.T, method, path, contentType, body string) []secHop {
	t.Helper()
	return []secHop{
		s.request(t, method, path, contentType, body, nil),
		s.request(t, method, path, contentType, body, http.Header{"Accept": {"application/json"}}),
	}
}

func (s *s21Env) authorize(t *testing.T, set map[string]string) []secHop {
	t.Helper()
	q := authorizeParams(s.public, s.challenge)
	for k, v := range set {
		q.Set(k, v)
	}
	return s.page(t, http.MethodGet, "/oauth/authorize?"+q.Encode(), "", "")
}

func (s *s21Env) register(t *testing.T, md map[string]any) []secHop {
	t.Helper()
	full := map[string]any{"redirect_uris": []string{clientRedirect}, "token_endpoint_auth_method": "none"}
	for k, v := range md {
		full[k] = v
	}
	b, err := json.Marshal(full)
	require.NoError(t, err)
	return []secHop{s.request(t, http.MethodPost, "/oauth/register", "application/json", string(b), nil)}
}

func (s *s21Env) form(t *testing.T, path string, form url.Values, header http.Header) []secHop {
	t.Helper()
	return []secHop{s.request(t, http.MethodPost, path, "application/x-www-form-urlencoded", form.Encode(), header)}
}

// basicAuth is an Authorization header for id and secret (RFC 6749 §2.3.1).
func basicAuth(id, secret string) http.Header {
	raw := url.QueryEscape(id) + ":" + url.QueryEscape(secret)
	return http.Header{"Authorization": {"Basic " + base64.StdEncoding.EncodeToString([]byte(raw))}}
}

// headerSafe drops what net/http refuses to send in a header value (control
// characters), keeping the rest of h.
func headerSafe(h string) string {
	return strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f {
			return -1
		}
		return r
	}, h)
}

// repeated is a query or form body that sends a parameter named h twice.
func repeated(h string) string {
	k := url.QueryEscape(h)
	return k + "=1&" + k + "=2"
}

var s21Cases = []s21Case{
	// /authorize, errors redirected to the client (RFC 6749 §4.1.2.1).
	{name: "authorize scope", run: func(t *testing.T, s *s21Env, h string) []secHop {
		return s.authorize(t, map[string]string{"scope": h})
	}},
	{name: "authorize response_type", run: func(t *testing.T, s *s21Env, h string) []secHop {
		return s.authorize(t, map[string]string{"response_type": h})
	}},
	{name: "authorize code_challenge_method", run: func(t *testing.T, s *s21Env, h string) []secHop {
		return s.authorize(t, map[string]string{"code_challenge_method": h})
	}},
	{name: "authorize code_challenge", run: func(t *testing.T, s *s21Env, h string) []secHop {
		return s.authorize(t, map[string]string{"code_challenge": h})
	}},
	{name: "authorize resource", run: func(t *testing.T, s *s21Env, h string) []secHop {
		return s.authorize(t, map[string]string{"resource": h})
	}},
	// /authorize, errors shown and never redirected.
	{name: "authorize redirect_uri", run: func(t *testing.T, s *s21Env, h string) []secHop {
		return s.authorize(t, map[string]string{"redirect_uri": h})
	}},
	{name: "authorize client_id", run: func(t *testing.T, s *s21Env, h string) []secHop {
		return s.authorize(t, map[string]string{"client_id": h})
	}},
	{name: "authorize metadata document client_id", run: func(t *testing.T, s *s21Env, h string) []secHop {
		return s.authorize(t, map[string]string{"client_id": "https://127.0.0.1/" + h})
	}},
	{name: "authorize repeated parameter", run: func(t *testing.T, s *s21Env, h string) []secHop {
		q := authorizeParams(s.public, s.challenge).Encode() + "&" + repeated(h)
		return s.page(t, http.MethodGet, "/oauth/authorize?"+q, "", "")
	}},
	// /register (RFC 7591 §3.2.2).
	{name: "register redirect_uris", run: func(t *testing.T, s *s21Env, h string) []secHop {
		return s.register(t, map[string]any{"redirect_uris": []string{h}})
	}},
	{name: "register redirect_uris after a good one", run: func(t *testing.T, s *s21Env, h string) []secHop {
		return s.register(t, map[string]any{"redirect_uris": []string{clientRedirect, "http://127.0.0.1:" + h + "/cb"}})
	}},
	{name: "register client_uri", run: func(t *testing.T, s *s21Env, h string) []secHop {
		return s.register(t, map[string]any{"client_uri": h})
	}},
	{name: "register logo_uri with a foreign scheme", run: func(t *testing.T, s *s21Env, h string) []secHop {
		return s.register(t, map[string]any{"logo_uri": "gopher://example.com/" + url.PathEscape(h)})
	}},
	{name: "register token_endpoint_auth_method", run: func(t *testing.T, s *s21Env, h string) []secHop {
		return s.register(t, map[string]any{"token_endpoint_auth_method": h})
	}},
	{name: "register grant_types", run: func(t *testing.T, s *s21Env, h string) []secHop {
		return s.register(t, map[string]any{"grant_types": []string{"authorization_code", h}})
	}},
	{name: "register response_types", run: func(t *testing.T, s *s21Env, h string) []secHop {
		return s.register(t, map[string]any{"response_types": []string{h}})
	}},
	{name: "register scope", run: func(t *testing.T, s *s21Env, h string) []secHop {
		return s.register(t, map[string]any{"scope": h})
	}},
	{name: "register client_name", run: func(t *testing.T, s *s21Env, h string) []secHop {
		return s.register(t, map[string]any{"client_name": h + "\u202E"})
	}},
	{name: "register field of the wrong type", run: func(t *testing.T, s *s21Env, h string) []secHop {
		return s.register(t, map[string]any{"client_name": map[string]any{h: h}})
	}},
	{name: "register body not JSON", run: func(t *testing.T, s *s21Env, h string) []secHop {
		return []secHop{s.request(t, http.MethodPost, "/oauth/register", "application/json", h, nil)}
	}},
	// /token (RFC 6749 §5.2).
	{name: "token grant_type", run: func(t *testing.T, s *s21Env, h string) []secHop {
		return s.form(t, "/oauth/token", url.Values{"grant_type": {h}}, basicAuth(s.basic.ID, s.basic.Secret))
	}},
	{name: "token code and code_verifier", run: func(t *testing.T, s *s21Env, h string) []secHop {
		f := url.Values{"grant_type": {"authorization_code"}, "code": {h}, "code_verifier": {h}, "redirect_uri": {h}}
		return s.form(t, "/oauth/token", f, basicAuth(s.basic.ID, s.basic.Secret))
	}},
	{name: "token redirect_uri for a real code", run: func(t *testing.T, s *s21Env, h string) []secHop {
		code, verifier := s.code(s.basic)
		f := url.Values{"grant_type": {"authorization_code"}, "code": {code}, "code_verifier": {verifier}, "redirect_uri": {h}}
		return s.form(t, "/oauth/token", f, basicAuth(s.basic.ID, s.basic.Secret))
	}},
	{name: "token refresh_token", run: func(t *testing.T, s *s21Env, h string) []secHop {
		f := url.Values{"grant_type": {"refresh_token"}, "refresh_token": {h}}
		return s.form(t, "/oauth/token", f, basicAuth(s.basic.ID, s.basic.Secret))
	}},
	{name: "token scope and resource on refresh", run: func(t *testing.T, s *s21Env, h string) []secHop {
		rt := s.secTokens(s.basic).str("refresh_token")
		scope := url.Values{"grant_type": {"refresh_token"}, "refresh_token": {rt}, "scope": {h}}
		resource := url.Values{"grant_type": {"refresh_token"}, "refresh_token": {rt}, "resource": {h}}
		return append(s.form(t, "/oauth/token", scope, basicAuth(s.basic.ID, s.basic.Secret)),
			s.form(t, "/oauth/token", resource, basicAuth(s.basic.ID, s.basic.Secret))...)
	}},
	{name: "token client_id in the body", run: func(t *testing.T, s *s21Env, h string) []secHop {
		return s.form(t, "/oauth/token", url.Values{"grant_type": {"refresh_token"}, "refresh_token": {"x"}, "client_id": {h}}, nil)
	}},
	{name: "token Basic credentials", run: func(t *testing.T, s *s21Env, h string) []secHop {
		f := url.Values{"grant_type": {"refresh_token"}, "refresh_token": {"x"}}
		return append(s.form(t, "/oauth/token", f, basicAuth(h, h)),
			s.form(t, "/oauth/token", f, http.Header{"Authorization": {headerSafe("Basic " + h)}})...)
	}},
	{name: "token client_secret in the body", run: func(t *testing.T, s *s21Env, h string) []secHop {
		f := url.Values{"grant_type": {"refresh_token"}, "refresh_token": {"x"}, "client_id": {s.basic.ID}, "client_secret": {h}}
		return s.form(t, "/oauth/token", f, nil)
	}},
	{name: "token repeated parameter", run: func(t *testing.T, s *s21Env, h string) []secHop {
		return []secHop{s.request(t, http.MethodPost, "/oauth/token", "application/x-www-form-urlencoded", repeated(h), nil)}
	}},
	// /revoke (RFC 7009 §2.2.1).
	{name: "revoke client_id", run: func(t *testing.T, s *s21Env, h string) []secHop {
		return s.form(t, "/oauth/revoke", url.Values{"token": {h}, "token_type_hint": {h}, "client_id": {h}}, nil)
	}},
	{name: "revoke repeated parameter", run: func(t *testing.T, s *s21Env, h string) []secHop {
		return []secHop{s.request(t, http.MethodPost, "/oauth/revoke", "application/x-www-form-urlencoded", repeated(h), nil)}
	}},
	// The consent page and its form.
	{name: "consent page txn", run: func(t *testing.T, s *s21Env, h string) []secHop {
		return s.page(t, http.MethodGet, "/oauth/consent?"+url.Values{"txn": {h}}.Encode(), "", "")
	}},
	{name: "consent decision action", run: func(t *testing.T, s *s21Env, h string) []secHop {
		return s.page(t, http.MethodPost, "/oauth/consent", "application/x-www-form-urlencoded",
			url.Values{"action": {h}, "txn": {h}, "csrf_token": {h}}.Encode())
	}},
	{name: "consent decision txn and csrf_token", run: func(t *testing.T, s *s21Env, h string) []secHop {
		return s.page(t, http.MethodPost, "/oauth/consent", "application/x-www-form-urlencoded",
			url.Values{"action": {"approve"}, "txn": {h}, "csrf_token": {h}}.Encode())
	}},
	{name: "consent decision repeated parameter", run: func(t *testing.T, s *s21Env, h string) []secHop {
		return s.page(t, http.MethodPost, "/oauth/consent", "application/x-www-form-urlencoded", repeated(h))
	}},
	// The upstream's callback.
	{name: "callback state", run: func(t *testing.T, s *s21Env, h string) []secHop {
		return s.page(t, http.MethodGet, "/oauth/callback?"+url.Values{"state": {h}, "code": {h}}.Encode(), "", "")
	}},
	{name: "callback upstream authorization error", upstreamText: true, run: func(t *testing.T, s *s21Env, h string) []secHop {
		u, err := url.Parse(s.secCallbackURL(s.b, authorizeParams(s.public, s.challenge)))
		require.NoError(t, err)
		q := u.Query()
		q.Del("code")
		q.Set("error", h)
		q.Set("error_description", h)
		u.RawQuery = q.Encode()
		return []secHop{s.b.get(u.String())}
	}},
	{name: "callback upstream token error", upstreamText: true, run: func(t *testing.T, s *s21Env, h string) []secHop {
		callback := s.secCallbackURL(s.b, authorizeParams(s.public, s.challenge))
		body, err := json.Marshal(map[string]string{"error": h, "error_description": h})
		require.NoError(t, err)
		s.idp.FailNext(http.StatusBadRequest, string(body), "")
		return []secHop{s.b.get(callback)}
	}},
	// The bearer check (RFC 6750 §3).
	{name: "bearer token", run: func(t *testing.T, s *s21Env, h string) []secHop {
		return []secHop{s.request(t, http.MethodPost, "/mcp", "", "", http.Header{"Authorization": {headerSafe("Bearer " + h)}})}
	}},
}

// TestSecurity_S21_ErrorDescriptionsAreCleanAndNeverEchoInput drives every
// endpoint's error paths with hostile input and checks every
// error_description that comes back (JSON body, redirect, error page,
// WWW-Authenticate): only RFC 6749 NQSCHAR without < and >, and never the
// input, whole or with its unsafe characters stripped.
func TestSecurity_S21_ErrorDescriptionsAreCleanAndNeverEchoInput(t *testing.T) {
	for _, hv := range s21Hostile {
		t.Run(hv.name, func(t *testing.T) {
			e := newEnv(t, withCIMD(nil, false))
			s := &s21Env{
				env:       e,
				b:         newSecBrowser(t),
				basic:     e.register("client_secret_basic"),
				public:    e.register("none"),
				challenge: pkce.Challenge(pkce.GenerateVerifier()),
			}
			for _, tc := range s21Cases {
				t.Run(tc.name, func(t *testing.T) {
					hops := tc.run(t, s, hv.value)
					require.NotEmpty(t, hops)
					for _, h := range hops {
						s21RequireCleanError(t, h, hv.value, tc.upstreamText)
					}
				})
			}
		})
	}
}

var (
	s21PageDescription = regexp.MustCompile(`<p class="why">([^<]*)</p>`)
	s21PageCode        = regexp.MustCompile(`<dt>Error</dt><dd><code>([^<]+)</code>`)
	s21ChallengeDesc   = regexp.MustCompile(`error_description="([^"]*)"`)
	s21ChallengeError  = regexp.MustCompile(`error="([^"]+)"`)
)

// s21RequireCleanError checks that h is an error response and that every
// error_description it carries is clean and does not echo hostile.
func s21RequireCleanError(t *testing.T, h secHop, hostile string, upstreamText bool) {
	t.Helper()
	require.Less(t, h.Status, 500, "hostile input must not cause a server failure: %.300s", h.Body)
	var codes, descriptions []string
	if h.Location != nil {
		q := h.Location.Query()
		codes = append(codes, q.Get("error"))
		if q.Has("error_description") {
			descriptions = append(descriptions, q.Get("error_description"))
		}
	}
	switch ct := h.Header.Get("Content-Type"); {
	case strings.HasPrefix(ct, "application/json"):
		var body map[string]string
		require.NoError(t, json.Unmarshal([]byte(h.Body), &body), h.Body)
		codes = append(codes, body["error"])
		if d, ok := body["error_description"]; ok {
			descriptions = append(descriptions, d)
		}
	case strings.HasPrefix(ct, "text/html") && h.Location == nil: // a redirect's body is only a link
		m := s21PageCode.FindStringSubmatch(h.Body)
		require.NotNil(t, m, "an HTML answer must be the error page: %.300s", h.Body)
		codes = append(codes, m[1])
		if m := s21PageDescription.FindStringSubmatch(h.Body); m != nil {
			descriptions = append(descriptions, html.UnescapeString(m[1]))
		}
		assert.NotContains(t, h.Body, template.HTMLEscapeString(hostile), "the page shows the input")
	}
	if c := h.Header.Get("WWW-Authenticate"); strings.HasPrefix(c, "Bearer ") {
		if m := s21ChallengeError.FindStringSubmatch(c); m != nil {
			codes = append(codes, m[1])
		}
		if m := s21ChallengeDesc.FindStringSubmatch(c); m != nil {
			descriptions = append(descriptions, m[1])
		}
	}
	codes = nonEmpty(codes)
	require.NotEmpty(t, codes, "expected an OAuth error, got HTTP %d %v: %.300s", h.Status, h.Location, h.Body)
	require.NotEmpty(t, descriptions, "every error the proxy sends explains itself")

	stripped := s21Stripped(hostile)
	for _, d := range descriptions {
		for i := 0; i < len(d); i++ {
			c := d[i]
			require.True(t, c >= 0x20 && c <= 0x7e && c != '"' && c != '\\' && c != '<' && c != '>',
				"error_description %q has byte %#x outside NQSCHAR without < and > (RFC 6749 §5.2)", d, c)
		}
		assert.NotContains(t, d, hostile, "error_description echoes the input")
		if !upstreamText && len(stripped) >= 8 {
			// Relayed upstream text is sanitized prose (S18); the proxy's own
			// text quotes nothing, not even the input's safe characters.
			assert.NotContains(t, d, stripped, "error_description echoes the input's safe characters")
		}
	}
}

// s21Stripped is hostile with everything outside NQSCHAR-without-<> removed:
// what an echo would look like after a character filter.
func s21Stripped(hostile string) string {
	var b strings.Builder
	for i := 0; i < len(hostile) && b.Len() < 24; i++ {
		if c := hostile[i]; c >= 0x20 && c <= 0x7e && c != '"' && c != '\\' && c != '<' && c != '>' {
			b.WriteByte(c)
		}
	}
	return b.String()
}

func nonEmpty(in []string) []string {
	var out []string
	for _, s := range in {
		if s != "" {
			out = append(out, s)
		}
	}
	return out
}
