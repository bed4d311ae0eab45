package oauthproxy_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/oauthproxy-go/oauthproxy"
	"github.com/oauthproxy-go/oauthproxy/oauthproxytest"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// Tests for SECURITY.md S22: a numeric sub keeps its exact value.

// Two user ids that float64 cannot tell apart: 2^53 + 1 rounds to 2^53.
const (
	subAbove2p53 = "9007199254740993"
	sub2p53      = "9007199254740992"
)

// upstreamPlaceholder stands for the fake upstream in Config fields set
// before it runs; s22Transport sends its requests to the real one.
const upstreamPlaceholder = "127.0.0.1:9"

// s22Transport is the proxy's HTTP transport to the fake upstream. It sends
// requests for upstreamPlaceholder to the fake upstream, and with numericSub
// it rewrites the id_token of every token response so that its "sub" is the
// bare JSON number written in the fake's string sub, as an upstream with
// numeric ids would send it. The proxy reads the id_token it got straight
// from the token endpoint without checking its signature (OIDC Core
// §3.1.3.7 item 6), so the rewritten token is still accepted.
type s22Transport struct {
	inner      http.RoundTripper
	numericSub bool
	upstream   atomic.Pointer[string] // host:port of the fake upstream
}

func newS22Transport(t *testing.T, numericSub bool) *s22Transport {
	return &s22Transport{inner: ownHTTPClient(t).Transport, numericSub: numericSub}
}

// withS22Transport makes the proxy reach the upstream through tr.
func withS22Transport(tr *s22Transport) envOption {
	return withConfig(func(c *oauthproxy.Config) { c.HTTPClient = &http.Client{Transport: tr} })
}

func (s *s22Transport) RoundTrip(req *http.Request) (*http.Response, error) {
	if req.URL.Host == upstreamPlaceholder {
		req = req.Clone(req.Context())
		req.URL.Host = *s.upstream.Load()
		req.Host = ""
	}
	resp, err := s.inner.RoundTrip(req)
	if err != nil || !s.numericSub || !strings.HasSuffix(req.URL.Path, "/token") || resp.StatusCode != http.StatusOK {
		return resp, err
	}
	body, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil {
		return nil, err
	}
	var tok map[string]any
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	if err := dec.Decode(&tok); err == nil {
		if idToken, ok := tok["id_token"].(string); ok {
			if tok["id_token"], err = numericSub(idToken); err != nil {
				return nil, err
			}
			body, _ = json.Marshal(tok)
		}
	}
	resp.Body = io.NopCloser(bytes.NewReader(body))
	resp.ContentLength = int64(len(body))
	resp.Header.Del("Content-Length")
	return resp, nil
}

// numericSub turns the JWT's "sub":"<literal>" into "sub":<literal>.
func numericSub(jwt string) (string, error) {
	parts := strings.Split(jwt, ".")
	if len(parts) != 3 {
		return "", errors.New("id_token is not a JWT")
	}
	payload, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		return "", err
	}
	var claims map[string]json.RawMessage
	if err := json.Unmarshal(payload, &claims); err != nil {
		return "", err
	}
	var sub string
	if err := json.Unmarshal(claims["sub"], &sub); err != nil {
		return "", err
	}
	claims["sub"] = json.RawMessage(sub)
	if payload, err = json.Marshal(claims); err != nil {
		return "", err
	}
	parts[1] = base64.RawURLEncoding.EncodeToString(payload)
	return strings.Join(parts, "."), nil
}

// subjectOfLogin logs user in through e and returns the subject the proxy's
// access token carries and the one RequireBearer puts in the request
// context (ClaimsFromContext).
func subjectOfLogin(t *testing.T, e *env, user oauthproxytest.User) (tokenSub, contextSub string) {
	t.Helper()
	e.idp.SetUser(user)
	tok := e.secTokens(e.register("none"))
	access := tok.str("access_token")
	tokenSub, _ = secClaims(t, access)["sub"].(string)
	resp, claims := e.callMCP(access)
	require.Equal(t, http.StatusOK, resp.StatusCode)
	contextSub, _ = claims["Subject"].(string)
	return tokenSub, contextSub
}

