// Package upstream is the proxy's client for the upstream provider's token endpoint
// (RFC 6749 §4.1.3, §6), tolerant of the ways real providers deviate from the RFC.
package upstream

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/oauthproxy-go/oauthproxy/internal/httpx"
)

// Token endpoint client authentication methods (RFC 7591 §2, RFC 6749 §2.3.1).
const (
	AuthMethodBasic = "client_secret_basic"
	AuthMethodPost  = "client_secret_post"
	// AuthMethodNone is a public client (RFC 6749 §2.1): no secret, only
	// client_id in the body (§3.2.1); PKCE protects its codes (RFC 7636).
	AuthMethodNone = "none"
)

// defaultTimeout bounds a token request when HTTPClient is nil.
const defaultTimeout = 10 * time.Second

// Client calls the upstream token endpoint with the proxy's pre-registered credentials.
// The zero AuthMethod means client_secret_basic; a nil HTTPClient means one with a 10 s timeout.
type Client struct {
	HTTPClient   *http.Client
	TokenURL     string
	ClientID     string
	ClientSecret string
	AuthMethod   string // AuthMethodBasic (default when empty), AuthMethodPost or AuthMethodNone
	UserAgent    string
	// ExtraParams are added to every token request (code exchange and
	// refresh), never replacing a parameter the client sets itself.
	ExtraParams map[string]string
}

// ExchangeCode redeems an authorization code (RFC 6749 §4.1.3), sending code_verifier only
// when it is set (RFC 7636 §4.5). now stamps the token's Expiry.
func (c *Client) ExchangeCode(ctx context.Context, code, redirectURI, codeVerifier string, now time.Time) (*Token, error) {
	if code == "" {
		return nil, errors.New("upstream: empty authorization code")
	}
	form := url.Values{"grant_type": {"authorization_code"}, "code": {code}}
	if redirectURI != "" {
		form.Set("redirect_uri", redirectURI)
	}
	if codeVerifier != "" {
		form.Set("code_verifier", codeVerifier)
	}
	return c.token(ctx, form, now)
}

// Refresh uses a refresh token (RFC 6749 §6), sending scope only when scopes is non-empty.
// When the upstream issues no new refresh token, the old one stays in the result (§6 says it
// remains valid).
func (c *Client) Refresh(ctx context.Context, refreshToken string, scopes []string, now time.Time) (*Token, error) {
	if refreshToken == "" {
		return nil, errors.New("upstream: empty refresh token")
	}
	form := url.Values{"grant_type": {"refresh_token"}, "refresh_token": {refreshToken}}
	if len(scopes) > 0 {
		form.Set("scope", strings.Join(scopes, " "))
	}
	t, err := c.token(ctx, form, now)
	if err != nil {
		return nil, err
	}
	if t.RefreshToken == "" {
		t.RefreshToken = refreshToken
	}
	return t, nil
}

// reservedTokenParams are the token request parameters the client sets
// itself: the grant (RFC 6749 §4.1.3, §6, RFC 7636 §4.5), the scope the proxy
// tracks (S22), and client authentication (§2.3.1, RFC 7521 §4.2).
var reservedTokenParams = map[string]bool{
	"grant_type": true, "code": true, "redirect_uri": true, "code_verifier": true,
	"refresh_token": true, "scope": true,
	"client_id": true, "client_secret": true, "client_assertion": true, "client_assertion_type": true,
}

// ReservedTokenParam reports whether name is a token request parameter that
// ExtraParams may not set.
func ReservedTokenParam(name string) bool { return reservedTokenParams[name] }

// token posts form to the token endpoint and reads the answer. Errors never quote the
// secrets it sent: the client secret, code, verifier or refresh token.
func (c *Client) token(ctx context.Context, form url.Values, now time.Time) (*Token, error) {
	secrets := []string{c.ClientSecret, form.Get("code"), form.Get("code_verifier"), form.Get("refresh_token")}
	redact := func(s string) string {
		for _, secret := range secrets {
			if secret != "" {
				s = strings.ReplaceAll(s, secret, "[redacted]")
			}
		}
		return s
	}

	for k, v := range c.ExtraParams {
		if !ReservedTokenParam(k) && !form.Has(k) {
			form.Set(k, v)
		}
	}
	resp, err := c.post(ctx, c.TokenURL, form)
	if err != nil {
		return nil, fmt.Errorf("upstream: token request: %w", err)
	}
	defer resp.Body.Close()
	// The body is only decoded, and decoding copies what it keeps, so it is
	// read into a reused buffer (issue 16: it is the size of the id_token).
	buf := bodyBufs.Get().(*bytes.Buffer)
	defer putBodyBuf(buf)
	err = httpx.ReadBodyInto(buf, io.LimitReader(resp.Body, maxResponseBytes+1), resp.ContentLength)
	body := buf.Bytes()
	if err != nil {
		return nil, fmt.Errorf("upstream: reading token response: %w", err)
	}
	if len(body) > maxResponseBytes {
		return nil, errTooLarge
	}

	fields, decodeErr := decodeFields(resp.Header.Get("Content-Type"), body)
	if decodeErr == nil {
		oauthErr, err := oauthError(fields, resp.StatusCode, redact)
		if err != nil {
			return nil, err
		}
		if oauthErr != nil {
			return nil, oauthErr
		}
	}
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return nil, &Error{StatusCode: resp.StatusCode}
	}
	if decodeErr != nil {
		return nil, decodeErr
	}
	return tokenFromFields(fields, now)
}

var bodyBufs = sync.Pool{New: func() any { return new(bytes.Buffer) }}

// putBodyBuf returns buf to bodyBufs unless an unusually large response grew it.
func putBodyBuf(buf *bytes.Buffer) {
	if buf.Cap() <= 64<<10 {
		buf.Reset()
		bodyBufs.Put(buf)
	}
}

// post sends form to endpoint with the proxy's client authentication
// (RFC 6749 §2.3.1), as the token and revocation endpoints both require.
func (c *Client) post(ctx context.Context, endpoint string, form url.Values) (*http.Response, error) {
	basic := false
	switch c.AuthMethod {
	case "", AuthMethodBasic:
		basic = true
	case AuthMethodPost: // RFC 6749 §2.3.1: credentials in the request body
		form.Set("client_id", c.ClientID)
		if c.ClientSecret != "" {
			form.Set("client_secret", c.ClientSecret)
		}
	case AuthMethodNone: // RFC 6749 §3.2.1: a public client identifies itself
		form.Set("client_id", c.ClientID)
	default:
		return nil, fmt.Errorf("unsupported token endpoint auth method %q", c.AuthMethod)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, endpoint, strings.NewReader(form.Encode()))
	if err != nil {
		return nil, err
	}
	if basic {
		// RFC 6749 §2.3.1: form-urlencode the id and secret before Basic encoding.
		req.SetBasicAuth(url.QueryEscape(c.ClientID), url.QueryEscape(c.ClientSecret))
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Accept", "application/json")
	if c.UserAgent != "" {
		req.Header.Set("User-Agent", c.UserAgent)
	}
	return c.httpClient().Do(req)
}

// httpClient returns the configured client with redirects turned off: a token endpoint does
// not redirect, and following a 307 would resend the client's credentials elsewhere.
func (c *Client) httpClient() *http.Client {
	hc := http.Client{Timeout: defaultTimeout}
	if c.HTTPClient != nil {
		hc = *c.HTTPClient
	}
	hc.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	return &hc
}
