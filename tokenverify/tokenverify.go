// Package tokenverify checks the proxy's access tokens on another service:
// an MCP server that does not run the proxy in its process verifies ES256
// tokens (oauthproxy.Config.AccessTokenSigningKeys) with the public keys the
// proxy publishes, and optionally asks the proxy's RFC 7662 introspection
// endpoint so that a revocation is seen at once.
//
//	v, err := tokenverify.New(tokenverify.Config{
//		Issuer:   "https://auth.example.com",   // the proxy's BaseURL
//		Resource: "https://tools.example.com/mcp", // this server's MCP endpoint
//	})
//	mux.Handle("/", v.Handler()) // RFC 9728 metadata, so clients find the proxy
//	mux.Handle("/mcp", v.RequireBearer(mcpHandler))
//
// The proxy must be configured with Resource equal to this server's Resource,
// so its tokens carry it as aud.
//
// # How soon a revocation is seen
//
// With JWKS alone a token stays valid until it expires: at most the proxy's
// AccessTokenTTL (plus Leeway) after a revocation. With
// IntrospectionClientID set, each token the JWKS check accepts is also sent
// to the proxy's introspection endpoint, and an active answer is remembered
// for IntrospectionCacheTTL: a revocation is seen within that bound.
//
// # Bounds
//
// A token is checked locally before any network call, so an anonymous
// caller with a forged token costs one signature check. Keys are fetched
// from the proxy's metadata and JWKS with HTTPClient (10 s timeout by
// default), at most 64 KiB each, again when they are older than
// oauthproxy.JWKSMaxAge, and on an unknown kid at most once per
// MinRefetchInterval. The introspection cache holds at most 10,000 tokens.
package tokenverify

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/oauthproxy-go/oauthproxy"
	"golang.org/x/sync/singleflight"
)

// Defaults for the zero values of Config.
const (
	DefaultLeeway                = 10 * time.Second
	DefaultMinRefetchInterval    = 30 * time.Second
	DefaultIntrospectionCacheTTL = 5 * time.Second
	DefaultHTTPTimeout           = 10 * time.Second
)

// maxTokenSize bounds what Verify decodes; the proxy's tokens are far smaller.
const maxTokenSize = 16 << 10

// Config configures a Verifier. Issuer and Resource are required.
type Config struct {
	// Issuer is the proxy's BaseURL, its RFC 8414 issuer. Its metadata
	// (/.well-known/oauth-authorization-server) names the JWKS and the
	// introspection endpoint; https unless the host is loopback.
	Issuer string
	// Resource is this server's protected resource URL (RFC 8707, RFC
	// 9728): the aud every token must carry.
	Resource string
	// Scopes, when set, are listed as scopes_supported in the resource
	// metadata Handler serves.
	Scopes []string

	// IntrospectionClientID and IntrospectionClientSecret, when set, are
	// this server's credentials at the proxy's introspection endpoint (an
	// entry of the proxy's Config.IntrospectionCredentials): every token is
	// then also checked there, so revocation is seen within
	// IntrospectionCacheTTL.
	IntrospectionClientID     string
	IntrospectionClientSecret string
	// IntrospectionCacheTTL is how long an active answer is remembered.
	// Default 5 s.
	IntrospectionCacheTTL time.Duration

	// Leeway is the clock skew allowed on exp, nbf and iat (RFC 7519 §4.1.4).
	// Default 10 s.
	Leeway time.Duration
	// MinRefetchInterval limits refetches of the keys caused by tokens with
	// an unknown kid, or by a failed fetch. Default 30 s.
	MinRefetchInterval time.Duration
	// HTTPClient fetches the metadata and keys and calls introspection.
	// Default: a client with a 10 s timeout.
	HTTPClient *http.Client
	// Logger receives fetch failures. Default: slog.Default().
	Logger *slog.Logger
	// Now is the clock. Default: time.Now.
	Now func() time.Time
}

// Verifier checks the proxy's access tokens. Create it with New; it is safe
// for concurrent use and holds no goroutine.
type Verifier struct {
	cfg         Config
	metadataURL string
	parser      *jwt.Parser
	log         *slog.Logger

	keys    atomic.Pointer[keySet]
	fetches singleflight.Group
	mu      sync.Mutex
	// lastFetch is when the keys were last fetched, or tried, for
	// MinRefetchInterval.
	lastFetch time.Time

	introspected *activeCache
}

