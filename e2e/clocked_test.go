package e2e

import (
	"context"
	"sync"
	"time"

	"github.com/mark3labs/mcp-go/client/transport"
	"golang.org/x/oauth2"
)

// The clients below judge a token's expiry by the wall clock, which the test
// does not move. These adapters, each built on the client's own public hook,
// let them judge it by the test clock instead; whether and how to refresh is
// left to the client's code.

// clockedTokenSource is an oauth2.TokenSource that keeps a token until its
// expires_in has passed on the test clock, then lets x/oauth2 refresh it:
// it hands x/oauth2's token source the token as the wall clock would see it
// by then, expired.
type clockedTokenSource struct {
	ctx   context.Context
	cfg   *oauth2.Config
	clock *clock

	mu      sync.Mutex
	tok     *oauth2.Token
	expires time.Time // on the test clock
}

func newClockedTokenSource(ctx context.Context, cfg *oauth2.Config, tok *oauth2.Token, c *clock) *clockedTokenSource {
	return &clockedTokenSource{ctx: ctx, cfg: cfg, clock: c, tok: tok, expires: c.Now().Add(time.Duration(tok.ExpiresIn) * time.Second)}
}

func (s *clockedTokenSource) Token() (*oauth2.Token, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.tok.ExpiresIn == 0 || s.clock.Now().Before(s.expires) {
		return s.tok, nil
	}
	stale := *s.tok
	stale.Expiry = time.Now().Add(-time.Minute)
	fresh, err := s.cfg.TokenSource(s.ctx, &stale).Token()
	if err != nil {
		return nil, err
	}
	s.tok, s.expires = fresh, s.clock.Now().Add(time.Duration(fresh.ExpiresIn)*time.Second)
	return fresh, nil
}

// clockedTokenStore is an mcp-go TokenStore that reports a token expired
// once its expires_in has passed on the test clock.
type clockedTokenStore struct {
	clock *clock

	mu      sync.Mutex
	tok     *transport.Token
	expires time.Time // on the test clock; zero: does not expire
}

var _ transport.TokenStore = (*clockedTokenStore)(nil)

func (s *clockedTokenStore) GetToken(ctx context.Context) (*transport.Token, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.tok == nil {
		return nil, transport.ErrNoToken
	}
	t := *s.tok
	if !s.expires.IsZero() && !s.clock.Now().Before(s.expires) {
		t.ExpiresAt = time.Now().Add(-time.Second)
	}
	return &t, nil
}

func (s *clockedTokenStore) SaveToken(ctx context.Context, t *transport.Token) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	saved := *t
	s.tok = &saved
	s.expires = time.Time{}
	if t.ExpiresIn > 0 {
		s.expires = s.clock.Now().Add(time.Duration(t.ExpiresIn) * time.Second)
	}
	return nil
}

// saved returns the stored token, for assertions.
func (s *clockedTokenStore) saved() transport.Token {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.tok == nil {
		return transport.Token{}
	}
	return *s.tok
}
