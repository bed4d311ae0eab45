package storage

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/oauthproxy-go/oauthproxy/internal/bufpool"
	"github.com/oauthproxy-go/oauthproxy/internal/strview"
)

// ErrCorrupt is wrapped by Encrypted.Get and Encrypted.Take when a stored value
// does not open: it was tampered with, moved to another key, or sealed under a key
// no longer in the ring. It is deliberately not ErrNotFound, so a failure is never
// mistaken for a miss.
var ErrCorrupt = errors.New("storage: stored value does not open")

// Cipher seals and opens values with authenticated encryption; *crypto.Sealer
// implements it. Open must fail unless additionalData equals the one given to Seal.
//
// Neither method may modify or keep additionalData (an AEAD only
// authenticates it): Encrypted passes the storage key's own bytes, not a
// copy of them.
type Cipher interface {
	Seal(plaintext, additionalData []byte) ([]byte, error)
	Open(sealed, additionalData []byte) ([]byte, error)
}

// Encrypted wraps any TokenStorage so that values are sealed at rest (S15). The
// storage key is the additional data, so a value copied to another key does not
// open. Keys themselves are stored in the clear.
type Encrypted struct {
	inner  TokenStorage
	cipher Cipher
}

var (
	_ TokenStorage = (*Encrypted)(nil)
	_ Persistence  = (*Encrypted)(nil)
	_ Counter      = (*Encrypted)(nil)
	_ Scanner      = (*Encrypted)(nil)
)

// NewEncrypted returns a store that seals values with c before handing them to
// inner. It panics if either is nil, a programming error.
func NewEncrypted(inner TokenStorage, c Cipher) *Encrypted {
	if inner == nil || c == nil {
		panic("storage: NewEncrypted needs a store and a cipher")
	}
	return &Encrypted{inner: inner, cipher: c}
}

// Persistent forwards to the inner store, reporting false if it does not say.
func (e *Encrypted) Persistent() bool {
	p, ok := e.inner.(Persistence)
	return ok && p.Persistent()
}

// Count forwards to the inner store when it is a Counter, and otherwise returns
// ErrCountUnsupported. Keys are stored in the clear, so the inner store's count
// is the right one.
func (e *Encrypted) Count(ctx context.Context, namespace string) (int, error) {
	c, ok := e.inner.(Counter)
	if !ok {
		return 0, ErrCountUnsupported
	}
	return c.Count(ctx, namespace)
}

// Scan forwards to the inner store when it is a Scanner, and otherwise
// returns ErrScanUnsupported. Keys are stored in the clear, so the inner
// store's keys are the right ones.
func (e *Encrypted) Scan(ctx context.Context, prefix, cursor string, limit int) ([]string, string, error) {
	s, ok := e.inner.(Scanner)
	if !ok {
		return nil, "", ErrScanUnsupported
	}
	return s.Scan(ctx, prefix, cursor, limit)
}

// inPlace is what Memory offers Encrypted beyond TokenStorage: taking over
// the freshly sealed bytes instead of copying them, and opening a stored value
// where it lies instead of copying it out first.
type inPlace interface {
	saveOwned(key string, value []byte, ttl time.Duration) error
	openStored(dst []byte, key string, c Cipher) (plaintext []byte, found bool, err error)
}

// appendOpener is a Cipher that opens into a buffer the caller gives
// (crypto.Sealer does): View reuses its buffers through it.
type appendOpener interface {
	AppendOpen(dst, sealed, additionalData []byte) ([]byte, error)
}

var _ inPlace = (*Memory)(nil)

// Save seals value, bound to key, and stores it in the inner store.
func (e *Encrypted) Save(ctx context.Context, key string, value []byte, ttl time.Duration) error {
	sealed, err := e.cipher.Seal(value, strview.Bytes(key))
	if err != nil {
		return fmt.Errorf("storage: seal: %w", err)
	}
	if s, ok := e.inner.(inPlace); ok {
		return s.saveOwned(key, sealed, ttl) // sealed is new and held nowhere else
	}
	return e.inner.Save(ctx, key, sealed, ttl)
}

