package redis

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/oauthproxy-go/oauthproxy/storage"
)

// Store is a storage.TokenStorage over a go-redis client. It is safe for
// concurrent use, as the client is.
type Store struct {
	client goredis.UniversalClient
	prefix string
	// counted is the set of namespaces indexed for Count
	// (DefaultCountedNamespaces unless an option says otherwise), or nil when
	// every namespace is counted.
	counted map[string]struct{}
	// saved holds the namespaces (string keys) this Store has indexed a key in,
	// for Cleanup to prune.
	saved sync.Map
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
	WithCountedNamespaces(DefaultCountedNamespaces...)(s)
	for _, opt := range opts {
		opt(s)
	}
	return s
}

// Persistent reports true: the data is shared between processes and outlives them.
func (s *Store) Persistent() bool { return true }

// Save stores value under key with SET … PX, so the TTL has millisecond
// resolution; a positive ttl under a millisecond becomes one. ttl <= 0 never
// expires. A key in a counted namespace is also added to the namespace's index
// (ZADD, scored by expiry), sent first in the same round trip, so on one
// server a write cut short leaves the index counting a key that is missing
// rather than missing one that is stored.
func (s *Store) Save(ctx context.Context, key string, value []byte, ttl time.Duration) error {
	if err := checkKey("save", key); err != nil {
		return err
	}
	args := []any{"set", s.prefix + key, value}
	if ttl > 0 {
		args = append(args, "px", max(ttl.Milliseconds(), 1))
	}
	ns, indexed := s.indexOf(key)
	if !indexed {
		if err := s.client.Do(ctx, args...).Err(); err != nil {
			return wrap(ctx, "save", key, err)
		}
		return nil
	}
	pipe := s.client.Pipeline()
	s.indexAdd(ctx, pipe, ns, key, ttl)
	pipe.Do(ctx, args...)
	if _, err := pipe.Exec(ctx); err != nil {
		return wrap(ctx, "save", key, err)
	}
	return nil
}

// Get returns the value under key with GET, or storage.ErrNotFound.
func (s *Store) Get(ctx context.Context, key string) ([]byte, error) {
	if err := checkKey("get", key); err != nil {
		return nil, err
	}
	return s.read(ctx, "get", key, s.client.Get(ctx, s.prefix+key))
}

// Take returns and deletes the value under key with GETDEL, one atomic command,
// so of concurrent Takes exactly one succeeds, across replicas too. A Take that
// fails on a deadline may still have consumed the value, which for single-use
// codes errs on the safe side. A key in a counted namespace is also removed
// from the index (ZREM) in the same round trip; if only that fails, the value
// is returned all the same, since it has been consumed, and its index entry
// counts until its expiry.
func (s *Store) Take(ctx context.Context, key string) ([]byte, error) {
	if err := checkKey("take", key); err != nil {
		return nil, err
	}
	ns, indexed := s.indexOf(key)
	if !indexed {
		return s.read(ctx, "take", key, s.client.GetDel(ctx, s.prefix+key))
	}
	pipe := s.client.Pipeline()
	get := pipe.GetDel(ctx, s.prefix+key)
	pipe.ZRem(ctx, s.indexKey(ns), key)
	_, _ = pipe.Exec(ctx) // get carries its own error, the one that matters
	return s.read(ctx, "take", key, get)
}

// Delete removes key with DEL, and from its namespace's index with ZREM in the
// same round trip; a missing key is not an error.
func (s *Store) Delete(ctx context.Context, key string) error {
	if err := checkKey("delete", key); err != nil {
		return err
	}
	ns, indexed := s.indexOf(key)
	var err error
	if indexed {
		pipe := s.client.Pipeline()
		pipe.Del(ctx, s.prefix+key)
		pipe.ZRem(ctx, s.indexKey(ns), key)
		_, err = pipe.Exec(ctx)
	} else {
		err = s.client.Del(ctx, s.prefix+key).Err()
	}
	if err != nil {
		return wrap(ctx, "delete", key, err)
	}
	return nil
}

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
