package gateway

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/oauthproxy-go/oauthproxy"
	"github.com/oauthproxy-go/oauthproxy/providers"
	redislimit "github.com/oauthproxy-go/oauthproxy/ratelimit/redis"
	"github.com/oauthproxy-go/oauthproxy/storage"
	"github.com/oauthproxy-go/oauthproxy/storage/bolt"
	redisstore "github.com/oauthproxy-go/oauthproxy/storage/redis"
	goredis "github.com/redis/go-redis/v9"
)

// Options are what an embedding program (or a test) gives the gateway
// beside its Config.
type Options struct {
	// Logger receives the gateway's and the library's logs. Default: JSON
	// on standard error at Config.LogLevel.
	Logger *slog.Logger
	// HTTPClient calls the upstream provider (discovery, tokens, user
	// info). Default: the library's, with a 10 s timeout.
	HTTPClient *http.Client
	// Now is the clock of the library and the presets. Default time.Now.
	Now func() time.Time
	// Configure, when set, adjusts the library's Config last, after the
	// file, the environment and the provider preset: for options with no
	// file form (ClaimsExtractor, ConsentTemplate, Branding, OnEvent …).
	// The gateway's own OnEvent (metrics) still runs after a set one.
	Configure func(*oauthproxy.Config)
}

// Check validates c as New would, without opening storage or a listener:
// the gateway's own rules, then the provider preset (oidc discovers its
// issuer) and every check of oauthproxy.New. Every problem is reported at
// once, joined.
func (c *Config) Check(ctx context.Context, opts Options) error {
	cc := *c
	cc.withDefaults()
	errs := cc.checkGateway()
	pc, err := cc.proxyConfig(ctx, opts, slog.New(slog.DiscardHandler))
	if err != nil {
		errs = append(errs, err)
	} else {
		// A stand-in for bolt and redis, so New applies its rule that
		// persistent storage needs keys set, without opening either.
		pc.TokenStorage = storage.NewMemory()
		if cc.Storage.Type != StorageMemory {
			pc.TokenStorage = persistentStandIn{pc.TokenStorage}
		}
		p, err := oauthproxy.New(pc)
		if err != nil {
			errs = append(errs, err)
		} else {
			p.Destroy()
		}
	}
	return errors.Join(errs...)
}

// persistentStandIn says it is persistent, as bolt and redis do.
type persistentStandIn struct{ storage.TokenStorage }

func (persistentStandIn) Persistent() bool { return true }

// proxyConfig maps c onto the library's Config and applies the provider
// preset. Storage is left to the caller.
func (c *Config) proxyConfig(ctx context.Context, opts Options, log *slog.Logger) (oauthproxy.Config, error) {
	s := c.Secrets
	pc := oauthproxy.Config{
		BaseURL:                         c.BaseURL,
		UpstreamClientID:                c.Provider.ClientID,
		UpstreamClientSecret:            s.UpstreamClientSecret,
		UpstreamTokenEndpointAuthMethod: c.Provider.TokenEndpointAuthMethod,
		ProviderName:                    c.Provider.DisplayName,
		Scopes:                          c.Scopes,
		ExtraAuthorizationParams:        c.Provider.ExtraAuthorizationParams,
		DisableTokenSwap:                c.DisableTokenSwap,
		DisableConsent:                  c.DisableConsent,
		ConsentRememberTTL:              c.ConsentRememberTTL,
		ScopeDescriptions:               c.ScopeDescriptions,
		RedirectPath:                    c.RedirectPath,
		AllowedRedirectURIPatterns:      c.AllowedRedirectURIPatterns,
		Resource:                        strings.TrimRight(c.BaseURL, "/") + c.MCPPath,
		ResourceAllowedOrigins:          c.ResourceAllowedOrigins,
		AccessTokenTTL:                  c.AccessTokenTTL,
		RefreshTokenTTL:                 c.RefreshTokenTTL,
		AuthorizationCodeTTL:            c.AuthorizationCodeTTL,
		TransactionTTL:                  c.TransactionTTL,
		RefreshReuseGrace:               c.RefreshReuseGrace,
		ClientIdleTTL:                   c.ClientIdleTTL,
		MaxClients:                      c.MaxClients,
		MaxPendingAuthorizations:        c.MaxPendingAuthorizations,
		EnableCIMD:                      c.EnableCIMD,
		PassthroughClaims:               c.PassthroughClaims,
		TrustedProxies:                  c.TrustedProxies,
		RateLimits: oauthproxy.RateLimits{
			Register:  c.RateLimits.Register.Limit,
			Authorize: c.RateLimits.Authorize.Limit,
			Consent:   c.RateLimits.Consent.Limit,
			Token:     c.RateLimits.Token.Limit,
			Revoke:    c.RateLimits.Revoke.Limit,
		},
		JWTSigningKeys:    s.JWTSigningKeys,
		EncryptionKeys:    s.EncryptionKeys,
		ConsentSigningKey: s.ConsentSigningKey,
		HTTPClient:        opts.HTTPClient,
		Now:               opts.Now,
		Logger:            log,
	}
	pc, err := c.applyPreset(ctx, pc)
	if err != nil {
		return pc, err
	}
	if opts.Configure != nil {
		opts.Configure(&pc)
	}
	return pc, nil
}

