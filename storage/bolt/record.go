package bolt

import (
	"encoding/binary"
	"fmt"

	"github.com/oauthproxy-go/oauthproxy/storage"
)

// headerSize is the length of the expiry prefix on every stored value.
const headerSize = 8

// never is the stored expiry of a value that does not expire.
const never = 0

// encode prefixes a copy of value with its expiry in Unix nanoseconds.
func encode(expiry int64, value []byte) []byte {
	rec := make([]byte, headerSize+len(value))
	binary.BigEndian.PutUint64(rec, uint64(expiry))
	copy(rec[headerSize:], value)
	return rec
}

// decode splits a stored record into its expiry and value; ok is false for a
// record too short to hold the header. The value aliases rec, which bbolt owns
// only for the transaction, so callers copy what they keep.
func decode(rec []byte) (expiry int64, value []byte, ok bool) {
	if len(rec) < headerSize {
		return 0, nil, false
	}
	return int64(binary.BigEndian.Uint64(rec)), rec[headerSize:], true
}

// errExpired marks a record that is present but expired, which Take deletes.
var errExpired = fmt.Errorf("%w (expired)", storage.ErrNotFound)

// live returns a copy of the value in rec, stored under key, if it is alive at
// now; otherwise errExpired, or an error wrapping storage.ErrCorrupt.
func live(key string, rec []byte, now int64) ([]byte, error) {
	expiry, value, ok := decode(rec)
	if !ok {
		return nil, fmt.Errorf("storage/bolt: key %q: %w: record of %d bytes has no expiry header",
			key, storage.ErrCorrupt, len(rec))
	}
	if expired(expiry, now) {
		return nil, errExpired
	}
	out := make([]byte, len(value)) // non-nil even when empty
	copy(out, value)
	return out, nil
}

// expired reports whether a record with expiry is dead at now: a value saved for
// ttl is readable for strictly less than ttl.
func expired(expiry, now int64) bool {
	return expiry != never && now >= expiry
}

// expiryFor converts ttl to an absolute expiry; ttl <= 0, or a ttl so long that it
// overflows, never expires.
func expiryFor(now int64, ttl int64) int64 {
	if ttl <= 0 {
		return never
	}
	exp := now + ttl
	if exp < now {
		return never
	}
	return exp
}
