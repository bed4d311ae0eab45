package gateway

import (
	"time"
)

// Config is the gateway's configuration: a YAML file (LoadConfig), each
// scalar overridable from the environment, and Secrets, which come only from
// the environment or from files. Keys are named after the oauthproxy.Config
// fields they set, in snake_case; the zero value of each means the library's
// default.
type Config struct {
	// Listen is the address of the public listener: OAuth endpoints, the
	// proxied MCP endpoint, /healthz and /readyz. Default ":8080".
	Listen string `yaml:"listen"`
	// MetricsListen, when set, serves Prometheus /metrics (and the probes) on
	// its own address, e.g. "127.0.0.1:9090", so it is never public.
	MetricsListen string `yaml:"metrics_listen"`
	// BaseURL is the gateway's public origin, the OAuth issuer. Required.
	BaseURL string `yaml:"base_url"`
	// MCPPath is the public path of the protected MCP endpoint; the
	// resource (RFC 8707) is BaseURL+MCPPath. Default "/mcp".
	MCPPath string `yaml:"mcp_path"`
	// ShutdownTimeout bounds the drain on SIGTERM: in-flight requests and
	// tool-call streams may finish within it. Default 30 s.
	ShutdownTimeout time.Duration `yaml:"shutdown_timeout"`
	// LogLevel is debug, info (default), warn or error. Logs are JSON.
	LogLevel string `yaml:"log_level"`

	Provider Provider `yaml:"provider"`
	Backend  Backend  `yaml:"backend"`
	Storage  Storage  `yaml:"storage"`

	// The options of oauthproxy.Config of the same names.
	Scopes                     []string          `yaml:"scopes"`
	DisableTokenSwap           bool              `yaml:"disable_token_swap"`
	DisableConsent             bool              `yaml:"disable_consent"`
	ConsentRememberTTL         time.Duration     `yaml:"consent_remember_ttl"`
	RedirectPath               string            `yaml:"redirect_path"`
	AllowedRedirectURIPatterns []string          `yaml:"allowed_redirect_uri_patterns"`
	ResourceAllowedOrigins     []string          `yaml:"resource_allowed_origins"`
	AccessTokenTTL             time.Duration     `yaml:"access_token_ttl"`
	RefreshTokenTTL            time.Duration     `yaml:"refresh_token_ttl"`
	AuthorizationCodeTTL       time.Duration     `yaml:"authorization_code_ttl"`
	TransactionTTL             time.Duration     `yaml:"transaction_ttl"`
	RefreshReuseGrace          time.Duration     `yaml:"refresh_reuse_grace"`
	ClientIdleTTL              time.Duration     `yaml:"client_idle_ttl"`
	MaxClients                 int               `yaml:"max_clients"`
	MaxPendingAuthorizations   int               `yaml:"max_pending_authorizations"`
	EnableCIMD                 bool              `yaml:"enable_cimd"`
	PassthroughClaims          []string          `yaml:"passthrough_claims"`
	ScopeDescriptions          map[string]string `yaml:"scope_descriptions"`
	TrustedProxies             []string          `yaml:"trusted_proxies"`
	RateLimits                 RateLimits        `yaml:"rate_limits"`

	// Secrets are never read from the file (a key there is an error): see
	// the Secrets type for their environment variables.
	Secrets Secrets `yaml:"-"`
}

// Provider selects the upstream identity provider through a preset of the
// providers package.
type Provider struct {
	// Name is github, google, entra or oidc. Required.
	Name string `yaml:"name"`
	// ClientID is the gateway's client at the provider; its secret is the
	// OAUTHPROXY_UPSTREAM_CLIENT_SECRET secret. Required.
	ClientID string `yaml:"client_id"`
	// Issuer is the OpenID Connect issuer, for oidc (discovered at start).
	Issuer string `yaml:"issuer"`
	// Tenant is the Entra tenant id or domain, for entra; AllowedTenants
	// narrows the multi-tenant values.
	Tenant         string   `yaml:"tenant"`
	AllowedTenants []string `yaml:"allowed_tenants"`
	// HostedDomain admits only one Google Workspace domain, for google.
	HostedDomain string `yaml:"hosted_domain"`
	// URL and APIURL reach GitHub Enterprise Server, for github.
	URL    string `yaml:"url"`
	APIURL string `yaml:"api_url"`
	// DisplayName names the provider on the consent page (ProviderName).
	DisplayName string `yaml:"display_name"`
	// TokenEndpointAuthMethod overrides the preset's
	// (UpstreamTokenEndpointAuthMethod).
	TokenEndpointAuthMethod string `yaml:"token_endpoint_auth_method"`
	// ExtraAuthorizationParams are added to the upstream authorization
	// request. File only (a map has no environment form).
	ExtraAuthorizationParams map[string]string `yaml:"extra_authorization_params"`
}

