package httpx

import (
	"html"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
)

// Redirect answers exactly as http.Redirect does: status, headers and body,
// for the proxy's absolute URLs and for anything else.
func TestRedirect_SameAnswerAsNetHTTP(t *testing.T) {
	urls := []string{
		"https://proxy.example/oauth/consent?txn=abc",
		"http://127.0.0.1:8123/callback?code=x&state=%3Cs%3E&iss=https%3A%2F%2Fp",
		`https://a.example/cb?q=<script>"'&amp;`,
		"https://ü.example/cb",
		"/relative/path?x=1",
		"relative",
		"com.example.app:/oauth/cb?code=1",
		"",
	}
	for _, url := range urls {
		for _, method := range []string{http.MethodGet, http.MethodHead, http.MethodPost} {
			for _, code := range []int{http.StatusFound, http.StatusSeeOther} {
				for _, presetCT := range []bool{false, true} {
					want, got := httptest.NewRecorder(), httptest.NewRecorder()
					if presetCT {
						want.Header().Set("Content-Type", "application/json")
						got.Header().Set("Content-Type", "application/json")
					}
					r := httptest.NewRequest(method, "https://proxy.example/oauth/authorize?x=1", nil)
					http.Redirect(want, r, url, code)
					Redirect(got, r, url, code)
					assert.Equal(t, want.Code, got.Code, url)
					assert.Equal(t, want.Header(), got.Header(), "%s %s %d", method, url, code)
					assert.Equal(t, want.Body.String(), got.Body.String(), "%s %s %d", method, url, code)
				}
			}
		}
	}
}

func TestAppendHTMLEscaped_AsEscapeString(t *testing.T) {
	for _, s := range []string{"", "plain", `<>&'"`, "a&b=c&d=<e>", "ü&\x00'\"x", strings.Repeat("&a", 300)} {
		assert.Equal(t, html.EscapeString(s), string(appendHTMLEscaped(nil, s)), s)
	}
}
