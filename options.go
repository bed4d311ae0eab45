package oauthproxy

import (
	"context"
	"crypto"
	"crypto/sha256"
	"crypto/x509"
	"errors"
	"fmt"
	"html/template"
	"log/slog"
	"maps"
	"net/http"
	"net/netip"
	"net/url"
	"path"
	"slices"
	"strings"
	"time"

	"github.com/oauthproxy-go/oauthproxy/internal/httpx"
	"github.com/oauthproxy-go/oauthproxy/internal/redirecturi"
	"github.com/oauthproxy-go/oauthproxy/storage"
)

// Defaults for the zero values of Config.
const (
	DefaultRedirectPath         = "/oauth/callback"
	DefaultAccessTokenTTL       = time.Hour
	DefaultRefreshTokenTTL      = 30 * 24 * time.Hour
	DefaultAuthorizationCodeTTL = 5 * time.Minute
	DefaultTransactionTTL       = 10 * time.Minute
	DefaultCleanupInterval      = time.Minute
	DefaultHTTPTimeout          = 10 * time.Second
	DefaultClientIdleTTL        = 30 * 24 * time.Hour

	maxRefreshReuseGrace = time.Minute
)

// Token endpoint authentication methods the proxy can use at the upstream
// (RFC 6749 §2.3.1).
const (
	AuthMethodClientSecretBasic = "client_secret_basic"
	AuthMethodClientSecretPost  = "client_secret_post"
)

// ClaimsExtractor derives the user's identity from the upstream token set: "sub"
// becomes the token's subject (a string, or an integer kept digit for digit:
// json.Number, int64, uint64, or a float64 below 2^53; other numbers refuse
// the login, S22), and the claims named in PassthroughClaims are
// copied into the proxy's access token. Reserved claims (iss, aud, exp, scope,
// client_id …) are always dropped: it can describe the user, never widen what a
// token grants.
type ClaimsExtractor func(ctx context.Context, tokens *UpstreamTokens) (map[string]any, error)