// TestSecurity_S22_NumericSubjectKeepsItsExactValue: user ids 2^53+1 and 2^53
// sent as JSON numbers, in an id_token or as GitHub's userinfo id, stay two
// users with exactly their own digits, in the access token and in
// ClaimsFromContext; never one user through float64 rounding.
func TestSecurity_S22_NumericSubjectKeepsItsExactValue(t *testing.T) {
	for _, path := range []string{"id_token", "userinfo (GitHub id)"} {
		t.Run(path, func(t *testing.T) {
			tr := newS22Transport(t, path == "id_token")
			e := newEnv(t, withS22Transport(tr), func(c *oauthproxy.Config, o *oauthproxytest.Options) {
				if path != "id_token" {
					o.IssueIDToken = false
					o.GitHubAPI = true // GET /user answers {"id": <number>, …}
					c.UpstreamUserInfoEndpoint = "http://" + upstreamPlaceholder + "/user"
				}
			})
			host := strings.TrimPrefix(e.idp.URL(), "http://")
			tr.upstream.Store(&host)
			seen := map[string]bool{}
			for _, id := range []string{subAbove2p53, sub2p53} {
				tokenSub, contextSub := subjectOfLogin(t, e, oauthproxytest.User{Subject: id, Name: "User " + id, Login: "u" + id})
				assert.Equal(t, id, tokenSub, "access token sub")
				assert.Equal(t, id, contextSub, "ClaimsFromContext Subject")
				seen[contextSub] = true
			}
			assert.Len(t, seen, 2, "two users must stay two subjects")
		})
	}
}

// TestSecurity_S22_NumericSubjectInExoticFormRefused: a numeric sub that is
// not a plain integer (1e3, 1.0, -0, 1.5) has no single exact spelling, so the
// login is refused (server_error to the client) rather than guessed.
func TestSecurity_S22_NumericSubjectInExoticFormRefused(t *testing.T) {
	e := newEnv(t, withS22Transport(newS22Transport(t, true)))
	for _, literal := range []string{"1e3", "1.0", "-0", "1.5", "1E3", "-0.0"} {
		t.Run(literal, func(t *testing.T) {
			e.idp.SetUser(oauthproxytest.User{Subject: literal, Name: "x", Login: "x"})
			assert.Equal(t, "server_error", loginError(t, e))
		})
	}
	t.Run("plain integer accepted", func(t *testing.T) {
		tokenSub, _ := subjectOfLogin(t, e, oauthproxytest.User{Subject: "-42", Name: "x", Login: "x"})
		assert.Equal(t, "-42", tokenSub)
	})
}

// TestSecurity_S22_ExtractorNumericSubject: a ClaimsExtractor that returns a
// number keeps it exact when it can (Go integers, json.Number, float64 below
// 2^53) and is refused when a float64 may already have rounded.
func TestSecurity_S22_ExtractorNumericSubject(t *testing.T) {
	for _, tc := range []struct {
		name string
		sub  any
		want string // "" means the login is refused
	}{
		{"json.Number above 2^53", json.Number(subAbove2p53), subAbove2p53},
		{"int64 above 2^53", int64(9007199254740993), subAbove2p53},
		{"uint64", uint64(18446744073709551615), "18446744073709551615"},
		{"small float64", float64(12345), "12345"},
		{"float64 at 2^53 (may be 2^53+1 rounded)", float64(9007199254740992), ""},
		{"fractional float64", 1.5, ""},
		{"json.Number with exponent", json.Number("1e3"), ""},
		{"bool", true, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t, withConfig(func(c *oauthproxy.Config) {
				c.ClaimsExtractor = func(context.Context, *oauthproxy.UpstreamTokens) (map[string]any, error) {
					return map[string]any{"sub": tc.sub}, nil
				}
			}))
			if tc.want == "" {
				assert.Equal(t, "server_error", loginError(t, e))
				return
			}
			tok := e.secTokens(e.register("none"))
			assert.Equal(t, tc.want, secClaims(t, tok.str("access_token"))["sub"])
		})
	}
}
