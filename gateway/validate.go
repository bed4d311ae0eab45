package gateway

import (
	"errors"
	"fmt"
	"net"
	"net/url"
	"path"
	"slices"
	"strings"

	goredis "github.com/redis/go-redis/v9"
	"golang.org/x/net/http/httpguts"
)

// Provider names.
const (
	ProviderGitHub = "github"
	ProviderGoogle = "google"
	ProviderEntra  = "entra"
	ProviderOIDC   = "oidc"
)

// Storage types.
const (
	StorageMemory = "memory"
	StorageBolt   = "bolt"
	StorageRedis  = "redis"
)

// minAssertionKey is HS256's key size (RFC 7518 §3.2: at least the hash size).
const minAssertionKey = 32

// withDefaults fills the gateway's own defaults; the library fills its own.
func (c *Config) withDefaults() {
	if c.Listen == "" {
		c.Listen = DefaultListen
	}
	if c.MCPPath == "" {
		c.MCPPath = DefaultMCPPath
	}
	if c.ShutdownTimeout == 0 {
		c.ShutdownTimeout = DefaultShutdownTimeout
	}
	if c.Storage.Type == "" {
		c.Storage.Type = StorageMemory
	}
	b := &c.Backend
	if b.ResponseHeaderTimeout == 0 {
		b.ResponseHeaderTimeout = DefaultResponseHeaderTimeout
	}
	if b.DialTimeout == 0 {
		b.DialTimeout = DefaultDialTimeout
	}
	if b.MaxRequestBytes == 0 {
		b.MaxRequestBytes = DefaultMaxRequestBytes
	}
	if b.AssertionAudience == "" {
		b.AssertionAudience = b.URL
	}
	h, d := &b.Headers, DefaultIdentityHeaders
	for _, f := range []struct {
		v   *string
		def string
	}{
		{&h.User, d.User}, {&h.Email, d.Email}, {&h.PreferredUsername, d.PreferredUsername},
		{&h.ClientID, d.ClientID}, {&h.Scopes, d.Scopes}, {&h.AccessToken, d.AccessToken}, {&h.Assertion, d.Assertion},
	} {
		if *f.v == "" {
			*f.v = f.def
		}
	}
}

// checkGateway checks what the library does not: the listeners, the MCP
// path, the backend, identity headers, provider and storage selection.
func (c *Config) checkGateway() []error {
	var errs []error
	add := func(format string, args ...any) { errs = append(errs, fmt.Errorf(format, args...)) }

	for name, addr := range map[string]string{"listen": c.Listen, "metrics_listen": c.MetricsListen} {
		if addr == "" {
			continue
		}
		if _, _, err := net.SplitHostPort(addr); err != nil {
			add("%s %q is not host:port", name, addr)
		}
	}
	if c.MetricsListen != "" && c.MetricsListen == c.Listen {
		add("metrics_listen must differ from listen: metrics are not for the public")
	}
	if p := c.MCPPath; !strings.HasPrefix(p, "/") || path.Clean(p) != p || p == "/" || strings.ContainsAny(p, "?#*{}% ") {
		add("mcp_path %q must be a clean absolute path other than /", p)
	} else if slices.Contains([]string{"/healthz", "/readyz", "/metrics"}, p) || strings.HasPrefix(p, "/oauth/") || strings.HasPrefix(p, "/.well-known/") {
		add("mcp_path %q is used by another endpoint", p)
	}
	if c.ShutdownTimeout < 0 {
		add("shutdown_timeout must not be negative")
	}
	switch c.LogLevel {
	case "", "debug", "info", "warn", "error":
	default:
		add("log_level %q is not debug, info, warn or error", c.LogLevel)
	}
	errs = append(errs, c.checkBackend()...)
	errs = append(errs, c.checkProvider()...)
	errs = append(errs, c.checkStorage()...)
	return errs
}

