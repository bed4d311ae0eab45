package oauthproxy_test

// UpstreamTokenSource: a tool calls the provider's API with the user's
// upstream token, refreshed through the proxy's shared upstream refresh.

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/oauthproxy-go/oauthproxy"
	"github.com/oauthproxy-go/oauthproxy/oauthproxytest"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/oauth2"
)

// upstreamTTL is how long the fake upstream's access tokens live in these tests.
const upstreamTTL = 10 * time.Minute

func withUpstreamTTL(o *oauthproxytest.Options) { o.AccessTokenTTL = upstreamTTL }

// callProvider calls the fake upstream's userinfo endpoint (standing for the
// provider's API) through oauth2.NewClient(ctx, ts) and returns the user's
// subject, or the error.
func callProvider(ctx context.Context, ts oauth2.TokenSource, userinfo string) (string, error) {
	resp, err := oauth2.NewClient(ctx, ts).Get(userinfo)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return "", fmt.Errorf("provider answered %d", resp.StatusCode)
	}
	var u struct {
		Sub string `json:"sub"`
	}
	err = json.NewDecoder(resp.Body).Decode(&u)
	return u.Sub, err
}

// sourceFor verifies the proxy access token and makes the token source of its claims.
func (d *direct) sourceFor(access string) (oauth2.TokenSource, *oauthproxy.Claims) {
	d.t.Helper()
	claims, err := d.p.VerifyAccessToken(d.ctx, access)
	require.NoError(d.t, err)
	ts, err := d.p.UpstreamTokenSource(d.ctx, claims)
	require.NoError(d.t, err)
	return ts, claims
}

func TestUpstreamTokenSource_CallsTheProvider(t *testing.T) {
	for _, passThrough := range []bool{false, true} {
		t.Run(map[bool]string{false: "swap", true: "pass-through"}[passThrough], func(t *testing.T) {
			d := newDirect(t, withConfig(func(c *oauthproxy.Config) { c.DisableTokenSwap = passThrough }))
			tr := d.tokens(d.register("none"))
			ts, _ := d.sourceFor(tr.AccessToken)

			tok, err := ts.Token()
			require.NoError(t, err)
			assert.Equal(t, "Bearer", tok.Type())
			assert.Empty(t, tok.RefreshToken, "the upstream refresh token never leaves the proxy")
			if passThrough {
				assert.Equal(t, tr.AccessToken, tok.AccessToken, "pass-through: the bearer is the upstream token")
			} else {
				assert.NotEqual(t, tr.AccessToken, tok.AccessToken, "swap: the upstream token, not the proxy's")
				up, err := d.p.LoadUpstreamTokens(d.ctx, tr.AccessToken)
				require.NoError(t, err)
				assert.Equal(t, up.AccessToken, tok.AccessToken)
				assert.Equal(t, up.Expiry, tok.Expiry)
			}
			sub, err := callProvider(d.ctx, ts, d.idp.UserInfoEndpoint())
			require.NoError(t, err)
			assert.Equal(t, oauthproxytest.DefaultUser.Subject, sub)
		})
	}
}

// Through Handler and RequireBearer: a tool behind the bearer check gets
// the caller's claims from its context and calls the provider with them.
func TestUpstreamTokenSource_ThroughHandler(t *testing.T) {
	for _, passThrough := range []bool{false, true} {
		t.Run(map[bool]string{false: "swap", true: "pass-through"}[passThrough], func(t *testing.T) {
			e := newEnv(t, withConfig(func(c *oauthproxy.Config) { c.DisableTokenSwap = passThrough }))
			tool := httptest.NewServer(e.proxy.RequireBearer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				claims, _ := oauthproxy.ClaimsFromContext(r.Context())
				ts, err := e.proxy.UpstreamTokenSource(r.Context(), claims)
				if err != nil {
					http.Error(w, err.Error(), http.StatusInternalServerError)
					return
				}
				sub, err := callProvider(r.Context(), ts, e.idp.UserInfoEndpoint())
				if err != nil {
					http.Error(w, err.Error(), http.StatusBadGateway)
					return
				}
				_, _ = io.WriteString(w, sub)
			})))
			t.Cleanup(tool.Close)

			c := e.register("none")
			code, verifier := e.code(c)
			tr := e.exchange(c, code, verifier)
			require.Equal(t, http.StatusOK, tr.Status, "%v", tr.Body)

			req, _ := http.NewRequest(http.MethodGet, tool.URL, nil)
			req.Header.Set("Authorization", "Bearer "+tr.str("access_token"))
			resp, err := http.DefaultClient.Do(req)
			require.NoError(t, err)
			defer resp.Body.Close()
			body, _ := io.ReadAll(resp.Body)
			assert.Equal(t, http.StatusOK, resp.StatusCode, string(body))
			assert.Equal(t, oauthproxytest.DefaultUser.Subject, string(body))
		})
	}
}

