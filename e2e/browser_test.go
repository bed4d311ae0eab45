package e2e

import (
	"context"
	"errors"
	"fmt"
	"html"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// clientRedirectURI is the MCP clients' loopback redirect URI. Nothing
// listens there: the browser stops at the redirect and reads the response
// from it, as the client's own listener would.
const clientRedirectURI = "http://127.0.0.1:53682/callback"

// browser plays the user with a cookie jar: it opens the authorization URL
// and approves each form it is shown (the proxy's consent page, then the
// upstream's login page), following redirects until the client's redirect
// URI.
type browser struct {
	http      *http.Client
	pages     []string   // forms it approved: "consent", "login"
	authQuery url.Values // the query of the authorization URL it was given
	iss       string     // the iss of the authorization response (RFC 9207)
}

func newBrowser(t *testing.T) *browser {
	t.Helper()
	jar, err := cookiejar.New(nil)
	require.NoError(t, err)
	b := &browser{http: loopbackClient(jar)}
	b.http.CheckRedirect = func(req *http.Request, via []*http.Request) error {
		if isClientRedirect(req.URL) {
			return http.ErrUseLastResponse // the client's loopback listener takes over here
		}
		if len(via) >= 10 {
			return errors.New("too many redirects")
		}
		return nil
	}
	t.Cleanup(b.http.CloseIdleConnections)
	return b
}

func isClientRedirect(u *url.URL) bool {
	return u.Scheme+"://"+u.Host+u.Path == clientRedirectURI
}

var (
	formRE   = regexp.MustCompile(`(?is)<form\b([^>]*)>(.*?)</form>`)
	inputRE  = regexp.MustCompile(`(?is)<(input|button)\b([^>]*)>`)
	attrRE   = regexp.MustCompile(`(?is)([a-z_-]+)(?:\s*=\s*"([^"]*)")?`)
	approves = map[string]bool{"approve": true, "allow": true}
)

// authorize opens authURL and approves every form until the browser is sent
// to the client's redirect URI, and returns that redirect's query. An error
// response (RFC 6749 §4.1.2.1) is returned as an error.
func (b *browser) authorize(ctx context.Context, authURL string) (url.Values, error) {
	u, err := url.Parse(authURL)
	if err != nil {
		return nil, err
	}
	b.authQuery = u.Query()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, authURL, nil)
	if err != nil {
		return nil, err
	}
	for range 5 {
		resp, err := b.http.Do(req)
		if err != nil {
			return nil, err
		}
		page, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		if err != nil {
			return nil, err
		}
		if loc, err := resp.Location(); err == nil && isClientRedirect(loc) {
			q := loc.Query()
			b.iss = q.Get("iss")
			if q.Get("error") != "" {
				return nil, fmt.Errorf("authorization failed: %s: %s", q.Get("error"), q.Get("error_description"))
			}
			return q, nil
		}
		if resp.StatusCode != http.StatusOK {
			return nil, fmt.Errorf("GET %s: status %d:\n%s", resp.Request.URL, resp.StatusCode, page)
		}
		action, fields, err := approveForm(page)
		if err != nil {
			return nil, fmt.Errorf("page %s: %w", resp.Request.URL, err)
		}
		target, err := resp.Request.URL.Parse(action)
		if err != nil {
			return nil, err
		}
		switch {
		case fields.Has("txn") && fields.Has("csrf_token"):
			b.pages = append(b.pages, "consent")
		case fields.Has("login"):
			b.pages = append(b.pages, "login")
		default:
			return nil, fmt.Errorf("unexpected form %s with fields %v", target, fields)
		}
		req, err = http.NewRequestWithContext(ctx, http.MethodPost, target.String(), strings.NewReader(fields.Encode()))
		if err != nil {
			return nil, err
		}
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	return nil, errors.New("the authorization flow did not reach the client's redirect URI")
}

// approveForm reads the page's form as a browser would submit it with its
// approve button: hidden inputs, checked boxes at their defaults, and the
// button's own name and value.
func approveForm(page []byte) (action string, fields url.Values, err error) {
	form := formRE.FindSubmatch(page)
	if form == nil {
		return "", nil, errors.New("no form")
	}
	formAttrs := attrs(form[1])
	fields = url.Values{}
	approved := false
	for _, m := range inputRE.FindAllSubmatch(form[2], -1) {
		a := attrs(m[2])
		name := a["name"]
		if name == "" {
			continue
		}
		switch typ := strings.ToLower(a["type"]); {
		case strings.EqualFold(string(m[1]), "button") || typ == "submit":
			if approves[strings.ToLower(a["value"])] {
				fields.Set(name, a["value"])
				approved = true
			}
		case typ == "hidden":
			fields.Add(name, a["value"])
		case typ == "checkbox" || typ == "radio":
			if _, checked := a["checked"]; checked {
				fields.Add(name, a["value"])
			}
		}
	}
	if !approved {
		return "", nil, errors.New("no approve button")
	}
	return formAttrs["action"], fields, nil
}

func attrs(tag []byte) map[string]string {
	out := map[string]string{}
	for _, m := range attrRE.FindAllSubmatch(tag, -1) {
		out[strings.ToLower(string(m[1]))] = html.UnescapeString(string(m[2]))
	}
	return out
}
