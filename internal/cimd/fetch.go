package cimd

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"io"
	"mime"
	"net"
	"net/http"
	"strings"
	"time"
)

// Fetch defaults, used when the Fetcher field is zero.
const (
	defaultTimeout  = 5 * time.Second
	defaultMaxBytes = 5120 // 5 KiB, the draft's suggested cap
)

// maxHeaderBytes caps the response headers of a metadata fetch.
const maxHeaderBytes = 16 << 10

// Fetcher retrieves Client ID Metadata Documents. The zero value is ready to use and safe:
// defaults apply to zero fields. A Fetcher keeps no connections between calls.
type Fetcher struct {
	// Timeout for the whole fetch; default 5 s.
	Timeout time.Duration
	// MaxBytes caps the document; default 5 KiB (5120).
	MaxBytes int64
	// AllowPrivateAddresses disables the address check — ONLY for tests on loopback; document loudly.
	//
	// WARNING: setting this in production turns Fetch into a server-side request forgery
	// primitive: any unauthenticated client could make the proxy send GET requests to
	// loopback services, cloud metadata endpoints (169.254.169.254) and the private network.
	// It exists so tests can fetch from an httptest server on 127.0.0.1. Never wire it to
	// user configuration.
	AllowPrivateAddresses bool
	// Resolver for DNS (default net.DefaultResolver); tests point it at a fake DNS server.
	// The address check applies to whatever it returns, so a custom Resolver cannot widen
	// what Fetch connects to.
	Resolver *net.Resolver
	// RootCAs for TLS verification; nil = system roots (tests pass the httptest server's cert pool).
	RootCAs *x509.CertPool
}

// Fetch validates clientID with ValidateClientIDURL, fetches the document it names and
// validates it (SECURITY.md S17):
//
//   - one GET with Accept: application/json, no redirects followed (a 3xx is an error), no
//     proxy from the environment, TLS verified against RootCAs;
//   - the whole exchange, body included, bounded by Timeout, and the body by MaxBytes;
//   - status 200 with a JSON media type (application/json or application/*+json) required;
//   - connections only to public unicast addresses, checked on the address actually dialed,
//     after DNS resolution, unless AllowPrivateAddresses is set;
//   - the document one JSON object whose client_id equals clientID exactly, with non-empty
//     redirect_uris that pass the redirect URI rules of SECURITY.md S01, no client secret, and
//     token_endpoint_auth_method none or absent.
//
// Errors wrap ErrInvalidDocument (the URL or the document is unacceptable) or ErrFetch
// (it could not be retrieved under this policy); their text is safe for error_description.
func (f *Fetcher) Fetch(ctx context.Context, clientID string) (*Document, error) {
	if f == nil {
		f = &Fetcher{}
	}
	u, err := ValidateClientIDURL(clientID)
	if err != nil {
		return nil, err
	}
	timeout := f.Timeout
	if timeout <= 0 {
		timeout = defaultTimeout
	}
	maxBytes := f.MaxBytes
	if maxBytes <= 0 {
		maxBytes = defaultMaxBytes
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()

	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
	if err != nil {
		return nil, errURLSyntax
	}
	req.Header.Set("Accept", "application/json")

	client := f.client(timeout)
	defer client.CloseIdleConnections()
	resp, err := client.Do(req)
	if err != nil {
		return nil, transportError(ctx, err)
	}
	defer func() { _ = resp.Body.Close() }()

	switch {
	case resp.StatusCode >= 300 && resp.StatusCode < 400:
		return nil, fetchFailed(nil, "client metadata document URL answered with a redirect, which is not followed")
	case resp.StatusCode != http.StatusOK:
		return nil, fetchFailed(nil, "client metadata document URL answered with HTTP status %d, not 200", resp.StatusCode)
	}
	if !isJSONMediaType(resp.Header.Get("Content-Type")) {
		return nil, fetchFailed(nil, "client metadata document must be served as application/json")
	}
	errTooLarge := fetchFailed(nil, "client metadata document is larger than %d bytes", maxBytes)
	if resp.ContentLength > maxBytes {
		return nil, errTooLarge
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxBytes+1))
	if err == nil {
		// When the deadline closes the connection mid-body, the read can end in a plain
		// EOF instead of the context error; a body cut short by the deadline is not parsed.
		err = ctx.Err()
	}
	if err != nil {
		return nil, transportError(ctx, err)
	}
	if int64(len(body)) > maxBytes {
		return nil, errTooLarge
	}
	return parseDocument(clientID, body)
}

// client builds a dedicated client for one fetch: its own transport (no environment proxy,
// no shared connection pool), the dial-time address check, and no redirects.
func (f *Fetcher) client(timeout time.Duration) *http.Client {
	dialer := &net.Dialer{Timeout: timeout, Resolver: f.Resolver}
	if !f.AllowPrivateAddresses {
		dialer.ControlContext = dialControl
	}
	transport := &http.Transport{
		Proxy:                  nil,
		DialContext:            dialer.DialContext,
		TLSClientConfig:        &tls.Config{RootCAs: f.RootCAs, MinVersion: tls.VersionTLS12},
		TLSHandshakeTimeout:    timeout,
		ResponseHeaderTimeout:  timeout,
		MaxResponseHeaderBytes: maxHeaderBytes,
		DisableKeepAlives:      true,
		DisableCompression:     true,
		ForceAttemptHTTP2:      true,
	}
	return &http.Client{
		Transport: transport,
		CheckRedirect: func(*http.Request, []*http.Request) error {
			return http.ErrUseLastResponse
		},
	}
}

// transportError maps a client or body-read failure to a safe ErrFetch; the cause stays
// reachable with errors.Is / errors.As for logging.
func transportError(ctx context.Context, err error) error {
	switch {
	case errors.Is(err, errBlockedAddress):
		return fetchFailed(err, "client metadata document host is not a public internet address")
	case errors.Is(err, context.DeadlineExceeded) || errors.Is(ctx.Err(), context.DeadlineExceeded):
		return fetchFailed(err, "client metadata document was not fetched in time")
	case errors.Is(err, context.Canceled):
		return fetchFailed(err, "client metadata document fetch was canceled")
	default:
		return fetchFailed(err, "client metadata document could not be fetched")
	}
}

// isJSONMediaType accepts application/json and structured-syntax JSON types such as
// application/foo+json (RFC 6839 section 3.1), with any parameters.
func isJSONMediaType(contentType string) bool {
	mt, _, err := mime.ParseMediaType(contentType)
	if err != nil {
		return false
	}
	return mt == "application/json" || strings.HasPrefix(mt, "application/") && strings.HasSuffix(mt, "+json")
}
