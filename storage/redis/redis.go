package redis

import (
	"context"
	"errors"
	"fmt"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/oauthproxy-go/oauthproxy/storage"
)

// Store is a storage.TokenStorage over a go-redis client. It is safe for
// concurrent use, as the client is.
type Store struct {
	client goredis.UniversalClient
	prefix string
}

var (
	_ storage.TokenStorage = (*Store)(nil)
	_ storage.Persistence  = (*Store)(nil)
)

// New returns a Store that keeps its entries in client, under DefaultPrefix unless
// an option says otherwise. It panics if client is nil, a programming error.
func New(client goredis.UniversalClient, opts ...Option) *Store {
	if client == nil {
		panic("storage/redis: New needs a client")
	}
	s := &Store{client: client, prefix: DefaultPrefix}
	for _, opt := range opts {
		opt(s)
	}
	return s
}

// Persistent reports true: the data is shared between processes and outlives them.
func (s *Store) Persistent() bool { return true }

// Save stores value under key with SET … PX, so the TTL has millisecond
// resolution; a positive ttl under a millisecond becomes one. ttl <= 0 never
// expires.
func (s *Store) Save(ctx context.Context, key string, value []byte, ttl time.Duration) error {
	var err error
	if ttl > 0 {
		err = s.client.Do(ctx, "set", s.prefix+key, value, "px", max(ttl.Milliseconds(), 1)).Err()
	} else {
		err = s.client.Do(ctx, "set", s.prefix+key, value).Err()
	}
	if err != nil {
		return wrap(ctx, "save", key, err)
	}
	return nil
}

// Get returns the value under key with GET, or storage.ErrNotFound.
func (s *Store) Get(ctx context.Context, key string) ([]byte, error) {
	return s.read(ctx, "get", key, s.client.Get(ctx, s.prefix+key))
}

// Take returns and deletes the value under key with GETDEL, one atomic command,
// so of concurrent Takes exactly one succeeds, across replicas too. A Take that
// fails on a deadline may still have consumed the value, which for single-use
// codes errs on the safe side.
func (s *Store) Take(ctx context.Context, key string) ([]byte, error) {
	return s.read(ctx, "take", key, s.client.GetDel(ctx, s.prefix+key))
}

// Delete removes key with DEL; a missing key is not an error.
func (s *Store) Delete(ctx context.Context, key string) error {
	if err := s.client.Del(ctx, s.prefix+key).Err(); err != nil {
		return wrap(ctx, "delete", key, err)
	}
	return nil
}

// Cleanup does nothing: Redis deletes expired keys itself.
func (s *Store) Cleanup(context.Context) error { return nil }

// read turns a GET-like reply into the storage contract: a nil reply is
// ErrNotFound, any other failure is wrapped, and a hit is never a nil slice.
func (s *Store) read(ctx context.Context, op, key string, cmd *goredis.StringCmd) ([]byte, error) {
	// Bytes shares memory with the reply, but each reply is freshly allocated and
	// owned by this call alone, so it can be handed over without a copy.
	value, err := cmd.Bytes()
	switch {
	case errors.Is(err, goredis.Nil):
		return nil, storage.ErrNotFound
	case err != nil:
		return nil, wrap(ctx, op, key, err)
	case value == nil:
		return []byte{}, nil
	}
	return value, nil
}

// wrap names the operation and key and, when ctx has ended, also wraps ctx's
// error: a socket deadline set from ctx can fire a moment before ctx reports it, and
// callers should be able to test for context.DeadlineExceeded either way.
func wrap(ctx context.Context, op, key string, err error) error {
	ctxErr := ctx.Err()
	if ctxErr == nil {
		if deadline, ok := ctx.Deadline(); ok && !time.Now().Before(deadline) {
			ctxErr = context.DeadlineExceeded
		}
	}
	if ctxErr != nil && !errors.Is(err, ctxErr) {
		return fmt.Errorf("storage/redis: %s %q: %w: %w", op, key, err, ctxErr)
	}
	return fmt.Errorf("storage/redis: %s %q: %w", op, key, err)
}