// Backend is the MCP server the gateway protects.
type Backend struct {
	// URL is the backend's MCP endpoint ("http://127.0.0.1:3000/mcp"); every
	// request to MCPPath goes to exactly this URL, query kept. Required.
	URL string `yaml:"url"`
	// ResponseHeaderTimeout bounds the wait for the backend's response
	// headers; past it the client gets 504. Streams, once started, have no
	// total timeout. Default 60 s.
	ResponseHeaderTimeout time.Duration `yaml:"response_header_timeout"`
	// DialTimeout bounds connecting to the backend. Default 5 s.
	DialTimeout time.Duration `yaml:"dial_timeout"`
	// MaxRequestBytes caps a request body; larger ones get 413. Default
	// 4 MiB.
	MaxRequestBytes int64 `yaml:"max_request_bytes"`
	// Headers names the identity headers the backend receives.
	Headers IdentityHeaders `yaml:"headers"`
	// PassAccessToken sends the user's upstream access token in
	// Headers.AccessToken, for a backend that calls the provider's API on the
	// user's behalf. Off by default: it widens what a compromised backend
	// holds.
	PassAccessToken bool `yaml:"pass_access_token"`
	// SignAssertion sends a signed assertion of the caller (Assertion) in
	// Headers.Assertion; the key is the OAUTHPROXY_ASSERTION_KEY secret.
	SignAssertion bool `yaml:"sign_assertion"`
	// AssertionAudience is the assertion's aud; default the backend URL.
	AssertionAudience string `yaml:"assertion_audience"`
}

// IdentityHeaders are the names of the headers that tell the backend who
// calls. The defaults are oauth2-proxy's where it has one. Incoming headers
// of these names (and of the defaults) are always removed first, whatever
// their case, so a client cannot claim an identity.
type IdentityHeaders struct {
	User              string `yaml:"user"`               // subject; default X-Forwarded-User
	Email             string `yaml:"email"`              // default X-Forwarded-Email
	PreferredUsername string `yaml:"preferred_username"` // default X-Forwarded-Preferred-Username
	ClientID          string `yaml:"client_id"`          // the MCP client; default X-Forwarded-Client-Id
	Scopes            string `yaml:"scopes"`             // space-separated; default X-Forwarded-Scopes
	AccessToken       string `yaml:"access_token"`       // upstream token; default X-Forwarded-Access-Token
	Assertion         string `yaml:"assertion"`          // signed JWT; default X-Oauthproxy-Assertion
}

// DefaultIdentityHeaders are the identity header names used when the file
// names none.
var DefaultIdentityHeaders = IdentityHeaders{
	User:              "X-Forwarded-User",
	Email:             "X-Forwarded-Email",
	PreferredUsername: "X-Forwarded-Preferred-Username",
	ClientID:          "X-Forwarded-Client-Id",
	Scopes:            "X-Forwarded-Scopes",
	AccessToken:       "X-Forwarded-Access-Token",
	Assertion:         "X-Oauthproxy-Assertion",
}

// Storage selects where clients, grants and tokens live.
type Storage struct {
	// Type is memory (default: lost on restart), bolt or redis.
	Type string `yaml:"type"`
	// Path is the bolt database file.
	Path string `yaml:"path"`
	// RedisURL is redis://host:port/db or rediss://… without a password
	// (that is the OAUTHPROXY_REDIS_PASSWORD secret).
	RedisURL string `yaml:"redis_url"`
	// RedisPrefix prefixes every key; default storage/redis's.
	RedisPrefix string `yaml:"redis_prefix"`
}

// RateLimits are oauthproxy.RateLimits, each written "RATE/PER" with PER s,
// m, h or a duration, and optionally " burst N": "30/m", "5/s burst 10".
type RateLimits struct {
	Register  Limit `yaml:"register"`
	Authorize Limit `yaml:"authorize"`
	Consent   Limit `yaml:"consent"`
	Token     Limit `yaml:"token"`
	Revoke    Limit `yaml:"revoke"`
	// Shared keeps the counts on the storage's Redis (storage type redis),
	// so replicas share one budget per address. Default: per process.
	Shared bool `yaml:"shared"`
}

// Defaults for the zero values of Config.
const (
	DefaultListen                = ":8080"
	DefaultMCPPath               = "/mcp"
	DefaultShutdownTimeout       = 30 * time.Second
	DefaultResponseHeaderTimeout = 60 * time.Second
	DefaultDialTimeout           = 5 * time.Second
	DefaultMaxRequestBytes       = 4 << 20
)
