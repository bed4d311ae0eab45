package oauthproxy

import (
	"context"
	"log/slog"
	"time"
)

// EventType names a security-relevant action (the audit trail).
type EventType string

// The audit events. Each carries who (client, subject), what (grant), from
// where (remote address) and, for failures and revocations, why — never a
// secret, code or token.
const (
	EventClientRegistered     EventType = "client.registered"
	EventConsentGiven         EventType = "consent.given"
	EventConsentDenied        EventType = "consent.denied"
	EventCodeIssued           EventType = "code.issued"
	EventCodeRedeemed         EventType = "code.redeemed"
	EventCodeReplayed         EventType = "code.replayed"
	EventTokenIssued          EventType = "token.issued"
	EventTokenRefreshed       EventType = "token.refreshed"
	EventTokenRevoked         EventType = "token.revoked"
	EventRefreshReuseDetected EventType = "refresh.reuse_detected"
	EventGrantRevoked         EventType = "grant.revoked"
	EventUpstreamError        EventType = "upstream.error"
	// EventQuotaExceeded: a registration or authorization was refused because
	// MaxClients or MaxPendingAuthorizations was reached; Reason names the
	// quota ("clients", "pending_authorizations"). It logs at Warn at most
	// once a minute per quota and at Debug in between, so a flood of refusals
	// does not flood the log; OnEvent receives every one.
	EventQuotaExceeded EventType = "quota.exceeded"
	// EventRateLimited is a request refused by RateLimits; Reason is the
	// endpoint class (register, authorize, consent, token, revoke, introspect). It logs at
	// Debug, as a flood of them is what it counts.
	EventRateLimited EventType = "request.rate_limited"
	// EventClientDeleted and EventSubjectRevoked record the administration
	// calls DeleteClient and RevokeSubject; Reason says how many grants they
	// revoked, each of which also has its EventGrantRevoked. They log at Warn.
	EventClientDeleted  EventType = "client.deleted"
	EventSubjectRevoked EventType = "subject.revoked"
)

// Event is one entry of the audit trail, delivered to Config.OnEvent and
// logged through Config.Logger.
type Event struct {
	Type       EventType
	Time       time.Time
	ClientID   string
	Subject    string // the upstream user, when known
	GrantID    string
	RemoteAddr string // the client's IP (see Config.TrustedProxies), or what WithRemoteAddr set
	// Reason qualifies the event, in a word or a short fixed phrase: for
	// client.registered the token_endpoint_auth_method ("none" for a public
	// client), for consent.given "remembered" or "", for upstream.error the
	// OAuth error code, for grant.revoked why, for quota.exceeded the quota,
	// for request.rate_limited the endpoint class. The log names it after
	// what it holds (reasonLogKey).
	Reason string
}

type remoteAddrKey struct{}

// WithRemoteAddr records the caller's address in ctx for the audit events of
// the typed methods; the HTTP handlers do it for every request.
func WithRemoteAddr(ctx context.Context, addr string) context.Context {
	return context.WithValue(ctx, remoteAddrKey{}, addr)
}

func remoteAddr(ctx context.Context) string {
	addr, _ := ctx.Value(remoteAddrKey{}).(string)
	return addr
}

// emit stamps, logs and delivers an audit event. Revocations, replays and
// upstream errors log at Warn, everything else at Info.
func (p *Proxy) emit(ctx context.Context, e Event) {
	level := slog.LevelInfo
	switch e.Type {
	case EventCodeReplayed, EventRefreshReuseDetected, EventGrantRevoked, EventUpstreamError, EventQuotaExceeded,
		EventClientDeleted, EventSubjectRevoked:
		level = slog.LevelWarn
	case EventRateLimited:
		level = slog.LevelDebug
	}
	p.emitAt(ctx, e, level)
}

// emitAt is emit with the log level chosen by the caller, for events that
// come in floods and are logged loudly only now and then.
func (p *Proxy) emitAt(ctx context.Context, e Event, level slog.Level) {
	e.Time = p.cfg.Now()
	if e.RemoteAddr == "" {
		e.RemoteAddr = remoteAddr(ctx)
	}
	if p.log.Enabled(ctx, level) { // the attributes cost allocations a filtered level never uses
		attrs := []slog.Attr{slog.String("event", string(e.Type))}
		for _, a := range []struct{ k, v string }{
			{"client_id", e.ClientID}, {"sub", e.Subject}, {"grant_id", e.GrantID},
			{"remote_addr", e.RemoteAddr}, {reasonLogKey(e.Type), e.Reason},
		} {
			if a.v != "" {
				attrs = append(attrs, slog.String(a.k, a.v))
			}
		}
		p.log.LogAttrs(ctx, level, "oauthproxy: "+string(e.Type), attrs...)
	}
	if p.cfg.OnEvent != nil {
		p.cfg.OnEvent(e)
	}
}

// reasonLogKey names Event.Reason in the log after what it holds for the
// event's type, so a public client's registration logs auth_method=none
// rather than a "reason=none" that reads as "no reason".
func reasonLogKey(t EventType) string {
	switch t {
	case EventClientRegistered:
		return "auth_method"
	case EventUpstreamError:
		return "error"
	case EventQuotaExceeded:
		return "quota"
	case EventRateLimited:
		return "endpoint_class"
	}
	return "reason"
}