// An expired upstream token is refreshed once for any number of concurrent
// Token calls (the provider rotates refresh tokens, so a second refresh
// would fail), and the refreshed token is stored for later callers.
func TestUpstreamTokenSource_RefreshesOnceForConcurrentCallers(t *testing.T) {
	d := newDirect(t, withIdP(withUpstreamTTL), withIdP(func(o *oauthproxytest.Options) { o.RotateRefreshTokens = true }))
	tr := d.tokens(d.register("none"))
	before, err := d.p.LoadUpstreamTokens(d.ctx, tr.AccessToken)
	require.NoError(t, err)

	d.clock.Advance(upstreamTTL) // the upstream token has expired; the proxy's (1 h) has not
	const callers = 16
	tokens := make([]string, callers)
	errs := make([]error, callers)
	var wg sync.WaitGroup
	for i := range callers {
		ts, _ := d.sourceFor(tr.AccessToken) // a source per tool call, as documented
		wg.Go(func() {
			tok, err := ts.Token()
			errs[i] = err
			if err == nil {
				tokens[i] = tok.AccessToken
			}
		})
	}
	wg.Wait()
	for i := range callers {
		require.NoError(t, errs[i])
		assert.Equal(t, tokens[0], tokens[i], "every caller gets the one refreshed token")
	}
	assert.NotEqual(t, before.AccessToken, tokens[0])
	assert.Equal(t, 1, d.idp.Stats().Refreshes, "one upstream refresh for all callers")

	after, err := d.p.LoadUpstreamTokens(d.ctx, tr.AccessToken)
	require.NoError(t, err)
	assert.Equal(t, tokens[0], after.AccessToken, "the refreshed token was stored")
	assert.Equal(t, 1, d.idp.Stats().Refreshes)

	ts, _ := d.sourceFor(tr.AccessToken)
	sub, err := callProvider(d.ctx, ts, d.idp.UserInfoEndpoint())
	require.NoError(t, err)
	assert.Equal(t, oauthproxytest.DefaultUser.Subject, sub)
}

// A token source made before a revocation refuses at its next Token call,
// and never hands out a token: the provider sees no request.
func TestUpstreamTokenSource_RevokedGrant(t *testing.T) {
	for _, passThrough := range []bool{false, true} {
		t.Run(map[bool]string{false: "swap", true: "pass-through"}[passThrough], func(t *testing.T) {
			d := newDirect(t, withConfig(func(c *oauthproxy.Config) { c.DisableTokenSwap = passThrough }))
			c := d.register("none")
			tr := d.tokens(c)
			ts, _ := d.sourceFor(tr.AccessToken)
			_, err := ts.Token()
			require.NoError(t, err)

			require.NoError(t, d.p.RevokeToken(d.ctx, &oauthproxy.RevocationRequest{Token: tr.AccessToken, Client: creds(c)}))
			tok, err := ts.Token()
			assert.Nil(t, tok)
			assert.ErrorIs(t, err, oauthproxy.ErrTokenRevoked)

			calls := d.idp.Stats().UserInfoRequests
			_, err = callProvider(d.ctx, ts, d.idp.UserInfoEndpoint())
			assert.ErrorIs(t, err, oauthproxy.ErrTokenRevoked, "through oauth2.NewClient too")
			assert.Equal(t, calls, d.idp.Stats().UserInfoRequests, "the provider was never called")
		})
	}
}

// When the provider refuses the refresh (the user revoked the app there),
// the grant is dead: ErrTokenRevoked, not a stale token.
func TestUpstreamTokenSource_ProviderRefusesRefresh(t *testing.T) {
	d := newDirect(t, withIdP(withUpstreamTTL))
	tr := d.tokens(d.register("none"))
	ts, _ := d.sourceFor(tr.AccessToken)
	d.idp.RevokeAll()
	d.clock.Advance(upstreamTTL)
	tok, err := ts.Token()
	assert.Nil(t, tok)
	assert.ErrorIs(t, err, oauthproxy.ErrTokenRevoked)
	var oerr *oauthproxy.Error
	require.ErrorAs(t, err, &oerr)
	assert.Equal(t, oauthproxy.ErrCodeInvalidGrant, oerr.Code)
}