// Config configures a Proxy. The zero value of every optional field means the
// documented default; a default of true is expressed as a Disable… field.
type Config struct {
	// BaseURL is the proxy's public origin and OAuth issuer (RFC 8414 §2), e.g.
	// "https://mcp.example.com". Required; https unless the host is loopback.
	BaseURL string

	// UpstreamAuthorizationEndpoint and UpstreamTokenEndpoint are the provider's
	// endpoints. Required.
	UpstreamAuthorizationEndpoint string
	UpstreamTokenEndpoint         string
	// UpstreamClientID and UpstreamClientSecret identify the proxy's one
	// pre-registered client at the provider. Required.
	UpstreamClientID     string
	UpstreamClientSecret string
	// UpstreamTokenEndpointAuthMethod is how the proxy authenticates at the upstream
	// token endpoint: "client_secret_basic" (default), "client_secret_post", or
	// "none" for an upstream client registered as public (RFC 6749 §2.1), which
	// sends only its client_id and relies on the S256 PKCE the proxy always
	// uses upstream. UpstreamClientSecret is required unless "none", and must
	// be empty with "none".
	UpstreamTokenEndpointAuthMethod string
	// UpstreamIssuer, when set, must be the iss of the id_tokens the upstream
	// token endpoint returns (OIDC Core §3.1.3.7). The providers presets set it
	// and verify id_token signatures too.
	UpstreamIssuer string
	// UpstreamUserInfoEndpoint, when set, is called with the upstream access token
	// after login to learn the user's identity (sub, or GitHub's id) for providers
	// that issue no id_token.
	UpstreamUserInfoEndpoint string
	// UpstreamRevocationEndpoint, when set, is the provider's RFC 7009 endpoint:
	// when a client revokes a token, the grant's upstream tokens are revoked too.
	UpstreamRevocationEndpoint string
	// ProviderName names the upstream on the consent page ("GitHub"). Default: the
	// upstream authorization endpoint's host.
	ProviderName string

	// Scopes is the set of scopes clients may request; also sent upstream when a
	// client requests none. Empty means any scope is passed through. A client
	// that registered a scope (RFC 7591 §2) may request only within it.
	Scopes []string
	// ExtraAuthorizationParams are added to the upstream authorization request,
	// e.g. Google's access_type=offline and prompt=consent.
	ExtraAuthorizationParams map[string]string
	// ExtraTokenParams are added to every upstream token request, the code
	// exchange and each refresh, e.g. an audience or resource the provider
	// wants at its token endpoint. The parameters the
	// proxy sets itself (grant_type, code, redirect_uri, code_verifier,
	// refresh_token, scope, client_id, client_secret, client_assertion,
	// client_assertion_type) cannot be given: New refuses them.
	ExtraTokenParams map[string]string

	// DisableTokenSwap turns on pass-through mode: clients receive the upstream's
	// own tokens. By default (swap mode) clients get short-lived JWTs from the proxy
	// and the upstream tokens never leave it (SECURITY.md S11).
	DisableTokenSwap bool
	// DisableConsent skips the proxy's consent page. Only safe when every client is
	// trusted: the page is the defence against the confused-deputy attack (S08).
	DisableConsent bool
	// ConsentRememberTTL, when set, adds a "remember this application" box to
	// the consent page. Ticked, it stores a cookie signed with ConsentSigningKey
	// for this long, and later requests from the same client with exactly the
	// same redirect URI (a loopback one with its port) and no more scopes skip
	// the page. It is never offered to a public client redirecting to loopback
	// or a private-use scheme, which any local program could impersonate (RFC
	// 8252 §8.6). Default 0: always ask. At most 400 days, the longest a
	// browser keeps a cookie (RFC 6265bis §5.5).
	ConsentRememberTTL time.Duration
	// ConsentTemplate replaces the built-in consent page. It is executed with a
	// *ConsentPage and must post txn, csrf_token, action ("approve" or "deny")
	// and, to remember the choice, remember=1 to FormAction. The page is served
	// with a strict Content-Security-Policy: inline <style> needs
	// nonce="{{.Nonce}}", scripts are not allowed, images only from the
	// Branding logo's origin.
	ConsentTemplate *template.Template
	// Branding names and colours the consent and error pages.
	Branding Branding
	// ScopeDescriptions describe scopes in plain words on the consent page
	// ("repo": "Read and change your repositories"), adding to and overriding
	// the built-in descriptions of common OpenID, GitHub, Google and Microsoft
	// scopes. A scope without a description is shown as it is.
	ScopeDescriptions map[string]string
	// ForwardPKCE sends the client's own code_challenge upstream instead of the
	// proxy's, and redeems the upstream code at /token with the client's
	// code_verifier, so the upstream itself verifies the client's PKCE. Off by
	// default: the proxy runs its own S256 PKCE with the upstream.
	ForwardPKCE bool

	// RedirectPath is where the upstream sends the browser back; it must be
	// registered at the provider as BaseURL+RedirectPath. Default "/oauth/callback".
	RedirectPath string
	// AllowedRedirectURIPatterns admit client redirect URIs at registration,
	// matched on the parsed URL (scheme, host, port, path; '*' for the port, one
	// leading host label, or a trailing path), and again each time a stored
	// client is used, so tightening them cuts off clients registered under the
	// old ones. Default: loopback only.
	AllowedRedirectURIPatterns []string

	// Resource is the protected MCP endpoint (RFC 8707, RFC 9728), the audience of
	// every access token. Default BaseURL+"/mcp".
	Resource string
	// ResourceAllowedOrigins are the web origins ("https://app.example.com")
	// whose pages may call the protected resource through RequireBearer or
	// CORS (Fetch standard CORS protocol). Empty, the default, allows any
	// origin, as the metadata and token endpoints do: bearer tokens are no
	// ambient credentials, so a page can only use a token it already holds.
	// Each is scheme://host[:port] as browsers send it (lower case, no
	// default port, no path). A listed origin is echoed with Vary: Origin;
	// other origins' preflights get 403.
	ResourceAllowedOrigins []string

	AccessTokenTTL       time.Duration // default 1h, independent of the upstream's expiry
	RefreshTokenTTL      time.Duration // default 30 days
	AuthorizationCodeTTL time.Duration // default 5 min
	TransactionTTL       time.Duration // default 10 min
	CleanupInterval      time.Duration // storage cleanup period; default 1 min
	// RefreshReuseGrace (default 0, off) lets a client that lost a refresh
	// response retry with the old refresh token for this long and receive the
	// same, already-issued pair — never a new one. It trades a little of RFC
	// 9700 §4.14.2's reuse detection (a thief racing within the window gets the
	// same pair as the client) for robustness on flaky networks. At most 1 min.
	// The pair is kept in storage for the window, sealed like every value (in
	// the clear with DisableEncryption, so let the backend encrypt then).
	RefreshReuseGrace time.Duration
	// ClientIdleTTL expires a dynamically registered client not used for this
	// long, so open registration cannot grow storage without bound. Default 30
	// days.
	ClientIdleTTL time.Duration

	// MaxClients caps the dynamically registered clients (and cached client
	// metadata documents) alive at once, so open registration cannot fill the
	// storage (S19). When it is reached, new registrations get 503
	// temporarily_unavailable with Retry-After; registered clients and their
	// sessions are unaffected. Default DefaultMaxClients (2,000); counted in
	// the storage, so it holds across replicas and restarts (approximately:
	// see storage.Counter).
	MaxClients int
	// MaxPendingAuthorizations caps the sign-ins in flight: authorization
	// requests accepted and not yet completed or expired (TransactionTTL).
	// When it is reached, /authorize answers the client's redirect URI with
	// error=temporarily_unavailable (RFC 6749 §4.1.2.1); refresh, bearer
	// checks and redeeming issued codes are unaffected. Default
	// DefaultMaxPendingAuthorizations (2,000).
	MaxPendingAuthorizations int

	// EnableCIMD accepts Client ID Metadata Documents (MCP 2025-11-25): a
	// client_id that is an https URL is fetched instead of registered, with no
	// redirects, a 5 s timeout, a 5 KiB cap, and never from loopback, private or
	// link-local addresses (S17). Off by default.
	EnableCIMD bool
	// CIMDRootCAs verifies metadata document servers; nil uses the system roots.
	CIMDRootCAs *x509.CertPool
	// InsecureAllowPrivateCIMDAddresses lets metadata documents be fetched from
	// loopback and private addresses. It re-opens server-side request forgery:
	// for tests only.
	InsecureAllowPrivateCIMDAddresses bool

	// RateLimits limits requests per endpoint class and client address, with
	// 429 and Retry-After past the limit (S20). Zero, the default, is off:
	// behind a load balancer missing from TrustedProxies every user has the
	// balancer's address, and a default per-address limit would throttle them
	// all as one.
	RateLimits RateLimits
	// RateLimiter keeps the counts. Default, when any limit is set:
	// ratelimit.NewMemory(0), one budget per process; with replicas use
	// ratelimit/redis, so they share one budget per address.
	RateLimiter RateLimiter
	// TrustedProxies are your reverse proxies and load balancers, as CIDRs
	// ("10.0.0.0/8") or addresses: only from these peers are X-Forwarded-For
	// and Forwarded believed to name the client. Default none: the client is
	// the TCP peer. The client address keys RateLimits and is the RemoteAddr
	// of audit events.
	TrustedProxies []string

	// JWTSigningKey signs access tokens (HS256); at least 32 bytes. Generated when
	// empty, with a warning: tokens then die on restart.
	JWTSigningKey []byte
	// JWTSigningKeys is a key ring for rotation without logging anyone out: the
	// first key signs, every key verifies (the JWT header's kid picks it). Put a
	// new key first, and drop the old one after AccessTokenTTL. Use it instead of
	// JWTSigningKey, not with it.
	JWTSigningKeys [][]byte
	// AccessTokenSigningKeys, when set, sign access tokens with ES256 (ECDSA
	// P-256, RFC 7518 §3.4) instead of HS256, so services other than the
	// proxy can verify them with public keys alone (see package tokenverify):
	// the proxy serves the keys at /.well-known/jwks.json (RFC 7517) and
	// names it jwks_uri in its metadata. The first key signs, every key
	// verifies (the header's kid, the key's RFC 7638 thumbprint, picks it):
	// to rotate, put a new key first and drop the old one after
	// AccessTokenTTL. Each is an *ecdsa.PrivateKey on P-256 or any
	// crypto.Signer with such a public key (a KMS or HSM key). Only ES256
	// tokens verify then: HS256 ones are refused. Use it instead of
	// JWTSigningKey(s), not with them.
	AccessTokenSigningKeys []crypto.Signer
	// EncryptionKey seals every stored value with AES-256-GCM; exactly 32 bytes.
	// Generated when empty. DisableEncryption stores values in the clear (for a
	// backend that encrypts on its own).
	EncryptionKey []byte
	// EncryptionKeys is a key ring: the first key seals, every key opens (each
	// sealed value names its key), so stored grants survive a rotation. Drop an
	// old key only after everything it sealed has expired (RefreshTokenTTL).
	EncryptionKeys    [][]byte
	DisableEncryption bool
	// ConsentSigningKey signs the consent CSRF and browser-binding cookies; at least
	// 32 bytes. Generated when empty.
	ConsentSigningKey []byte

	// IntrospectionCredentials lets resource servers call the RFC 7662
	// introspection endpoint (/oauth/introspect): client id → secret,
	// presented with HTTP Basic or in the body like a client's (RFC 6749
	// §2.3.1), compared in constant time, never logged. Each secret is at
	// least 16 bytes. Such a caller sees every access token the proxy issued
	// for Resource, and no refresh token. Registered confidential clients may
	// introspect their own tokens without being listed here.
	IntrospectionCredentials map[string]string

	// TokenStorage keeps clients, transactions, codes and grants. Default: an
	// in-memory store. Wrapped with encryption unless DisableEncryption.
	TokenStorage storage.TokenStorage

	// ClaimsExtractor derives identity claims from the upstream tokens. Default:
	// the safe profile claims of the id_token the upstream token endpoint returned,
	// or of the UpstreamUserInfoEndpoint response.
	ClaimsExtractor ClaimsExtractor
	// PassthroughClaims names the upstream claims that may reach the proxy's
	// access tokens (and Claims.Extra), in priority order; reserved claims (iss,
	// aud, exp, scope, client_id …) never pass, and a claim over 1 KiB or past
	// 4 KiB in total is dropped. Default: DefaultPassthroughClaims.
	PassthroughClaims []string

	// OnEvent receives every audit event (client registered, consent given or
	// denied, code issued, redeemed or replayed, token issued, refreshed or
	// revoked, refresh reuse, grant revoked, upstream error), after it is
	// logged. It is called synchronously on the request's goroutine: keep it
	// fast and safe for concurrent use (count, enqueue).
	OnEvent func(Event)

	// HTTPClient calls the upstream. Default: a client with a 10 s timeout
	// that keeps up to 64 idle connections to the upstream.
	HTTPClient *http.Client
	// Logger receives operational and security logs. Default: slog.Default().
	Logger *slog.Logger
	// Now is the clock. Default: time.Now.
	Now func() time.Time
}

