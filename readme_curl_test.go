package oauthproxy_test

import (
	"encoding/json"
	"io"
	"net/http"
	"os"
	"strings"
	"testing"

	"github.com/oauthproxy-go/oauthproxy/internal/pkce"
	"github.com/oauthproxy-go/oauthproxy/oauthproxytest"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestREADME_CurlWalkthrough runs the README's "One flow with curl" as
// written: each curl command, with its method, path, headers and body, and
// the authorization URL it echoes, through a test browser; each answer must
// be the one the README describes.
func TestREADME_CurlWalkthrough(t *testing.T) {
	readme, err := os.ReadFile("README.md")
	require.NoError(t, err)
	_, block, ok := strings.Cut(string(readme), "### One flow with curl\n")
	require.True(t, ok)
	_, block, _ = strings.Cut(block, "```sh\n")
	block, _, _ = strings.Cut(block, "```")
	block = strings.ReplaceAll(block, "\\\n", " ")

	e := newEnv(t)
	verifier := pkce.GenerateVerifier()
	vars := map[string]string{"B": e.srv.URL, "VERIFIER": verifier, "CHALLENGE": pkce.Challenge(verifier)}
	expand := func(s string) string { return os.Expand(s, func(k string) string { return vars[k] }) }
	wantStatus := []int{http.StatusUnauthorized, http.StatusOK, http.StatusCreated, http.StatusOK, http.StatusOK, http.StatusOK}
	var calls int
	for _, line := range strings.Split(block, "\n") {
		line, _, _ = strings.Cut(line, " #")
		words := shellWords(t, line)
		switch {
		case len(words) > 1 && words[0] == "echo": // the authorization URL: the browser's part
			res, err := oauthproxytest.NewBrowser(t).Authorize(expand(words[1]))
			require.NoError(t, err)
			require.Equal(t, "xyz", res.State, res.Error)
			vars["CODE"] = res.Code
		case len(words) > 1 && words[0] == "curl":
			require.Less(t, calls, len(wantStatus), "more curl commands than the test knows answers for")
			status, body := runCurl(t, words[1:], expand)
			assert.Equal(t, wantStatus[calls], status, "%s: %s", line, body)
			calls++
			var answer map[string]any
			if json.Unmarshal([]byte(body), &answer) == nil {
				for k, name := range map[string]string{"client_id": "CLIENT_ID", "access_token": "ACCESS_TOKEN", "refresh_token": "REFRESH_TOKEN"} {
					if v, ok := answer[k].(string); ok && !strings.Contains(line, "/mcp") {
						vars[name] = v
					}
				}
			}
		}
	}
	assert.Equal(t, len(wantStatus), calls)
}

// runCurl sends what curl ARGS would (-H headers, -d data: POST, joined
// with & as curl does; -i ignored) and returns the status and body.
func runCurl(t *testing.T, args []string, expand func(string) string) (int, string) {
	t.Helper()
	header := http.Header{"Content-Type": {"application/x-www-form-urlencoded"}}
	var target string
	var data []string
	for i := 0; i < len(args); i++ {
		switch a := expand(args[i]); a {
		case "-i":
		case "-H":
			i++
			k, v, _ := strings.Cut(expand(args[i]), ": ")
			header.Set(k, v)
		case "-d":
			i++
			data = append(data, expand(args[i]))
		default:
			target = a
		}
	}
	method, body := http.MethodGet, io.Reader(nil)
	if data != nil {
		method, body = http.MethodPost, strings.NewReader(strings.Join(data, "&"))
	}
	req, err := http.NewRequest(method, target, body)
	require.NoError(t, err)
	req.Header = header
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// shellWords splits a command line as sh does for the quoting the README
// uses: single quotes literal, double quotes grouping, blanks separating.
func shellWords(t *testing.T, line string) []string {
	var words []string
	var cur strings.Builder
	inWord, quote := false, rune(0)
	for _, r := range line {
		switch {
		case quote != 0 && r == quote:
			quote = 0
		case quote != 0:
			cur.WriteRune(r)
		case r == '\'' || r == '"':
			quote, inWord = r, true
		case r == ' ' || r == '\t':
			if inWord {
				words, inWord = append(words, cur.String()), false
				cur.Reset()
			}
		default:
			cur.WriteRune(r)
			inWord = true
		}
	}
	require.Zero(t, quote, "unbalanced quote in %q", line)
	if inWord {
		words = append(words, cur.String())
	}
	return words
}
