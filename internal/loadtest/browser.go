package loadtest

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"fmt"
	"html"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"regexp"
	"strings"

	"github.com/oauthproxy-go/oauthproxy/internal/pkce"
)

// login is the browser's part of a flow: /authorize, then whatever pages and
// redirects follow (the consent page, the upstream, the callback) until the
// redirect to the client, which carries the code. Pages with a form are
// submitted as they are, choosing "approve". It returns the code and the
// PKCE verifier that redeems it.
func (r *runner) login(ctx context.Context, sh *shard, rec *recorder, clientID string) (code, verifier string, ok bool) {
	verifier = pkce.GenerateVerifier()
	state := randomState()
	q := url.Values{
		"response_type":         {"code"},
		"client_id":             {clientID},
		"redirect_uri":          {clientRedirect},
		"state":                 {state},
		"code_challenge":        {pkce.Challenge(verifier)},
		"code_challenge_method": {pkce.MethodS256},
	}
	jar, _ := cookiejar.New(nil) // a browser of its own: cookies bind the login (S09)
	browser := &http.Client{Transport: r.rt, Jar: jar, Timeout: r.http.Timeout, CheckRedirect: noRedirects}
	next, err := http.NewRequestWithContext(ctx, http.MethodGet, r.meta.Authorization+"?"+q.Encode(), nil)
	if err != nil {
		return "", "", false
	}
	for range 12 {
		resp, body, ok := r.call(browser, sh, rec, next, func(s int) bool { return s == http.StatusOK || isRedirect(s) })
		if !ok {
			return "", "", false
		}
		if isRedirect(resp.StatusCode) {
			loc, err := resp.Location()
			if err != nil {
				sh.fail(rec, "redirect", err)
				return "", "", false
			}
			if loc.Scheme+"://"+loc.Host+loc.Path == clientRedirect {
				back := loc.Query()
				switch {
				case back.Get("error") != "":
					sh.fail(rec, "authorization response", fmt.Errorf("%s: %s", back.Get("error"), back.Get("error_description")))
					return "", "", false
				case back.Get("state") != state || back.Get("code") == "":
					sh.fail(rec, "authorization response", fmt.Errorf("bad authorization response %s", loc.RawQuery))
					return "", "", false
				}
				return back.Get("code"), verifier, true
			}
			if next, err = http.NewRequestWithContext(ctx, http.MethodGet, loc.String(), nil); err != nil {
				return "", "", false
			}
			continue
		}
		form, err := approveForm(resp.Request.URL, string(body))
		if err != nil {
			sh.fail(rec, r.label(resp.Request), err)
			return "", "", false
		}
		if next, err = http.NewRequestWithContext(ctx, http.MethodPost, form.action, strings.NewReader(form.values.Encode())); err != nil {
			return "", "", false
		}
		next.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	sh.fail(rec, "login", fmt.Errorf("no redirect to the client after 12 steps"))
	return "", "", false
}

func isRedirect(status int) bool {
	switch status {
	case http.StatusMovedPermanently, http.StatusFound, http.StatusSeeOther, http.StatusTemporaryRedirect:
		return true
	}
	return false
}

var (
	formTag  = regexp.MustCompile(`(?is)<form\b[^>]*>`)
	fieldTag = regexp.MustCompile(`(?is)<(?:input|button)\b[^>]*>`)
	attrRE   = regexp.MustCompile(`(?is)([a-z_-]+)\s*=\s*"([^"]*)"`)
)

type htmlForm struct {
	action string
	values url.Values
}

// approveForm reads the first form of page: its action, its hidden fields,
// and the submit button whose value is "approve".
func approveForm(page *url.URL, body string) (*htmlForm, error) {
	tag := formTag.FindString(body)
	if tag == "" {
		return nil, fmt.Errorf("a page without a form: %.200s", body)
	}
	attrs := attributes(tag)
	action, err := page.Parse(attrs["action"])
	if err != nil {
		return nil, fmt.Errorf("form action %q: %w", attrs["action"], err)
	}
	f := &htmlForm{action: action.String(), values: url.Values{}}
	for _, field := range fieldTag.FindAllString(body, -1) {
		a := attributes(field)
		switch {
		case strings.EqualFold(a["type"], "hidden"):
			f.values.Set(a["name"], a["value"])
		case a["name"] != "" && a["value"] == "approve":
			f.values.Set(a["name"], a["value"])
		}
	}
	return f, nil
}

func attributes(tag string) map[string]string {
	out := map[string]string{}
	for _, m := range attrRE.FindAllStringSubmatch(tag, -1) {
		out[strings.ToLower(m[1])] = html.UnescapeString(m[2])
	}
	return out
}

func randomState() string {
	b := make([]byte, 12)
	_, _ = rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}