// An unreachable provider is no revocation: a retryable *Error.
func TestUpstreamTokenSource_ProviderDown(t *testing.T) {
	d := newDirect(t, withIdP(withUpstreamTTL))
	tr := d.tokens(d.register("none"))
	ts, _ := d.sourceFor(tr.AccessToken)
	d.idp.Close()
	d.clock.Advance(upstreamTTL)
	_, err := ts.Token()
	require.Error(t, err)
	assert.NotErrorIs(t, err, oauthproxy.ErrTokenRevoked)
	var oerr *oauthproxy.Error
	require.ErrorAs(t, err, &oerr)
	assert.Equal(t, oauthproxy.ErrCodeTemporarilyUnavailable, oerr.Code)
}

// Pass-through mode cannot refresh (the client holds the refresh token): an
// expired token is refused, not handed out.
func TestUpstreamTokenSource_PassThroughExpired(t *testing.T) {
	d := newDirect(t, withIdP(withUpstreamTTL), withConfig(func(c *oauthproxy.Config) { c.DisableTokenSwap = true }))
	tr := d.tokens(d.register("none"))
	ts, claims := d.sourceFor(tr.AccessToken)
	tok, err := ts.Token()
	require.NoError(t, err)
	assert.Equal(t, claims.ExpiresAt, tok.Expiry)

	d.clock.Advance(upstreamTTL)
	tok, err = ts.Token()
	assert.Nil(t, tok)
	assert.ErrorIs(t, err, oauthproxy.ErrTokenExpired)
	assert.Zero(t, d.idp.Stats().Refreshes)
}

func TestUpstreamTokenSource_RefusesClaimsItCannotUse(t *testing.T) {
	d := newDirect(t)
	tr := d.tokens(d.register("none"))
	_, claims := d.sourceFor(tr.AccessToken)

	other := *claims
	other.Audience = "https://other.example.com/mcp"
	noGrant := *claims
	noGrant.GrantID = ""
	for name, c := range map[string]*oauthproxy.Claims{
		"nil":            nil,
		"no grant":       &noGrant,
		"other resource": &other,
	} {
		t.Run(name, func(t *testing.T) {
			ts, err := d.p.UpstreamTokenSource(d.ctx, c)
			assert.Nil(t, ts)
			assert.ErrorIs(t, err, oauthproxy.ErrInvalidToken)
		})
	}

	t.Run("pass-through claims not from the proxy", func(t *testing.T) {
		pt := newDirect(t, withConfig(func(c *oauthproxy.Config) { c.DisableTokenSwap = true }))
		ptr := pt.tokens(pt.register("none"))
		verified, err := pt.p.VerifyAccessToken(pt.ctx, ptr.AccessToken)
		require.NoError(t, err)
		handMade := oauthproxy.Claims{Subject: verified.Subject, ClientID: verified.ClientID, Audience: verified.Audience, GrantID: verified.GrantID}
		ts, err := pt.p.UpstreamTokenSource(pt.ctx, &handMade)
		assert.Nil(t, ts)
		assert.ErrorIs(t, err, oauthproxy.ErrInvalidToken)
	})
}

// S11: upstream tokens leave the proxy only to the server's own code, and
// only the access token of the grant the claims belong to. Claims naming
// another user's grant get nothing.
func TestSecurity_S11_UpstreamTokenSourceOnlyForTheClaimsGrant(t *testing.T) {
	d := newDirect(t)
	_, alice := d.sourceFor(d.tokens(d.register("none")).AccessToken)
	d.idp.SetUser(oauthproxytest.User{Subject: "mallory", Name: "M", Email: "m@example.com", Login: "m"})
	_, mallory := d.sourceFor(d.tokens(d.register("none")).AccessToken)
	require.NotEqual(t, alice.Subject, mallory.Subject)

	forged := *mallory
	forged.GrantID = alice.GrantID
	ts, err := d.p.UpstreamTokenSource(d.ctx, &forged)
	require.NoError(t, err)
	tok, err := ts.Token()
	assert.Nil(t, tok)
	assert.ErrorIs(t, err, oauthproxy.ErrTokenRevoked)
}

