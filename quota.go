package oauthproxy

import (
	"context"
	"errors"
	"log/slog"
	"sync"
	"time"

	"github.com/oauthproxy-go/oauthproxy/storage"
)

// Quota defaults (S19). With the size limits (limits.go) they bound what
// anonymous requests can store: at most 4 KiB per client record and about
// 4.5 KiB per pending authorization, so under 10 MiB each. A client record is
// typically 300–500 bytes; raise the quotas for a deployment with more
// installs, especially on Redis or bolt, where the memory is not the proxy's.
const (
	DefaultMaxClients               = 2000
	DefaultMaxPendingAuthorizations = 2000
)

// quotaRecount is how often a quota re-reads the live count from storage.
// Between reads each process adds its own admissions, so with N replicas the
// count can run behind by what the other replicas admitted in one interval.
const quotaRecount = time.Second

// quotaRetryAfter is the Retry-After of a refusal: pending authorizations
// expire within TransactionTTL, clients when idle; a minute is a polite
// first retry for both.
const quotaRetryAfter = time.Minute

// quotaWarnEvery spaces the Warn log lines of a full quota; the refusals in
// between log at Debug (OnEvent sees each one).
const quotaWarnEvery = time.Minute

// quota caps how many live records of one kind anonymous requests may create:
// registered clients, pending authorizations (S19). It counts the records in
// storage (storage.Counter), so it holds across restarts and replicas sharing
// the store.
type quota struct {
	name      string // in errors, events and logs: "clients", "pending_authorizations"
	namespace string // the storage namespace it counts
	limit     int

	mu         sync.Mutex
	count      int       // the last stored count plus this process's admissions since
	countedAt  time.Time // zero until the first count
	recounting bool      // one request re-reads the count; the others use the last one
	warnedAt   time.Time // the last refusal logged at Warn
	// uncounted is set when the storage cannot count (no storage.Counter):
	// the quota then admits everything, after one warning.
	uncounted bool
}

func newQuota(name, namespace string, limit int) *quota {
	return &quota{name: name, namespace: namespace, limit: limit}
}

// admit reserves room for one record under q, or refuses with 503
// temporarily_unavailable and Retry-After when q is full, emitting
// EventQuotaExceeded. The count is approximate (storage.Counter says how, per
// backend), and admissions since the last count are added to it.
func (p *Proxy) admit(ctx context.Context, q *quota) *Error {
	p.recount(ctx, q)
	now := p.cfg.Now()
	q.mu.Lock()
	full := !q.uncounted && q.count >= q.limit
	level := slog.LevelDebug
	if !full {
		q.count++
	} else if now.Sub(q.warnedAt) >= quotaWarnEvery || now.Before(q.warnedAt) {
		q.warnedAt, level = now, slog.LevelWarn
	}
	q.mu.Unlock()
	if !full {
		return nil
	}
	p.emitAt(ctx, Event{Type: EventQuotaExceeded, Reason: q.name}, level)
	e := errorf(ErrCodeTemporarilyUnavailable, "this server has reached its limit of %s; try again later", q.name)
	e.RetryAfter = quotaRetryAfter
	return e
}

// release gives back the room of one record this process removed, so the
// count between two recounts follows completions as well as admissions.
func (q *quota) release() {
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.count > 0 {
		q.count--
	}
}

// recount re-reads q's count from storage when it is older than quotaRecount.
// Only one caller at a time reads; the others go on with the last count, so a
// slow store delays one request, not all of them.
func (p *Proxy) recount(ctx context.Context, q *quota) {
	now := p.cfg.Now()
	q.mu.Lock()
	stale := q.countedAt.IsZero() || now.Sub(q.countedAt) >= quotaRecount || now.Before(q.countedAt)
	if !stale || q.recounting {
		q.mu.Unlock()
		return
	}
	q.recounting = true
	q.mu.Unlock()

	n, err := p.countLive(ctx, q.namespace)

	q.mu.Lock()
	defer q.mu.Unlock()
	q.recounting = false
	switch {
	case errors.Is(err, storage.ErrCountUnsupported):
		if !q.uncounted {
			q.uncounted = true
			p.log.Warn("oauthproxy: the storage cannot count its records (storage.Counter), so this quota is not enforced", "quota", q.name)
		}
	case err != nil:
		// Admit on the last count: the write that follows fails the same way
		// if the store is down, and a blip must not refuse everybody.
		p.log.Warn("oauthproxy: could not count records for a quota", "quota", q.name, "error", err)
	default:
		q.count, q.countedAt = n, now
	}
}

// countLive asks the storage how many live records namespace holds.
func (p *Proxy) countLive(ctx context.Context, namespace string) (int, error) {
	counter, ok := p.store.(storage.Counter)
	if !ok {
		return 0, storage.ErrCountUnsupported
	}
	return counter.Count(ctx, namespace)
}