// settings is Config after defaults and validation: what the proxy actually runs on.
type settings struct {
	Config
	// ownHTTPClient: HTTPClient is the default one, made for this proxy, so
	// Destroy closes its idle connections.
	ownHTTPClient     bool
	issuer            *url.URL
	redirectURL       string   // BaseURL + RedirectPath
	upstreamAuthorize *url.URL // UpstreamAuthorizationEndpoint, parsed once
	patterns          []redirecturi.Pattern
	scopeSet          map[string]bool
	generatedKeyNames []string
	jwtKeys           [][]byte // first signs
	encryptionKeys    [][]byte // first seals
	trustedProxies    []netip.Prefix
	resourceCORS      httpx.CORSPolicy
	// introspectionSecrets holds SHA-256 of each IntrospectionCredentials secret.
	introspectionSecrets map[string][sha256.Size]byte
}

func (c Config) withDefaults() (*settings, error) {
	s := &settings{Config: c}
	if err := s.validateAndDefault(); err != nil {
		return nil, fmt.Errorf("oauthproxy: invalid config: %w", err)
	}
	return s, nil
}

func (s *settings) validateAndDefault() error {
	// The proxy keeps its own copies: a caller changing its slices or maps
	// after New must not change what the proxy grants or sends upstream.
	s.Scopes = slices.Clone(s.Scopes)
	s.AllowedRedirectURIPatterns = slices.Clone(s.AllowedRedirectURIPatterns)
	s.PassthroughClaims = slices.Clone(s.PassthroughClaims)
	s.ExtraAuthorizationParams = maps.Clone(s.ExtraAuthorizationParams)
	s.ExtraTokenParams = maps.Clone(s.ExtraTokenParams)
	s.AccessTokenSigningKeys = slices.Clone(s.AccessTokenSigningKeys)
	var errs []error
	check := func(err error) {
		if err != nil {
			errs = append(errs, err)
		}
	}

	s.BaseURL = strings.TrimRight(s.BaseURL, "/")
	issuer, err := parseEndpoint("BaseURL", s.BaseURL)
	check(err)
	if err == nil && (issuer.RawQuery != "" || issuer.Fragment != "") {
		// RFC 8414 §2: the issuer has no query or fragment.
		check(errors.New("BaseURL must not have a query or fragment"))
	}
	s.issuer = issuer
	s.upstreamAuthorize, err = parseEndpoint("UpstreamAuthorizationEndpoint", s.UpstreamAuthorizationEndpoint)
	check(err)
	_, err = parseEndpoint("UpstreamTokenEndpoint", s.UpstreamTokenEndpoint)
	check(err)
	for name, v := range map[string]string{
		"UpstreamUserInfoEndpoint":   s.UpstreamUserInfoEndpoint,
		"UpstreamRevocationEndpoint": s.UpstreamRevocationEndpoint,
	} {
		if v != "" {
			_, err = parseEndpoint(name, v)
			check(err)
		}
	}
	if s.UpstreamClientID == "" {
		check(errors.New("UpstreamClientID is required"))
	}
	check(s.upstreamClientDefaults())

	if s.RedirectPath == "" {
		s.RedirectPath = DefaultRedirectPath
	}
	check(checkRedirectPath(s.RedirectPath))
	s.redirectURL = s.BaseURL + s.RedirectPath

	if s.Resource == "" {
		s.Resource = s.BaseURL + "/mcp"
	} else if _, err := parseEndpoint("Resource", s.Resource); err != nil {
		check(err)
	}

	check(s.defaultTTLs())
	check(s.defaultQuotas())

	patterns := s.AllowedRedirectURIPatterns
	if len(patterns) == 0 {
		s.patterns = redirecturi.DefaultPatterns()
	}
	for _, p := range patterns {
		pat, err := redirecturi.ParsePattern(p)
		if err != nil {
			check(fmt.Errorf("AllowedRedirectURIPatterns: %w", err))
			continue
		}
		s.patterns = append(s.patterns, pat)
	}

	s.scopeSet = make(map[string]bool, len(s.Scopes))
	for _, sc := range s.Scopes {
		if !validScopeToken(sc) {
			check(fmt.Errorf("scope %q in Scopes is not a valid scope token (RFC 6749 §3.3)", sc))
		}
		s.scopeSet[sc] = true
	}

	if len(s.PassthroughClaims) == 0 {
		s.PassthroughClaims = DefaultPassthroughClaims
	}
	if s.HTTPClient == nil {
		s.HTTPClient, s.ownHTTPClient = defaultHTTPClient(), true
	}
	if s.Logger == nil {
		s.Logger = slog.Default()
	}
	if s.Now == nil {
		s.Now = time.Now
	}
	if s.ProviderName == "" {
		if u, err := url.Parse(s.UpstreamAuthorizationEndpoint); err == nil {
			s.ProviderName = u.Hostname()
		}
	}
	check(s.keys())
	check(s.consentDefaults())
	check(s.rateLimitDefaults())
	check(s.resourceCORSDefaults())
	check(s.introspectionDefaults())
	return errors.Join(errs...)
}

