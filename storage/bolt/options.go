package bolt

import "time"

// DefaultLockTimeout is how long Open waits for another process to release the
// file before giving up with ErrLocked.
const DefaultLockTimeout = 2 * time.Second

// Option configures Open.
type Option func(*Store)

// WithLockTimeout sets how long Open waits for the file lock; d <= 0 means
// DefaultLockTimeout, because waiting forever would hang startup.
func WithLockTimeout(d time.Duration) Option {
	return func(s *Store) {
		if d > 0 {
			s.lockTimeout = d
		}
	}
}

// WithClock makes the store read time from now, so tests can control expiry
// exactly. A nil now means time.Now.
func WithClock(now func() time.Time) Option {
	return func(s *Store) {
		if now != nil {
			s.now = now
		}
	}
}