// S05: a replayed authorization code revokes its grant, and with it the
// upstream token source of every access token issued from it.
func TestSecurity_S05_CodeReplayStopsUpstreamTokenSource(t *testing.T) {
	d := newDirect(t)
	c := d.register("none")
	code, verifier := d.login(c)
	tr, err := d.p.ExchangeAuthorizationCode(d.ctx, codeRequest(c, code, verifier))
	require.NoError(t, err)
	ts, _ := d.sourceFor(tr.AccessToken)
	_, err = d.p.ExchangeAuthorizationCode(d.ctx, codeRequest(c, code, verifier))
	require.Error(t, err)

	tok, err := ts.Token()
	assert.Nil(t, tok)
	assert.ErrorIs(t, err, oauthproxy.ErrTokenRevoked)
}

// Neither the claims that carry a pass-through token nor the logs of a
// refresh through the source show an upstream token.
func TestUpstreamTokenSource_NeverPrintsTokens(t *testing.T) {
	t.Run("claims", func(t *testing.T) {
		d := newDirect(t, withConfig(func(c *oauthproxy.Config) { c.DisableTokenSwap = true }))
		tr := d.tokens(d.register("none"))
		_, claims := d.sourceFor(tr.AccessToken)
		logger, logs := newCapturingLogger()
		logger.Info("claims", "claims", claims, "value", *claims)
		for _, s := range []string{fmt.Sprint(claims), fmt.Sprintf("%+v", *claims), fmt.Sprintf("%#v", claims), strings.Join(logs.lines(), "\n")} {
			assert.NotContains(t, s, tr.AccessToken)
		}
		b, err := json.Marshal(claims)
		require.NoError(t, err)
		assert.NotContains(t, string(b), tr.AccessToken)
	})
	t.Run("refresh logs", func(t *testing.T) {
		logger, logs := newCapturingLogger()
		d := newDirect(t, withIdP(withUpstreamTTL), withConfig(func(c *oauthproxy.Config) { c.Logger = logger }))
		tr := d.tokens(d.register("none"))
		before, err := d.p.LoadUpstreamTokens(d.ctx, tr.AccessToken)
		require.NoError(t, err)
		d.clock.Advance(upstreamTTL)
		ts, _ := d.sourceFor(tr.AccessToken)
		tok, err := ts.Token()
		require.NoError(t, err)
		require.Equal(t, 1, d.idp.Stats().Refreshes)
		all := strings.Join(logs.lines(), "\n")
		assert.Contains(t, all, "upstream token refreshed", "the refresh is logged")
		for _, secret := range []string{before.AccessToken, before.RefreshToken, tok.AccessToken, tr.AccessToken} {
			assert.NotContains(t, all, secret)
		}
	})
}

// Two replicas on one storage: a refresh through A's source is stored for
// B's (no second refresh, which the rotating provider would refuse), and a
// revocation on A stops B's source at once.
func TestUpstreamTokenSource_Replicas(t *testing.T) {
	d := newDirect(t, withIdP(withUpstreamTTL), withIdP(func(o *oauthproxytest.Options) { o.RotateRefreshTokens = true }))
	b, err := oauthproxy.New(d.cfg) // same storage, keys, upstream and clock
	require.NoError(t, err)
	t.Cleanup(b.Destroy)
	c := d.register("none")
	tr := d.tokens(c)
	claims, err := b.VerifyAccessToken(d.ctx, tr.AccessToken)
	require.NoError(t, err)

	d.clock.Advance(upstreamTTL)
	tsA, _ := d.sourceFor(tr.AccessToken)
	tokA, err := tsA.Token()
	require.NoError(t, err)
	tsB, err := b.UpstreamTokenSource(d.ctx, claims)
	require.NoError(t, err)
	tokB, err := tsB.Token()
	require.NoError(t, err)
	assert.Equal(t, tokA.AccessToken, tokB.AccessToken)
	assert.Equal(t, 1, d.idp.Stats().Refreshes)

	require.NoError(t, d.p.RevokeToken(d.ctx, &oauthproxy.RevocationRequest{Token: tr.RefreshToken, Client: creds(c)}))
	_, err = tsB.Token()
	assert.ErrorIs(t, err, oauthproxy.ErrTokenRevoked)
}