func (s *settings) defaultTTLs() error {
	var errs []error
	for _, d := range []struct {
		name string
		v    *time.Duration
		def  time.Duration
	}{
		{"AccessTokenTTL", &s.AccessTokenTTL, DefaultAccessTokenTTL},
		{"RefreshTokenTTL", &s.RefreshTokenTTL, DefaultRefreshTokenTTL},
		{"AuthorizationCodeTTL", &s.AuthorizationCodeTTL, DefaultAuthorizationCodeTTL},
		{"TransactionTTL", &s.TransactionTTL, DefaultTransactionTTL},
		{"CleanupInterval", &s.CleanupInterval, DefaultCleanupInterval},
		{"ClientIdleTTL", &s.ClientIdleTTL, DefaultClientIdleTTL},
		{"RefreshReuseGrace", &s.RefreshReuseGrace, 0},
	} {
		switch {
		case *d.v < 0:
			errs = append(errs, fmt.Errorf("%s must not be negative (got %s)", d.name, *d.v))
		case *d.v == 0:
			*d.v = d.def
		}
	}
	if s.RefreshReuseGrace > maxRefreshReuseGrace {
		errs = append(errs, fmt.Errorf("RefreshReuseGrace must be at most %s (got %s)", maxRefreshReuseGrace, s.RefreshReuseGrace))
	}
	return errors.Join(errs...)
}