// applyPreset fills in the provider's endpoints, scopes and identity rules
// (package providers); fields already set are kept.
func (c *Config) applyPreset(ctx context.Context, pc oauthproxy.Config) (oauthproxy.Config, error) {
	p := c.Provider
	var err error
	switch p.Name {
	case ProviderGitHub:
		pc, err = providers.GitHubOptions{URL: p.URL, APIURL: p.APIURL}.Apply(pc)
	case ProviderGoogle:
		pc, err = providers.GoogleOptions{HostedDomain: p.HostedDomain}.Apply(pc)
	case ProviderEntra:
		pc, err = providers.EntraOptions{Tenant: p.Tenant, AllowedTenants: p.AllowedTenants}.Apply(pc)
	case ProviderOIDC:
		if p.Issuer == "" {
			return pc, errors.New("provider.issuer is required for oidc")
		}
		pc, err = providers.OIDC(ctx, p.Issuer, pc)
	default:
		return pc, fmt.Errorf("provider.name %q is not github, google, entra or oidc", p.Name)
	}
	if err != nil {
		return pc, fmt.Errorf("provider %s: %w", p.Name, err)
	}
	return pc, nil
}

// backing is the storage the gateway opened, and what it must close.
type backing struct {
	store   storage.TokenStorage
	limiter oauthproxy.RateLimiter // nil: the library's default
	closers []io.Closer
}

func (b *backing) Close() error {
	var errs []error
	for _, c := range b.closers {
		errs = append(errs, c.Close())
	}
	return errors.Join(errs...)
}

// openStorage opens the configured store (and the shared rate limiter).
func (c *Config) openStorage() (*backing, error) {
	b := &backing{}
	switch c.Storage.Type {
	case StorageBolt:
		st, err := bolt.Open(c.Storage.Path)
		if err != nil {
			return nil, fmt.Errorf("gateway: storage: %w", err)
		}
		b.store = st
		b.closers = append(b.closers, st)
	case StorageRedis:
		ro, err := c.redisOptions()
		if err != nil {
			return nil, fmt.Errorf("gateway: storage: %w", err)
		}
		client := goredis.NewClient(ro)
		b.closers = append(b.closers, client)
		var sopts []redisstore.Option
		if c.Storage.RedisPrefix != "" {
			sopts = append(sopts, redisstore.WithPrefix(c.Storage.RedisPrefix))
		}
		b.store = redisstore.New(client, sopts...)
		if c.RateLimits.Shared {
			b.limiter = redislimit.New(client)
		}
	default:
		b.store = storage.NewMemory()
	}
	return b, nil
}
