package oauthproxy_test

import (
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/oauthproxy-go/oauthproxy"
	"github.com/oauthproxy-go/oauthproxy/oauthproxytest"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// Edges of the token, refresh and revocation code that mutation testing found
// unpinned (docs/mutation.md). Named TestMethods_Exchange… so
// scripts/mutate.sh's selection for that group runs them.

// savedUnder counts the Saves since mark whose key starts with prefix.
func savedUnder(d *direct, mark int, prefix string) int {
	n := 0
	for _, op := range d.store.since(mark) {
		if op.Op == "save" && strings.HasPrefix(op.Key, prefix) {
			n++
		}
	}
	return n
}

// TestMethods_ExchangeRefreshToken_AnswerKeptOnlyWithGrace: a rotation keeps
// the answer it gave for a retry only when RefreshReuseGrace is on; without
// it no token response is stored at all, only the marker that detects reuse
// (S06).
func TestMethods_ExchangeRefreshToken_AnswerKeptOnlyWithGrace(t *testing.T) {
	for _, grace := range []time.Duration{0, time.Minute} {
		d := newDirect(t, withConfig(func(c *oauthproxy.Config) { c.RefreshReuseGrace = grace }))
		c := d.register("client_secret_post")
		first := d.tokens(c)
		mark := d.store.mark()
		_, err := d.refresh(c, first.RefreshToken)
		require.NoError(t, err)
		assert.Equal(t, 1, savedUnder(d, mark, "rotated:"), "grace %v: the reuse marker", grace)
		want := 0
		if grace > 0 {
			want = 1
		}
		assert.Equal(t, want, savedUnder(d, mark, "graceresp:"), "grace %v: the kept answer", grace)
	}
}

// TestMethods_ExchangeRefreshToken_GraceAnswerKeptWithoutErrors: keeping the
// answer for the grace period logs no error when the storage takes it.
func TestMethods_ExchangeRefreshToken_GraceAnswerKeptWithoutErrors(t *testing.T) {
	logger, logs := newCapturingLogger()
	d := newDirect(t, withConfig(func(c *oauthproxy.Config) {
		c.RefreshReuseGrace = time.Minute
		c.Logger = logger
	}))
	c := d.register("client_secret_post")
	first := d.tokens(c)
	_, err := d.refresh(c, first.RefreshToken)
	require.NoError(t, err)
	assert.Empty(t, logs.linesAt("ERROR"))
}

// TestMethods_ExchangeRefreshToken_NoGraceOnAReplicaWithoutIt: of two
// replicas sharing storage, keys and clock, the one without RefreshReuseGrace
// treats a retry of a rotated refresh token as reuse, even though the other
// kept the answer: it revokes the grant and returns nothing (S06).
func TestMethods_ExchangeRefreshToken_NoGraceOnAReplicaWithoutIt(t *testing.T) {
	d := newDirect(t, withConfig(func(c *oauthproxy.Config) { c.RefreshReuseGrace = time.Minute }))
	strict := d.cfg
	strict.RefreshReuseGrace = 0
	other, err := oauthproxy.New(strict)
	require.NoError(t, err)
	t.Cleanup(other.Destroy)

	c := d.register("client_secret_post")
	first := d.tokens(c)
	next, err := d.refresh(c, first.RefreshToken)
	require.NoError(t, err)

	_, err = other.ExchangeRefreshToken(d.ctx, &oauthproxy.TokenRequest{
		GrantType: "refresh_token", RefreshToken: first.RefreshToken, Client: creds(c),
	})
	assert.Equal(t, oauthproxy.ErrCodeInvalidGrant, oauthErr(t, err).Code)
	_, err = d.p.VerifyAccessToken(d.ctx, next.AccessToken)
	assert.ErrorIs(t, err, oauthproxy.ErrTokenRevoked, "reuse revokes the grant")
}

// TestMethods_ExchangeRefreshToken_ReuseRevokesWithoutErrors: a reused
// refresh token revokes its grant (S06), and a revocation that worked logs no
// error.
func TestMethods_ExchangeRefreshToken_ReuseRevokesWithoutErrors(t *testing.T) {
	logger, logs := newCapturingLogger()
	d := newDirect(t, withConfig(func(c *oauthproxy.Config) { c.Logger = logger }))
	c := d.register("client_secret_post")
	first := d.tokens(c)
	next, err := d.refresh(c, first.RefreshToken)
	require.NoError(t, err)
	_, err = d.refresh(c, first.RefreshToken)
	assert.Equal(t, oauthproxy.ErrCodeInvalidGrant, oauthErr(t, err).Code)
	_, err = d.p.VerifyAccessToken(d.ctx, next.AccessToken)
	assert.ErrorIs(t, err, oauthproxy.ErrTokenRevoked)
	assert.Empty(t, logs.linesAt("ERROR"))
}

// TestMethods_RevokeToken_AccessTokenHintLooksThereFirst: with
// token_type_hint=access_token the access token is looked up first (RFC 7009
// §2.1), so revoking one needs no refresh-token read: it works while those
// reads fail, and ends the grant.
func TestMethods_RevokeToken_AccessTokenHintLooksThereFirst(t *testing.T) {
	fs := newFaultStore()
	d := newDirect(t, withFaultStore(fs))
	c := d.register("client_secret_post")
	tok := d.tokens(c)

	fs.failAll(opGet, "refresh:")
	err := d.p.RevokeToken(d.ctx, &oauthproxy.RevocationRequest{
		Token: tok.AccessToken, TokenTypeHint: "access_token", Client: creds(c),
	})
	require.NoError(t, err)
	assert.Zero(t, fs.clear(), "no refresh token was read")
	_, err = d.p.VerifyAccessToken(d.ctx, tok.AccessToken)
	assert.ErrorIs(t, err, oauthproxy.ErrTokenRevoked)
}

// TestMethods_RevokeToken_UpstreamRevocationThatWorksLogsNothing: the
// best-effort upstream revocation warns only when the upstream refuses; one
// that worked leaves the log quiet.
func TestMethods_RevokeToken_UpstreamRevocationThatWorksLogsNothing(t *testing.T) {
	up := newSGUpstreamRevocation(t)
	logger, logs := newCapturingLogger()
	d := newDirect(t, withConfig(func(c *oauthproxy.Config) {
		c.UpstreamRevocationEndpoint = up.endpoint()
		c.Logger = logger
	}))
	c := d.register("client_secret_post")
	tok := d.tokens(c)
	require.NoError(t, d.p.RevokeToken(d.ctx, &oauthproxy.RevocationRequest{Token: tok.RefreshToken, Client: creds(c)}))
	require.Len(t, up.calls(), 1, "the upstream was asked")
	for _, line := range logs.lines() {
		assert.NotContains(t, line, "upstream revocation failed")
	}
}

// TestMethods_ExchangeAuthorizationCode_ReplayRevokesWithoutErrors: a
// replayed code revokes what it issued (S05), and a revocation that worked
// logs no error.
func TestMethods_ExchangeAuthorizationCode_ReplayRevokesWithoutErrors(t *testing.T) {
	logger, logs := newCapturingLogger()
	d := newDirect(t, withConfig(func(c *oauthproxy.Config) { c.Logger = logger }))
	c := d.register("client_secret_post")
	code, verifier := d.login(c)
	tok, err := d.p.ExchangeAuthorizationCode(d.ctx, codeRequest(c, code, verifier))
	require.NoError(t, err)
	_, err = d.p.ExchangeAuthorizationCode(d.ctx, codeRequest(c, code, verifier))
	assert.Equal(t, oauthproxy.ErrCodeInvalidGrant, oauthErr(t, err).Code)
	_, err = d.p.VerifyAccessToken(d.ctx, tok.AccessToken)
	assert.ErrorIs(t, err, oauthproxy.ErrTokenRevoked)
	assert.Empty(t, logs.linesAt("ERROR"))
}

// TestMethods_ExchangeAuthorizationCode_AuditsEachIssueOnce: redeeming a code
// records one token.issued event; a refresh records one token.refreshed and
// no other (S06's audit trail).
func TestMethods_ExchangeAuthorizationCode_AuditsEachIssueOnce(t *testing.T) {
	var mu sync.Mutex
	var events []oauthproxy.EventType
	d := newDirect(t, withConfig(func(c *oauthproxy.Config) {
		c.OnEvent = func(e oauthproxy.Event) {
			mu.Lock()
			events = append(events, e.Type)
			mu.Unlock()
		}
	}))
	c := d.register("client_secret_post")
	seen := func() []oauthproxy.EventType {
		mu.Lock()
		defer mu.Unlock()
		out := events
		events = nil
		return out
	}
	code, verifier := d.login(c)
	seen()
	tok, err := d.p.ExchangeAuthorizationCode(d.ctx, codeRequest(c, code, verifier))
	require.NoError(t, err)
	assert.Equal(t, []oauthproxy.EventType{oauthproxy.EventTokenIssued, oauthproxy.EventCodeRedeemed}, seen())
	_, err = d.refresh(c, tok.RefreshToken)
	require.NoError(t, err)
	assert.Equal(t, []oauthproxy.EventType{oauthproxy.EventTokenRefreshed}, seen())
}

// TestMethods_ExchangeAuthorizationCode_ForwardedCodeNotPutBack: with
// ForwardPKCE, a redemption that fails after the upstream code was spent
// (here: the upstream says nothing about who signed in) does not put the
// proxy's code back, since its retry could only replay the spent upstream
// code (RFC 6749 §4.1.2); the code is gone.
func TestMethods_ExchangeAuthorizationCode_ForwardedCodeNotPutBack(t *testing.T) {
	d := newDirect(t,
		withConfig(func(c *oauthproxy.Config) { c.ForwardPKCE = true }),
		withIdP(func(o *oauthproxytest.Options) { o.IssueIDToken = false }))
	c := d.register("client_secret_post")
	code, verifier := d.login(c)
	mark := d.store.mark()
	_, err := d.p.ExchangeAuthorizationCode(d.ctx, codeRequest(c, code, verifier))
	require.Equal(t, oauthproxy.ErrCodeServerError, oauthErr(t, err).Code)
	assert.Equal(t, 1, d.idp.Stats().CodeExchanges, "the upstream code was spent")
	assert.Zero(t, savedUnder(d, mark, "code:"), "the code is not put back")
	_, err = d.p.ExchangeAuthorizationCode(d.ctx, codeRequest(c, code, verifier))
	assert.Equal(t, oauthproxy.ErrCodeInvalidGrant, oauthErr(t, err).Code)
	assert.Equal(t, 1, d.idp.Stats().CodeExchanges, "no second upstream exchange")
}

// TestMethods_ExchangeAuthorizationCode_StorageBlipPutsTheCodeBack: when the
// grant cannot be saved during a redemption (temporarily_unavailable),
// nothing was issued and the code is put back for the retry, quietly: the
// restore worked, so no error is logged.
func TestMethods_ExchangeAuthorizationCode_StorageBlipPutsTheCodeBack(t *testing.T) {
	fs := newFaultStore()
	logger, logs := newCapturingLogger()
	d := newDirect(t, withFaultStore(fs), withConfig(func(c *oauthproxy.Config) { c.Logger = logger }))
	c := d.register("client_secret_post")
	code, verifier := d.login(c)

	fs.failNth(opSave, "grant:", 1)
	_, err := d.p.ExchangeAuthorizationCode(d.ctx, codeRequest(c, code, verifier))
	assert.Equal(t, oauthproxy.ErrCodeTemporarilyUnavailable, oauthErr(t, err).Code)
	require.Equal(t, 1, fs.clear(), "the grant's save failed")
	assert.Len(t, fs.keys("code:"), 1, "the code is back")
	assert.Empty(t, logs.linesAt("ERROR"))
	_, err = d.p.ExchangeAuthorizationCode(d.ctx, codeRequest(c, code, verifier))
	require.NoError(t, err, "the retry redeems it")
}

// TestMethods_ExchangeAuthorizationCode_RevokedGrantSpendsTheCode: a code
// whose grant was revoked before the redemption is refused with
// invalid_grant and not put back: only server_error and
// temporarily_unavailable leave it for a retry.
func TestMethods_ExchangeAuthorizationCode_RevokedGrantSpendsTheCode(t *testing.T) {
	fs := newFaultStore()
	d := newDirect(t, withFaultStore(fs))
	c := d.register("client_secret_post")
	code, verifier := d.login(c)
	grants := fs.keys("grant:")
	require.Len(t, grants, 1)
	require.NoError(t, fs.Delete(d.ctx, grants[0]))

	_, err := d.p.ExchangeAuthorizationCode(d.ctx, codeRequest(c, code, verifier))
	assert.Equal(t, oauthproxy.ErrCodeInvalidGrant, oauthErr(t, err).Code)
	assert.Empty(t, fs.keys("code:"), "the code is spent")
}
