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
	"net/url"
	"strings"
	"sync"
	"time"

	"golang.org/x/sync/singleflight"
)

// Fetch defaults, used when the Fetcher field is zero.
const (
	defaultTimeout  = 5 * time.Second
	defaultMaxBytes = 5120 // 5 KiB, the draft's suggested cap
)

// maxHeaderBytes caps the response headers of a metadata fetch.
const maxHeaderBytes = 16 << 10

// Fetcher retrieves Client ID Metadata Documents. The zero value is ready to use and safe:
// defaults apply to zero fields. A Fetcher keeps no connections between calls, only its
// bounded memory of recent failures; it is safe for concurrent use and must not be copied
// after first use. Set the fields before the first Fetch.
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

	// MaxConcurrentFetches caps fetches in flight at once, all hosts together; default 8.
	MaxConcurrentFetches int
	// MaxFetchesPerHost caps fetches in flight to one host name; default 2.
	MaxFetchesPerHost int
	// FailureCacheSize bounds how many failed client_id URLs are remembered; default
	// 10,000, the oldest evicted first. Each entry takes about 350 bytes whatever the URL's
	// length (a hash of it, the expiry and the safe error text), so about 3.5 MB in all.
	FailureCacheSize int
	// FetchFailureTTL is how long an ErrFetch failure is remembered; default 1 minute.
	FetchFailureTTL time.Duration
	// InvalidDocumentTTL is how long an ErrInvalidDocument failure of a fetched document
	// is remembered; default 5 minutes.
	InvalidDocumentTTL time.Duration
	// Now is the failure cache's clock; default time.Now.
	Now func() time.Time

	init     sync.Once
	failures *failureCache
	limits   *fetchLimits
	flights  singleflight.Group // keyed by client_id URL
}

// fetchResult is what one shared fetch hands every caller waiting on it.
type fetchResult struct {
	doc *Document
	err error
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
// Fetches are bounded so that client_ids cannot make the server an amplifier (S20):
//
//   - a failure is remembered by URL (ErrFetch for FetchFailureTTL, ErrInvalidDocument for
//     InvalidDocumentTTL) and repeated without any request until it expires;
//   - concurrent calls for the same URL share one fetch, and its result;
//   - at most MaxConcurrentFetches fetches run at once, at most MaxFetchesPerHost to one host
//     name; a call that finds no free slot is refused at once with ErrBusy (never queued,
//     never cached) and may retry after RetryAfter.
//
// A shared fetch runs to its own Timeout even if the caller that started it goes away, so
// one caller's cancellation does not fail the others; each caller stops waiting when its
// own ctx is done. The returned Document may be shared with other callers: do not modify it.
//
// Errors wrap ErrInvalidDocument (the URL or the document is unacceptable) or ErrFetch
// (it could not be retrieved under this policy; with ErrBusy when not attempted); their
// text is safe for error_description.
func (f *Fetcher) Fetch(ctx context.Context, clientID string) (*Document, error) {
	if f == nil {
		f = &Fetcher{}
	}
	// A URL that breaks the rules is refused before any network use, and not cached:
	// checking it again costs less than a cache entry.
	u, err := ValidateClientIDURL(clientID)
	if err != nil {
		return nil, err
	}
	if err := ctx.Err(); err != nil {
		return nil, transportError(ctx, err)
	}
	f.init.Do(f.setup)
	if err, ok := f.failures.get(clientID, f.now()); ok {
		return nil, err
	}
	ch := f.flights.DoChan(clientID, func() (any, error) {
		doc, err := f.fetchShared(context.WithoutCancel(ctx), u, clientID)
		return fetchResult{doc, err}, nil
	})
	select {
	case r := <-ch:
		res := r.Val.(fetchResult)
		return res.doc, res.err
	case <-ctx.Done():
		return nil, transportError(ctx, ctx.Err())
	}
}

func (f *Fetcher) setup() {
	f.failures = newFailureCache(intOr(f.FailureCacheSize, defaultFailureCacheSize))
	f.limits = newFetchLimits(intOr(f.MaxConcurrentFetches, defaultMaxConcurrentFetches),
		intOr(f.MaxFetchesPerHost, defaultMaxFetchesPerHost))
}

func (f *Fetcher) now() time.Time {
	if f.Now != nil {
		return f.Now()
	}
	return time.Now()
}

func intOr(n, def int) int {
	if n > 0 {
		return n
	}
	return def
}

// fetchShared is the one fetch that concurrent callers for clientID share. It checks the
// failure cache again (a fetch for this URL may have failed between the caller's look and
// joining the flight), and remembers the failures that say something about the URL.
func (f *Fetcher) fetchShared(ctx context.Context, u *url.URL, clientID string) (*Document, error) {
	if err, ok := f.failures.get(clientID, f.now()); ok {
		return nil, err
	}
	doc, err := f.fetchBounded(ctx, u, clientID)
	if safe, ttl := f.cacheableFailure(err); safe != nil {
		f.failures.add(clientID, safe, f.now(), ttl)
	}
	return doc, err
}

// fetchBounded takes a fetch slot for the URL's host, or refuses at once with ErrBusy.
func (f *Fetcher) fetchBounded(ctx context.Context, u *url.URL, clientID string) (*Document, error) {
	// Host names are case-insensitive (RFC 3986 section 3.2.2); the port is left out so
	// that one host cannot take more slots by listening on more ports.
	host := strings.ToLower(u.Hostname())
	if !f.limits.acquire(host) {
		return nil, errBusy
	}
	defer f.limits.release(host)
	return f.fetchOnce(ctx, u, clientID)
}

// fetchOnce sends the one GET and validates the document, under Timeout and MaxBytes.
func (f *Fetcher) fetchOnce(ctx context.Context, u *url.URL, clientID string) (*Document, error) {
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
	if err == nil {
		defer func() { _ = resp.Body.Close() }()
		// A response can race the deadline: the server sees the connection close at the
		// deadline and answers before the client notices. A fetch out of time is a timeout,
		// whatever arrived.
		err = ctx.Err()
	}
	if err != nil {
		return nil, transportError(ctx, err)
	}

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
