package oauthproxy_test

import (
	"bytes"
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/oauthproxy-go/oauthproxy/storage"
	"github.com/stretchr/testify/require"
)

// storeOp is one state-changing storage call.
type storeOp struct {
	Op    string // "save", "take", "delete"
	Key   string
	Value []byte // a copy of what was saved; nil for take and delete
}

// recordingStore wraps a TokenStorage and records every call that changed
// the stored state: each Save (with a copy of the value), each Take that
// removed a value, each Delete. It also counts Cleanup calls. The proxy
// wraps Config.TokenStorage in its encryption layer, so the recorder sees
// hashed keys and sealed values, as a real backend does. It is the one
// recorder of the root tests: "a refused request changes nothing" (S14),
// "codes are stored by hash" (S15) and the cleanup loop all read it.
type recordingStore struct {
	storage.TokenStorage

	mu       sync.Mutex
	ops      []storeOp
	cleanups int
}

func newRecordingStore(inner storage.TokenStorage) *recordingStore {
	return &recordingStore{TokenStorage: inner}
}

func (s *recordingStore) record(op storeOp) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.ops = append(s.ops, op)
}

func (s *recordingStore) Save(ctx context.Context, key string, value []byte, ttl time.Duration) error {
	s.record(storeOp{Op: "save", Key: key, Value: bytes.Clone(value)})
	return s.TokenStorage.Save(ctx, key, value, ttl)
}

func (s *recordingStore) Take(ctx context.Context, key string) ([]byte, error) {
	v, err := s.TokenStorage.Take(ctx, key)
	if err == nil {
		s.record(storeOp{Op: "take", Key: key})
	}
	return v, err
}

func (s *recordingStore) Delete(ctx context.Context, key string) error {
	s.record(storeOp{Op: "delete", Key: key})
	return s.TokenStorage.Delete(ctx, key)
}

func (s *recordingStore) Cleanup(ctx context.Context) error {
	s.mu.Lock()
	s.cleanups++
	s.mu.Unlock()
	return s.TokenStorage.Cleanup(ctx)
}

// mark returns a position in the record for since and changedSince.
func (s *recordingStore) mark() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.ops)
}

// since returns every state change recorded after mark.
func (s *recordingStore) since(mark int) []storeOp {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]storeOp(nil), s.ops[mark:]...)
}

// changedSince is since without the saves of client records: a client's
// idle expiry is extended when it is used, bookkeeping that is not a change
// an attacker can cause.
func (s *recordingStore) changedSince(mark int) []storeOp {
	var out []storeOp
	for _, op := range s.since(mark) {
		if !(op.Op == "save" && strings.HasPrefix(op.Key, "client:")) {
			out = append(out, op)
		}
	}
	return out
}

// unchanged asserts that nothing was written, taken or deleted since mark.
func (s *recordingStore) unchanged(t *testing.T, mark int, msgAndArgs ...any) {
	t.Helper()
	require.Empty(t, s.since(mark), msgAndArgs...)
}

// saves returns every Save so far, client records included.
func (s *recordingStore) saves() []storeOp {
	var out []storeOp
	for _, op := range s.since(0) {
		if op.Op == "save" {
			out = append(out, op)
		}
	}
	return out
}

func (s *recordingStore) cleanupCount() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.cleanups
}

// dropPrefix deletes, behind the proxy's back and without recording, every
// key saved so far under prefix (e.g. "grant:" to revoke every grant).
func (s *recordingStore) dropPrefix(t *testing.T, prefix string) int {
	t.Helper()
	keys := map[string]bool{}
	for _, op := range s.saves() {
		if strings.HasPrefix(op.Key, prefix) {
			keys[op.Key] = true
		}
	}
	for k := range keys {
		require.NoError(t, s.TokenStorage.Delete(context.Background(), k))
	}
	return len(keys)
}
