package tokenverify

import (
	"context"
	"crypto/sha256"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/oauthproxy-go/oauthproxy"
)

// maxCachedTokens bounds the introspection cache.
const maxCachedTokens = 10_000

// stillActive asks the proxy's introspection endpoint (RFC 7662) whether a
// token that passed the local checks is still active, remembering a yes for
// IntrospectionCacheTTL (never past the token's expiry). A no is not
// remembered: such a token is refused anyway.
func (v *Verifier) stillActive(ctx context.Context, token string, exp time.Time) error {
	id := sha256.Sum256([]byte(token)) // the cache never holds a token
	now := v.cfg.Now()
	if v.introspected.has(id, now) {
		return nil
	}
	ks := v.keys.Load() // Parse fetched it before calling here
	if ks == nil || ks.introspectionEndpoint == "" {
		return fmt.Errorf("tokenverify: the proxy's metadata names no introspection_endpoint")
	}
	form := url.Values{"token": {token}, "token_type_hint": {"access_token"}}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, ks.introspectionEndpoint, strings.NewReader(form.Encode()))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Accept", "application/json")
	// RFC 6749 §2.3.1: id and secret are form-urlencoded before Basic.
	req.SetBasicAuth(url.QueryEscape(v.cfg.IntrospectionClientID), url.QueryEscape(v.cfg.IntrospectionClientSecret))
	resp, err := v.cfg.HTTPClient.Do(req)
	if err != nil {
		return fmt.Errorf("tokenverify: introspection: %w", err)
	}
	defer resp.Body.Close()
	var answer struct {
		Active    bool   `json:"active"`
		TokenType string `json:"token_type"`
	}
	if err := readJSON(resp, &answer); err != nil {
		return fmt.Errorf("tokenverify: introspection: %w", err)
	}
	if !answer.Active || (answer.TokenType != "" && !strings.EqualFold(answer.TokenType, "Bearer")) {
		return fmt.Errorf("%w: the proxy says the token is no longer active", oauthproxy.ErrTokenRevoked)
	}
	until := now.Add(v.cfg.IntrospectionCacheTTL)
	if exp.Before(until) {
		until = exp
	}
	v.introspected.add(id, until, now)
	return nil
}

// activeCache remembers tokens the proxy called active, by hash, until a
// deadline. It holds at most maxCachedTokens: when full, expired entries
// go, and if none has expired, all of them.
type activeCache struct {
	mu    sync.Mutex
	until map[[sha256.Size]byte]time.Time
}

func newActiveCache() *activeCache {
	return &activeCache{until: map[[sha256.Size]byte]time.Time{}}
}

func (c *activeCache) has(id [sha256.Size]byte, now time.Time) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	until, ok := c.until[id]
	return ok && now.Before(until)
}

func (c *activeCache) add(id [sha256.Size]byte, until, now time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.until) >= maxCachedTokens {
		for k, u := range c.until {
			if !now.Before(u) {
				delete(c.until, k)
			}
		}
		if len(c.until) >= maxCachedTokens {
			clear(c.until)
		}
	}
	c.until[id] = until
}
