package bolt

import (
	"context"
	"errors"
	"fmt"
	"time"

	bbolt "go.etcd.io/bbolt"
	bolterrors "go.etcd.io/bbolt/errors"

	"github.com/oauthproxy-go/oauthproxy/storage"
)

// ErrLocked is wrapped by Open when another process (or another Store in this
// one) holds the file and does not release it within the lock timeout.
var ErrLocked = errors.New("storage/bolt: database file is locked by another process")

// bucket holds every entry. The version in its name leaves room for a future
// record format to live beside this one.
var bucket = []byte("oauthproxy.v1")

// fileMode keeps the file private to the proxy's user.
const fileMode = 0o600

// Store is a storage.TokenStorage in a bbolt file. It is safe for concurrent use;
// writes are serialised by bbolt, reads run in parallel with them.
type Store struct {
	db          *bbolt.DB
	now         func() time.Time
	lockTimeout time.Duration
}

var (
	_ storage.TokenStorage = (*Store)(nil)
	_ storage.Persistence  = (*Store)(nil)
)

// Open opens or creates the database file at path with mode 0600. It fails with
// an error wrapping ErrLocked if the file stays locked for the lock timeout.
func Open(path string, opts ...Option) (*Store, error) {
	s := &Store{now: time.Now, lockTimeout: DefaultLockTimeout}
	for _, opt := range opts {
		opt(s)
	}
	db, err := bbolt.Open(path, fileMode, &bbolt.Options{Timeout: s.lockTimeout})
	if errors.Is(err, bolterrors.ErrTimeout) {
		return nil, fmt.Errorf("%w: %s: gave up after %v; bbolt allows one process per file", ErrLocked, path, s.lockTimeout)
	}
	if err != nil {
		return nil, fmt.Errorf("storage/bolt: open %s: %w", path, err)
	}
	err = db.Update(func(tx *bbolt.Tx) error {
		_, err := tx.CreateBucketIfNotExists(bucket)
		return err
	})
	if err != nil {
		_ = db.Close() // the bucket error is the one worth reporting
		return nil, fmt.Errorf("storage/bolt: open %s: create bucket: %w", path, err)
	}
	s.db = db
	return s, nil
}

// Close releases the file and its lock, waiting for running operations to end.
func (s *Store) Close() error {
	if err := s.db.Close(); err != nil {
		return fmt.Errorf("storage/bolt: close: %w", err)
	}
	return nil
}

// Persistent reports true: the data survives a restart.
func (s *Store) Persistent() bool { return true }

// Save stores value under key with its expiry; ttl <= 0 never expires.
func (s *Store) Save(ctx context.Context, key string, value []byte, ttl time.Duration) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	rec := encode(expiryFor(s.now().UnixNano(), int64(ttl)), value)
	err := s.db.Update(func(tx *bbolt.Tx) error {
		return tx.Bucket(bucket).Put([]byte(key), rec)
	})
	if err != nil {
		return fmt.Errorf("storage/bolt: save %q: %w", key, err)
	}
	return nil
}

// Get returns a copy of the value under key, or storage.ErrNotFound if it is
// missing or expired.
func (s *Store) Get(ctx context.Context, key string) ([]byte, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	now := s.now().UnixNano()
	var out []byte
	err := s.db.View(func(tx *bbolt.Tx) error {
		rec := tx.Bucket(bucket).Get([]byte(key))
		if rec == nil {
			return storage.ErrNotFound
		}
		var err error
		out, err = live(key, rec, now)
		return err
	})
	if err != nil {
		return nil, wrap("get", key, err)
	}
	return out, nil
}

// Take returns and deletes the value under key in one write transaction, so of
// concurrent Takes exactly one succeeds. An expired or corrupt record is deleted
// all the same and reported as storage.ErrNotFound or storage.ErrCorrupt.
func (s *Store) Take(ctx context.Context, key string) ([]byte, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	now := s.now().UnixNano()
	var (
		out     []byte
		liveErr error
	)
	err := s.db.Update(func(tx *bbolt.Tx) error {
		b := tx.Bucket(bucket)
		rec := b.Get([]byte(key))
		if rec == nil {
			return storage.ErrNotFound // rolls back: a miss costs no commit
		}
		out, liveErr = live(key, rec, now) // copies before the delete
		return b.Delete([]byte(key))
	})
	if err == nil {
		err = liveErr
	}
	if err != nil {
		return nil, wrap("take", key, err)
	}
	return out, nil
}

// Delete removes key; a missing key is not an error.
func (s *Store) Delete(ctx context.Context, key string) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	err := s.db.Update(func(tx *bbolt.Tx) error {
		b := tx.Bucket(bucket)
		if b.Get([]byte(key)) == nil {
			return storage.ErrNotFound // rolls back: nothing to commit or fsync
		}
		return b.Delete([]byte(key))
	})
	if err != nil && !errors.Is(err, storage.ErrNotFound) {
		return fmt.Errorf("storage/bolt: delete %q: %w", key, err)
	}
	return nil
}

// wrap names the operation, but passes a miss through as the bare
// storage.ErrNotFound (a miss is an answer, not a failure) and a corrupt record
// as live reported it, key included.
func wrap(op, key string, err error) error {
	switch {
	case errors.Is(err, storage.ErrNotFound):
		return storage.ErrNotFound
	case errors.Is(err, storage.ErrCorrupt):
		return err
	}
	return fmt.Errorf("storage/bolt: %s %q: %w", op, key, err)
}