// Get opens the value stored under key. Errors from the inner store, ErrNotFound
// included, pass through unchanged; a value that does not open wraps ErrCorrupt.
func (e *Encrypted) Get(ctx context.Context, key string) ([]byte, error) {
	if s, ok := e.inner.(inPlace); ok {
		value, found, err := s.openStored(nil, key, e.cipher)
		if !found {
			return nil, ErrNotFound
		}
		return opened(key, value, err)
	}
	sealed, err := e.inner.Get(ctx, key)
	if err != nil {
		return nil, err
	}
	return e.open(key, sealed)
}

// View calls fn with the value stored under key, opened into a buffer that is
// reused once fn returns: fn must not keep value or any part of it. It saves
// Get's allocation of the plaintext when the caller only decodes it (the
// proxy reads about a dozen records per sign-in). Errors are Get's, or fn's.
func (e *Encrypted) View(ctx context.Context, key string, fn func(value []byte) error) error {
	ao, ok := e.cipher.(appendOpener)
	if !ok {
		value, err := e.Get(ctx, key)
		if err != nil {
			return err
		}
		return fn(value)
	}
	buf := viewBufs.Get()
	defer viewBufs.Put(buf)
	var value []byte
	var err error
	if s, ok := e.inner.(inPlace); ok {
		var found bool
		value, found, err = s.openStored((*buf)[:0], key, e.cipher)
		if !found {
			return ErrNotFound
		}
	} else {
		var sealed []byte
		if sealed, err = e.inner.Get(ctx, key); err != nil {
			return err
		}
		value, err = ao.AppendOpen((*buf)[:0], sealed, strview.Bytes(key))
	}
	if value, err = opened(key, value, err); err != nil {
		return err
	}
	if cap(value) > cap(*buf) {
		*buf = value[:0] // grown: keep the larger buffer
	}
	return fn(value)
}

// viewBufs are View's buffers; one grown past 64 KiB by an unusually large
// value is left to the GC.
var viewBufs = bufpool.New(64 << 10)

// Consume takes the value stored under key from the inner store without
// opening it, for a caller that only needs the single use: of concurrent
// Consumes and Takes of one key exactly one succeeds, as with Take. A miss
// is ErrNotFound; a value that would not open is consumed all the same
// (Take would report it), so call it for a key whose value was just read.
func (e *Encrypted) Consume(ctx context.Context, key string) error {
	_, err := e.inner.Take(ctx, key)
	return err
}

// Take takes the value stored under key from the inner store and opens it, with
// Get's error rules. A corrupt value is consumed all the same.
func (e *Encrypted) Take(ctx context.Context, key string) ([]byte, error) {
	sealed, err := e.inner.Take(ctx, key)
	if err != nil {
		return nil, err
	}
	return e.open(key, sealed)
}

// Delete delegates to the inner store.
func (e *Encrypted) Delete(ctx context.Context, key string) error {
	return e.inner.Delete(ctx, key)
}

// Cleanup delegates to the inner store.
func (e *Encrypted) Cleanup(ctx context.Context) error {
	return e.inner.Cleanup(ctx)
}

func (e *Encrypted) open(key string, sealed []byte) ([]byte, error) {
	value, err := e.cipher.Open(sealed, strview.Bytes(key))
	return opened(key, value, err)
}

// opened applies Get's rules to what the cipher returned.
func opened(key string, value []byte, err error) ([]byte, error) {
	if err != nil {
		// The key is not secret (S15 stores secrets by hash), and naming it is what
		// makes the error actionable.
		return nil, fmt.Errorf("%w: key %q: %w", ErrCorrupt, key, err)
	}
	if value == nil {
		value = []byte{} // a hit is never nil, whatever the Cipher returns
	}
	return value, nil
}