// New validates cfg. It does not call the proxy: the keys are fetched when
// the first token arrives, so this server may start before the proxy.
func New(cfg Config) (*Verifier, error) {
	var errs []error
	cfg.Issuer = strings.TrimRight(cfg.Issuer, "/")
	issuer, err := checkURL("Issuer", cfg.Issuer)
	errs = append(errs, err)
	_, err = checkURL("Resource", cfg.Resource)
	errs = append(errs, err)
	if (cfg.IntrospectionClientID == "") != (cfg.IntrospectionClientSecret == "") {
		errs = append(errs, errors.New("set both IntrospectionClientID and IntrospectionClientSecret, or neither"))
	}
	for _, d := range []struct {
		name string
		v    *time.Duration
		def  time.Duration
	}{
		{"Leeway", &cfg.Leeway, DefaultLeeway},
		{"MinRefetchInterval", &cfg.MinRefetchInterval, DefaultMinRefetchInterval},
		{"IntrospectionCacheTTL", &cfg.IntrospectionCacheTTL, DefaultIntrospectionCacheTTL},
	} {
		if *d.v < 0 {
			errs = append(errs, fmt.Errorf("%s must not be negative", d.name))
		} else if *d.v == 0 {
			*d.v = d.def
		}
	}
	if err := errors.Join(errs...); err != nil {
		return nil, fmt.Errorf("tokenverify: invalid config: %w", err)
	}
	cfg.Scopes = slices.Clone(cfg.Scopes)
	if cfg.HTTPClient == nil {
		cfg.HTTPClient = &http.Client{Timeout: DefaultHTTPTimeout}
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	v := &Verifier{
		cfg:          cfg,
		metadataURL:  wellKnownURL(issuer, "/.well-known/oauth-authorization-server"),
		log:          cfg.Logger.With("component", "tokenverify"),
		introspected: newActiveCache(),
	}
	v.parser = jwt.NewParser(
		jwt.WithValidMethods([]string{"ES256"}), // pinned (RFC 8725 §3.1)
		jwt.WithIssuer(cfg.Issuer),
		jwt.WithAudience(cfg.Resource), // RFC 8707 §2, RFC 9068 §4
		jwt.WithExpirationRequired(),   // RFC 8725 §3.10
		jwt.WithIssuedAt(),
		jwt.WithLeeway(cfg.Leeway),
		jwt.WithTimeFunc(cfg.Now),
	)
	return v, nil
}

// Verify checks token the way the proxy's own bearer check does (signature
// with ES256 and a key of the proxy's JWKS, typ at+jwt, iss, aud = Resource,
// exp, nbf, iat), then, with introspection configured, that the proxy still
// holds it active. Errors wrap oauthproxy.ErrInvalidToken,
// ErrTokenExpired or ErrTokenRevoked; any other error means the check could
// not be made (the proxy unreachable) and the request should get 503.
func (v *Verifier) Verify(ctx context.Context, token string) (*oauthproxy.Claims, error) {
	if len(token) > maxTokenSize {
		return nil, fmt.Errorf("%w: token is too large", oauthproxy.ErrInvalidToken)
	}
	var unavailable error
	parsed, err := v.parser.Parse(token, func(t *jwt.Token) (any, error) {
		// RFC 9068 §4: the type marker tells an access token from an ID
		// token or any other JWT signed with the same keys (RFC 8725 §3.11).
		if typ, _ := t.Header["typ"].(string); !strings.EqualFold(strings.TrimPrefix(typ, "application/"), "at+jwt") {
			return nil, errors.New("not an access token")
		}
		if _, ok := t.Header["crit"]; ok {
			return nil, errors.New("critical header extensions are not supported") // RFC 7515 §4.1.11
		}
		kid, _ := t.Header["kid"].(string)
		key, err := v.key(ctx, kid)
		if err != nil && !errors.Is(err, errUnknownKey) {
			unavailable = err
		}
		return key, err
	})
	switch {
	case unavailable != nil:
		return nil, fmt.Errorf("tokenverify: the proxy's keys are unavailable: %w", unavailable)
	case errors.Is(err, jwt.ErrTokenExpired):
		return nil, fmt.Errorf("%w: %w", oauthproxy.ErrTokenExpired, err)
	case err != nil:
		return nil, fmt.Errorf("%w: %w", oauthproxy.ErrInvalidToken, err)
	}
	c, err := claimsOf(parsed.Claims.(jwt.MapClaims), v.cfg.Resource)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", oauthproxy.ErrInvalidToken, err)
	}
	if v.cfg.IntrospectionClientID != "" {
		if err := v.stillActive(ctx, token, c.ExpiresAt); err != nil {
			return nil, err
		}
	}
	return c, nil
}

// checkURL accepts an absolute http(s) URL, https unless the host is
// loopback (OAuth 2.1 §1.5).
func checkURL(name, raw string) (*url.URL, error) {
	u, err := url.Parse(raw)
	if err != nil || !u.IsAbs() || u.Host == "" || u.User != nil || u.RawQuery != "" || u.Fragment != "" {
		return nil, fmt.Errorf("%s %q must be an absolute URL without userinfo, query or fragment", name, raw)
	}
	switch {
	case u.Scheme == "https":
	case u.Scheme == "http" && loopback(u.Hostname()):
	default:
		return nil, fmt.Errorf("%s %q must use https (http only on loopback)", name, raw)
	}
	return u, nil
}

func loopback(host string) bool {
	return host == "localhost" || host == "127.0.0.1" || host == "::1" || strings.HasPrefix(host, "127.")
}

// wellKnownURL inserts a well-known path between the host and the path of u
// (RFC 8414 §3.1, RFC 9728 §3.1).
func wellKnownURL(u *url.URL, wellKnown string) string {
	return u.Scheme + "://" + u.Host + wellKnown + strings.TrimRight(u.EscapedPath(), "/")
}