func (c *Config) checkBackend() []error {
	var errs []error
	add := func(format string, args ...any) { errs = append(errs, fmt.Errorf(format, args...)) }
	b := c.Backend
	if u, err := url.Parse(b.URL); b.URL == "" {
		add("backend.url is required")
	} else if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		add("backend.url %q must be an absolute http(s) URL", b.URL)
	} else if u.User != nil {
		add("backend.url must not contain userinfo: it would sit in the file in the clear")
	}
	if b.ResponseHeaderTimeout < 0 || b.DialTimeout < 0 {
		add("backend timeouts must not be negative")
	}
	if b.MaxRequestBytes < 0 {
		add("backend.max_request_bytes must not be negative")
	}
	seen := map[string]string{}
	h := b.Headers
	for _, f := range []struct{ key, name string }{
		{"user", h.User}, {"email", h.Email}, {"preferred_username", h.PreferredUsername}, {"client_id", h.ClientID},
		{"scopes", h.Scopes}, {"access_token", h.AccessToken}, {"assertion", h.Assertion},
	} {
		canon := strings.ToLower(f.name)
		switch {
		case !httpguts.ValidHeaderFieldName(f.name):
			add("backend.headers.%s %q is not a valid header name", f.key, f.name)
		case reservedHeaders[canon]:
			add("backend.headers.%s %q is a header the gateway must control", f.key, f.name)
		case seen[canon] != "":
			add("backend.headers.%s %q is also backend.headers.%s", f.key, f.name, seen[canon])
		}
		seen[canon] = f.key
	}
	if b.SignAssertion && len(c.Secrets.AssertionKey) < minAssertionKey {
		add("backend.sign_assertion needs %s of at least %d bytes", EnvAssertionKey, minAssertionKey)
	}
	return errs
}

// reservedHeaders cannot carry identity: the request itself depends on them.
var reservedHeaders = map[string]bool{
	"authorization": true, "cookie": true, "host": true, "content-length": true, "content-type": true,
	"connection": true, "transfer-encoding": true, "upgrade": true, "te": true, "trailer": true,
	"mcp-session-id": true, "mcp-protocol-version": true, "accept": true,
	"x-forwarded-for": true, "x-forwarded-host": true, "x-forwarded-proto": true, "forwarded": true,
}

func (c *Config) checkProvider() []error {
	var errs []error
	p := c.Provider
	switch p.Name {
	case ProviderGitHub, ProviderGoogle:
	case ProviderEntra:
		if p.Tenant == "" {
			errs = append(errs, errors.New("provider.tenant is required for entra"))
		}
	case ProviderOIDC:
		if p.Issuer == "" {
			errs = append(errs, errors.New("provider.issuer is required for oidc"))
		}
	case "":
		errs = append(errs, errors.New("provider.name is required: github, google, entra or oidc"))
	default:
		errs = append(errs, fmt.Errorf("provider.name %q is not github, google, entra or oidc", p.Name))
	}
	return errs
}

func (c *Config) checkStorage() []error {
	var errs []error
	s := c.Storage
	switch s.Type {
	case StorageMemory:
	case StorageBolt:
		if s.Path == "" {
			errs = append(errs, errors.New("storage.path is required for bolt"))
		}
	case StorageRedis:
		if _, err := c.redisOptions(); err != nil {
			errs = append(errs, err)
		}
	default:
		errs = append(errs, fmt.Errorf("storage.type %q is not memory, bolt or redis", s.Type))
	}
	if c.RateLimits.Shared && s.Type != StorageRedis {
		errs = append(errs, errors.New("rate_limits.shared needs storage.type redis"))
	}
	return errs
}

// redisOptions parses storage.redis_url and adds the password secret.
func (c *Config) redisOptions() (*goredis.Options, error) {
	raw := c.Storage.RedisURL
	if raw == "" {
		return nil, errors.New("storage.redis_url is required for redis")
	}
	if u, err := url.Parse(raw); err == nil && u.User != nil {
		if _, has := u.User.Password(); has {
			return nil, fmt.Errorf("storage.redis_url must not hold a password: set %s", EnvRedisPassword)
		}
	}
	opts, err := goredis.ParseURL(raw)
	if err != nil {
		// Not %w: the parser's error may quote the URL.
		return nil, errors.New("storage.redis_url is not a redis:// or rediss:// URL")
	}
	opts.Password = c.Secrets.RedisPassword
	// Bound every command by its context, socket reads too (ratelimit/redis).
	opts.ContextTimeoutEnabled = true
	return opts, nil
}
