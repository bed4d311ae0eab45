package oauthproxy_test

import (
	"bytes"
	"context"
	"log/slog"
	"net/http"
	"net/url"
	"sync"
	"testing"

	"github.com/oauthproxy-go/oauthproxy"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// eventLog collects audit events and every log line of a proxy.
type eventLog struct {
	mu     sync.Mutex
	events []oauthproxy.Event
	logs   bytes.Buffer
}

func (l *eventLog) add(e oauthproxy.Event) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.events = append(l.events, e)
}

func (l *eventLog) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.logs.Write(p)
}

func (l *eventLog) types() []oauthproxy.EventType {
	l.mu.Lock()
	defer l.mu.Unlock()
	var out []oauthproxy.EventType
	for _, e := range l.events {
		out = append(out, e.Type)
	}
	return out
}

func (l *eventLog) find(t oauthproxy.EventType) (oauthproxy.Event, bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, e := range l.events {
		if e.Type == t {
			return e, true
		}
	}
	return oauthproxy.Event{}, false
}

func withEventLog(l *eventLog) envOption {
	return withConfig(func(c *oauthproxy.Config) {
		c.OnEvent = l.add
		c.Logger = slog.New(slog.NewJSONHandler(l, &slog.HandlerOptions{Level: slog.LevelDebug}))
	})
}

// TestEvents_AuditTrailOfAFlow: each security-relevant step of a flow emits
// its event with client, subject, grant and remote address.
func TestEvents_AuditTrailOfAFlow(t *testing.T) {
	l := &eventLog{}
	e := newEnv(t, withEventLog(l))
	c := e.register("client_secret_basic")
	code, verifier := e.code(c)
	tok := e.exchange(c, code, verifier)
	require.Equal(t, http.StatusOK, tok.Status)
	require.Equal(t, http.StatusOK, e.refresh(c, tok.str("refresh_token")).Status)
	// Replaying the code revokes the grant.
	require.Equal(t, http.StatusBadRequest, e.exchange(c, code, verifier).Status)

	assert.Equal(t, []oauthproxy.EventType{
		oauthproxy.EventClientRegistered,
		oauthproxy.EventConsentGiven,
		oauthproxy.EventCodeIssued,
		oauthproxy.EventTokenIssued,
		oauthproxy.EventCodeRedeemed,
		oauthproxy.EventTokenRefreshed,
		oauthproxy.EventCodeReplayed,
		oauthproxy.EventGrantRevoked,
	}, l.types())
	issued, ok := l.find(oauthproxy.EventTokenIssued)
	require.True(t, ok)
	assert.Equal(t, c.ID, issued.ClientID)
	assert.Equal(t, "user-1", issued.Subject)
	assert.NotEmpty(t, issued.GrantID)
	assert.Equal(t, "127.0.0.1", issued.RemoteAddr, "the client address, without port (clientAddr)")
	assert.False(t, issued.Time.IsZero())
	revoked, _ := l.find(oauthproxy.EventGrantRevoked)
	assert.Equal(t, issued.GrantID, revoked.GrantID)
	assert.Equal(t, "authorization code replayed", revoked.Reason)
	assert.Contains(t, l.logs.String(), `"event":"grant.revoked"`)
}

// TestEvents_LogFieldsSayWhatTheyHold: Event.Reason is logged under a name
// that says what it holds for the event's type, so a public client's
// registration reads auth_method=none, never reason=none ("no reason").
func TestEvents_LogFieldsSayWhatTheyHold(t *testing.T) {
	l := &eventLog{}
	e := newEnv(t, withEventLog(l))
	e.register("none")
	e.idp.FailNext(http.StatusServiceUnavailable, "", "")
	code, _ := e.codeOrError(e.register("none"))
	require.Empty(t, code)

	logs := l.logs.String()
	assert.Contains(t, logs, `"event":"client.registered"`)
	assert.Contains(t, logs, `"auth_method":"none"`)
	assert.Contains(t, logs, `"error":"temporarily_unavailable"`)
	assert.Contains(t, logs, `"remote_addr":"127.0.0.1"`)
	assert.NotContains(t, logs, `"reason":"none"`)
	registered, ok := l.find(oauthproxy.EventClientRegistered)
	require.True(t, ok)
	assert.Equal(t, "none", registered.Reason, "OnEvent still gets the value in Reason")
}

