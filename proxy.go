package oauthproxy

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"time"

	opcrypto "github.com/oauthproxy-go/oauthproxy/crypto"
	"github.com/oauthproxy-go/oauthproxy/internal/cimd"
	"github.com/oauthproxy-go/oauthproxy/internal/upstream"
	"github.com/oauthproxy-go/oauthproxy/storage"
	"golang.org/x/sync/singleflight"
)

// Proxy is an OAuth 2.1 authorization server for MCP clients that delegates user
// login to one upstream provider. Create it with New, mount Handler, protect the
// MCP endpoint with RequireBearer, and call Destroy on shutdown. A Proxy is safe
// for concurrent use.
type Proxy struct {
	cfg   *settings
	store storage.TokenStorage
	// sealsRecords says store is the encrypting wrapper, which keeps none of
	// the bytes it is given (putJSON reuses its buffers then).
	sealsRecords bool
	// redirectVerdicts caches redirectAllowed (S22 holds: see its comment).
	redirectVerdicts *redirectVerdicts
	// decodedClients saves decoding a client record's same bytes again.
	decodedClients *decodedClients
	upstream       *upstream.Client
	// upstreamAuthorizationURLs holds the constant part of the redirect to
	// the provider (authorize_url.go).
	upstreamAuthorizationURLs *upstreamAuthorizationURLs
	tokens                    accessTokenSigner
	cimd                      *cimd.Fetcher
	log                       *slog.Logger
	handler                   http.Handler
	// refreshes lets concurrent users of one grant share an upstream refresh.
	refreshes singleflight.Group
	// clientQuota and pendingQuota bound what anonymous requests store (S19).
	clientQuota  *quota
	pendingQuota *quota
	// consentPages renders the built-in consent page (consent_fastpage.go).
	consentPages consentPages
	// consentMACs are keyed HMACs under ConsentSigningKey, for sign (cookies.go).
	consentMACs sync.Pool

	stopCleanup chan struct{}
	cleanupDone chan struct{}
	destroyOnce sync.Once
}

// New validates cfg, fills in defaults, generates missing keys (with a logged
// warning) and starts the background storage cleanup.
func New(cfg Config) (*Proxy, error) {
	s, err := cfg.withDefaults()
	if err != nil {
		return nil, err
	}
	p := &Proxy{
		cfg: s,
		log: s.Logger.With("component", "oauthproxy"),
		upstream: &upstream.Client{
			HTTPClient:   s.HTTPClient,
			TokenURL:     s.UpstreamTokenEndpoint,
			ClientID:     s.UpstreamClientID,
			ClientSecret: s.UpstreamClientSecret,
			AuthMethod:   s.UpstreamTokenEndpointAuthMethod,
			ExtraParams:  s.ExtraTokenParams,
		},
		tokens:       newAccessTokenSigner(s),
		cimd:         newCIMDFetcher(s),
		clientQuota:  newQuota("clients", nsClient, s.MaxClients),
		pendingQuota: newQuota("pending_authorizations", nsTransaction, s.MaxPendingAuthorizations),
		stopCleanup:  make(chan struct{}),

		redirectVerdicts: newRedirectVerdicts(),
		decodedClients:   newDecodedClients(),
		cleanupDone:      make(chan struct{}),
	}

	base := s.TokenStorage
	if base == nil {
		base = storage.NewMemory()
	}
	if s.DisableEncryption {
		p.store = base
	} else {
		sealer, err := opcrypto.NewSealer(s.encryptionKeys...)
		if err != nil {
			return nil, fmt.Errorf("oauthproxy: encryption key: %w", err)
		}
		p.store = storage.NewEncrypted(base, sealer)
		p.sealsRecords = true
	}

	if len(s.generatedKeyNames) > 0 {
		p.log.Warn("oauthproxy: generated random keys; tokens, registrations and grants will not survive a restart. Set them in Config for production.",
			"keys", strings.Join(s.generatedKeyNames, ","))
	}
	p.upstreamAuthorizationURLs = newUpstreamAuthorizationURLs(s.upstreamAuthorize, s.ExtraAuthorizationParams,
		s.UpstreamClientID, s.redirectURL)
	p.handler = p.routes()
	go p.cleanupLoop()
	return p, nil
}

// accessTokenSigner issues and verifies the proxy's access tokens: HS256
// (tokenSigner) by default, ES256 (es256Signer) with AccessTokenSigningKeys.
// A proxy has exactly one, so the algorithm is pinned (RFC 8725 §3.1).
type accessTokenSigner interface {
	issue(c *Claims, ttl time.Duration) (string, time.Time, error)
	verify(raw, audience string) (*Claims, error)
}

func newAccessTokenSigner(s *settings) accessTokenSigner {
	if len(s.AccessTokenSigningKeys) > 0 {
		return newES256Signer(s.AccessTokenSigningKeys, s.BaseURL, s.Now)
	}
	return newTokenSigner(s.jwtKeys, s.BaseURL, s.Now)
}

// persistent reports whether s survives restarts or is shared between processes.
func persistent(s storage.TokenStorage) bool {
	p, ok := s.(storage.Persistence)
	return ok && p.Persistent()
}

// Destroy stops the background cleanup and waits for it to exit. It is
// idempotent and safe to call concurrently. The storage is not closed: it
// belongs to the caller.
func (p *Proxy) Destroy() {
	p.destroyOnce.Do(func() {
		close(p.stopCleanup)
		if p.cfg.ownHTTPClient { // its pooled upstream connections end with the proxy
			p.cfg.HTTPClient.CloseIdleConnections()
		}
	})
	<-p.cleanupDone
}

// cleanupLoop removes expired entries every CleanupInterval.
func (p *Proxy) cleanupLoop() {
	defer close(p.cleanupDone)
	ticker := time.NewTicker(p.cfg.CleanupInterval)
	defer ticker.Stop()
	for {
		select {
		case <-p.stopCleanup:
			return
		case <-ticker.C:
			ctx, cancel := context.WithTimeout(context.Background(), p.cfg.CleanupInterval)
			go func() {
				// Destroy must not wait for a slow Cleanup: cancel it instead.
				select {
				case <-p.stopCleanup:
					cancel()
				case <-ctx.Done():
				}
			}()
			if err := p.store.Cleanup(ctx); err != nil {
				p.log.Warn("oauthproxy: storage cleanup failed", "error", err)
			}
			cancel()
		}
	}
}

// Handler returns the HTTP handler serving every OAuth endpoint. Mount it at "/"
// (the well-known documents must sit at the origin's root, RFC 8414 §3).
func (p *Proxy) Handler() http.Handler { return p.handler }
