package providers

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"net/http"
	"net/url"

	"github.com/oauthproxy-go/oauthproxy"
	"github.com/oauthproxy-go/oauthproxy/internal/redirecturi"
)

// maxDocumentSize caps what a preset reads from a provider: discovery
// documents, userinfo and GitHub API answers are a few KiB.
const maxDocumentSize = 256 << 10

// fill sets *field to v unless the caller already set it: a preset only fills
// in what was left empty.
func fill(field *string, v string) {
	if *field == "" {
		*field = v
	}
}

// fillScopes sets the default scopes unless the caller chose some.
func fillScopes(cfg *oauthproxy.Config, scopes ...string) {
	if len(cfg.Scopes) == 0 {
		cfg.Scopes = scopes
	}
}

// addAuthorizationParams adds params to the upstream authorization request,
// keeping any value the caller set for the same name. The caller's map is
// copied, not changed.
func addAuthorizationParams(cfg *oauthproxy.Config, params map[string]string) {
	merged := maps.Clone(params)
	maps.Copy(merged, cfg.ExtraAuthorizationParams)
	cfg.ExtraAuthorizationParams = merged
}

// httpClient returns the client the preset's claims extractor shares with the
// proxy, setting the proxy's default (DefaultHTTPTimeout) when there is none.
func httpClient(cfg *oauthproxy.Config) *http.Client {
	if cfg.HTTPClient == nil {
		cfg.HTTPClient = &http.Client{Timeout: oauthproxy.DefaultHTTPTimeout}
	}
	return cfg.HTTPClient
}

// checkURL requires an absolute http(s) URL without query or fragment, https
// unless the host is loopback (RFC 8414 §2, OAuth 2.1 §1.5).
func checkURL(name, raw string) error {
	u, err := url.Parse(raw)
	switch {
	case raw == "":
		return fmt.Errorf("%s is missing", name)
	case err != nil:
		return fmt.Errorf("%s: %w", name, err)
	case !u.IsAbs() || u.Host == "" || u.User != nil:
		return fmt.Errorf("%s %q must be an absolute URL without userinfo", name, raw)
	case u.Scheme == "http" && !redirecturi.IsLoopbackHost(u.Hostname()):
		return fmt.Errorf("%s %q must use https (http is allowed only on loopback)", name, raw)
	case u.Scheme != "https" && u.Scheme != "http":
		return fmt.Errorf("%s %q must be an https URL", name, raw)
	case u.Fragment != "":
		return fmt.Errorf("%s %q must not have a fragment", name, raw)
	}
	return nil
}

// errStatus is a provider's answer other than 200 OK.
type errStatus struct {
	url    string
	status int
}

func (e *errStatus) Error() string { return fmt.Sprintf("GET %s: HTTP %d", e.url, e.status) }

// getJSON GETs u with the given headers and decodes a JSON answer of at most
// maxDocumentSize into v. Numbers decode as json.Number when v is a map.
func getJSON(ctx context.Context, client *http.Client, u string, header http.Header, v any) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return err
	}
	req.Header = header.Clone()
	if req.Header == nil {
		req.Header = http.Header{}
	}
	if req.Header.Get("Accept") == "" {
		req.Header.Set("Accept", "application/json")
	}
	resp, err := client.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, maxDocumentSize))
		return &errStatus{url: u, status: resp.StatusCode}
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxDocumentSize+1))
	if err != nil {
		return fmt.Errorf("GET %s: %w", u, err)
	}
	if len(body) > maxDocumentSize {
		return fmt.Errorf("GET %s: answer larger than %d bytes", u, maxDocumentSize)
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	if err := dec.Decode(v); err != nil {
		return fmt.Errorf("GET %s: %w", u, err)
	}
	return nil
}
