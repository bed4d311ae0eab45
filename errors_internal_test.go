package oauthproxy

import (
	"encoding/json"
	"html"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestPublicDescription(t *testing.T) {
	for _, tt := range []struct{ in, want string }{
		{"", ""},
		{"code is invalid, expired or already used", "code is invalid, expired or already used"},
		{"all of NQSCHAR: !#$%&'()*+,-./09:;=?@AZ[]^_`az{|}~", "all of NQSCHAR: !#$%&'()*+,-./09:;=?@AZ[]^_`az{|}~"},
		{`scope "<img/src=x>" \n`, `scope ??img/src=x?? ?n`},
		{"line\r\nbreak\ttab\x00\x7f", "line??break?tab??"},
		{"bidi\u202Eabc\u200B", "bidi?abc?"},
		{"naïve 日本", "na?ve ??"},
		{"bad\xffutf8", "bad?utf8"},
	} {
		assert.Equal(t, tt.want, publicDescription(tt.in), "publicDescription(%q)", tt.in)
	}
}

// TestSecurity_S21_EveryWirePathCleansDescriptions: whatever Description an
// Error carries (a future message, or one a caller built), the JSON body, the
// error redirect, the error page and the Bearer challenge send only NQSCHAR
// without < and > (RFC 6749 §5.2, §4.1.2.1; RFC 6750 §3).
func TestSecurity_S21_EveryWirePathCleansDescriptions(t *testing.T) {
	const dirty = "bad \"<script>alert(1)</script>\" \\ \r\n\u202Eé"
	p, err := New(Config{
		BaseURL:                       "http://127.0.0.1:8080",
		UpstreamAuthorizationEndpoint: "http://127.0.0.1:9/authorize",
		UpstreamTokenEndpoint:         "http://127.0.0.1:9/token",
		UpstreamClientID:              "upstream",
		UpstreamClientSecret:          "secret",
		Logger:                        slog.New(slog.NewTextHandler(io.Discard, nil)),
	})
	require.NoError(t, err)
	t.Cleanup(p.Destroy)
	e := newError(ErrCodeInvalidRequest, dirty)
	want := publicDescription(dirty)
	require.NotEqual(t, dirty, want)
	req := httptest.NewRequest(http.MethodGet, "/oauth/authorize", nil)

	t.Run("JSON body", func(t *testing.T) {
		w := httptest.NewRecorder()
		p.writeError(w, req, e)
		var body map[string]string
		require.NoError(t, json.Unmarshal(w.Body.Bytes(), &body))
		assert.Equal(t, want, body["error_description"])
	})
	t.Run("error redirect", func(t *testing.T) {
		u, err := url.Parse(p.errorRedirectURL("http://127.0.0.1:9/cb", "st", e))
		require.NoError(t, err)
		assert.Equal(t, want, u.Query().Get("error_description"))
		assert.Equal(t, ErrCodeInvalidRequest, u.Query().Get("error"))
	})
	t.Run("error page", func(t *testing.T) {
		w := httptest.NewRecorder()
		p.writeBrowserError(w, req, e)
		m := regexp.MustCompile(`<p class="why">([^<]*)</p>`).FindStringSubmatch(w.Body.String())
		require.NotNil(t, m, w.Body.String())
		assert.Equal(t, sentence(want), html.UnescapeString(m[1]))
	})
	t.Run("Bearer challenge", func(t *testing.T) {
		w := httptest.NewRecorder()
		p.challenge(w, http.StatusUnauthorized, ErrCodeInvalidToken, dirty, "")
		c := w.Header().Get("WWW-Authenticate")
		assert.Contains(t, c, `error_description="`+want+`"`)
		assert.Equal(t, 1, strings.Count(c, "error_description="))
		var body map[string]string
		require.NoError(t, json.Unmarshal(w.Body.Bytes(), &body))
		assert.Equal(t, want, body["error_description"])
	})
}