// TestEvents_DeniedConsentAndUpstreamError: the refusals are in the trail too.
func TestEvents_DeniedConsentAndUpstreamError(t *testing.T) {
	l := &eventLog{}
	e := newEnv(t, withEventLog(l))
	c := e.register("none")
	e.idp.FailNext(http.StatusServiceUnavailable, "", "")
	code, _ := e.codeOrError(c)
	assert.Empty(t, code)
	ev, ok := l.find(oauthproxy.EventUpstreamError)
	require.True(t, ok, "%v", l.types())
	assert.Equal(t, c.ID, ev.ClientID)
	assert.Equal(t, "temporarily_unavailable", ev.Reason)

	ctx := oauthproxy.WithRemoteAddr(context.Background(), "192.0.2.7:1234")
	res, err := e.proxy.Authorize(ctx, &oauthproxy.AuthorizationRequest{
		ResponseType: "code", ClientID: c.ID, RedirectURI: clientRedirect,
		CodeChallenge: "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM", CodeChallengeMethod: "S256",
	})
	require.NoError(t, err)
	page, err := e.proxy.ConsentPage(ctx, res.TransactionID, "")
	require.NoError(t, err)
	_, err = e.proxy.HandleConsent(ctx, &oauthproxy.ConsentDecision{
		TransactionID: res.TransactionID, CSRFToken: page.CSRFToken, CSRFCookie: page.CSRFCookie,
	})
	require.NoError(t, err)
	denied, ok := l.find(oauthproxy.EventConsentDenied)
	require.True(t, ok)
	assert.Equal(t, "192.0.2.7:1234", denied.RemoteAddr)
}

// TestEvents_NoSecretsInLogsOrEvents runs whole flows (confidential client,
// refresh, replay, revocation, an upstream failure) with every log line and
// event captured, and fails if any token, code, secret, verifier, state or key
// appears in them.
func TestEvents_NoSecretsInLogsOrEvents(t *testing.T) {
	l := &eventLog{}
	e := newEnv(t, withEventLog(l))
	var secrets []string
	keep := func(s ...string) {
		for _, v := range s {
			if len(v) >= 8 {
				secrets = append(secrets, v)
			}
		}
	}
	keep(e.cfg.UpstreamClientSecret, string(e.cfg.JWTSigningKey), string(e.cfg.EncryptionKey), string(e.cfg.ConsentSigningKey))

	c := e.register("client_secret_post")
	keep(c.Secret)
	code, verifier := e.code(c)
	keep(code, verifier, e.idp.LastTokenRequest().Get("code"), e.idp.LastTokenRequest().Get("code_verifier"),
		e.idp.LastAuthorizeQuery().Get("state"))
	tok := e.exchange(c, code, verifier)
	require.Equal(t, http.StatusOK, tok.Status)
	keep(tok.str("access_token"), tok.str("refresh_token"))
	up, err := e.proxy.LoadUpstreamTokens(context.Background(), tok.str("access_token"))
	require.NoError(t, err)
	keep(up.AccessToken, up.RefreshToken, up.IDToken)
	ref := e.refresh(c, tok.str("refresh_token"))
	require.Equal(t, http.StatusOK, ref.Status)
	keep(ref.str("access_token"), ref.str("refresh_token"))
	e.refresh(c, tok.str("refresh_token")) // reuse: revokes
	e.exchange(c, code, verifier)          // replay
	e.token(c, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {"wrong-" + ref.str("refresh_token")}})
	e.idp.FailNext(http.StatusBadRequest, `{"error":"invalid_grant","error_description":"bad code"}`, "application/json")
	e.codeOrError(c)

	require.NotEmpty(t, l.types())
	logs := l.logs.String()
	require.Contains(t, logs, "refresh.reuse_detected", "the run must have exercised the failure paths")
	for _, s := range secrets {
		assert.NotContains(t, logs, s, "a secret leaked into the logs")
		for _, ev := range l.events {
			assert.NotContains(t, ev.ClientID+ev.Subject+ev.GrantID+ev.Reason+ev.RemoteAddr, s, "a secret leaked into an event")
		}
	}
}

// codeOrError runs a browser login and returns the code, or the error the
// client's redirect carries.
func (e *env) codeOrError(c registered) (code, oauthError string) {
	e.t.Helper()
	loc := e.login(e.browser(), authorizeParams(c, "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"))
	return loc.Query().Get("code"), loc.Query().Get("error")
}