func (s *settings) defaultQuotas() error {
	var errs []error
	for _, q := range []struct {
		name string
		v    *int
		def  int
	}{
		{"MaxClients", &s.MaxClients, DefaultMaxClients},
		{"MaxPendingAuthorizations", &s.MaxPendingAuthorizations, DefaultMaxPendingAuthorizations},
	} {
		switch {
		case *q.v < 0:
			errs = append(errs, fmt.Errorf("%s must not be negative (got %d)", q.name, *q.v))
		case *q.v == 0:
			*q.v = q.def
		}
	}
	return errors.Join(errs...)
}

// checkRedirectPath accepts a clean absolute path of printable characters,
// none of them special in a URL or a ServeMux pattern, that no other endpoint
// of the proxy uses.
func checkRedirectPath(p string) error {
	if !strings.HasPrefix(p, "/") || path.Clean(p) != p {
		return fmt.Errorf("RedirectPath %q must be a clean absolute path", p)
	}
	for i := 0; i < len(p); i++ {
		if c := p[i]; c <= ' ' || c >= 0x7f || strings.IndexByte("?#*{}%\\", c) >= 0 {
			return fmt.Errorf("RedirectPath %q may contain only printable characters without ?#*{}%%\\", p)
		}
	}
	if p == "/" || strings.HasPrefix(p, "/.well-known/") || slices.Contains(reservedPaths, p) {
		return fmt.Errorf("RedirectPath %q is already used by another endpoint", p)
	}
	return nil
}

// parseEndpoint checks that raw is an absolute URL, https unless the host is
// loopback (RFC 8414 §2, OAuth 2.1 §1.5).
func parseEndpoint(name, raw string) (*url.URL, error) {
	if raw == "" {
		return nil, fmt.Errorf("%s is required", name)
	}
	u, err := url.Parse(raw)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	if !u.IsAbs() || u.Host == "" {
		return nil, fmt.Errorf("%s %q must be an absolute URL", name, raw)
	}
	if u.User != nil {
		return nil, fmt.Errorf("%s must not contain userinfo", name)
	}
	switch u.Scheme {
	case "https":
	case "http":
		if !redirecturi.IsLoopbackHost(u.Hostname()) {
			return nil, fmt.Errorf("%s %q must use https (http is allowed only on loopback)", name, raw)
		}
	default:
		return nil, fmt.Errorf("%s %q must be an http(s) URL", name, raw)
	}
	return u, nil
}
