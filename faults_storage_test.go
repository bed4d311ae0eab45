package oauthproxy_test

// Fault injection in storage (issue 8, item 1): a Save, Get or Take fails at
// each step of the flow — register, authorize, consent page, consent
// decision, callback, token, refresh, the bearer check at /mcp, revoke. The
// client gets temporarily_unavailable (503) or an error page, never a success
// with broken state; nothing is left half-written (the memory store under
// the failing wrapper is inspected by key prefix); and once the fault clears,
// the same step (where the protocol allows a retry) or a fresh flow succeeds.

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"testing"

	"github.com/oauthproxy-go/oauthproxy"
	"github.com/oauthproxy-go/oauthproxy/internal/pkce"
	"github.com/stretchr/testify/require"
)

// storageRig is a proxy on a faultStore, with one registered client.
type storageRig struct {
	*env
	store  *faultStore
	client registered
}

func newStorageRig(t *testing.T, opts ...envOption) *storageRig {
	t.Helper()
	s := newFaultStore()
	e := newEnv(t, append([]envOption{withFaultStore(s)}, opts...)...)
	return &storageRig{env: e, store: s, client: e.register("client_secret_basic")}
}

// storageFault fails the nth (from 1) call of op on keys with prefix.
type storageFault struct {
	op, prefix string
	nth        int
}

func (f storageFault) String() string {
	if f.nth == 1 {
		return f.op + " " + f.prefix
	}
	return fmt.Sprintf("%s %s #%d", f.op, f.prefix, f.nth)
}

func (f storageFault) arm(s *faultStore) { s.failNth(f.op, f.prefix, f.nth) }

// requireFired clears the store's rule and checks it failed exactly one call.
func requireFired(t *testing.T, s *faultStore, f storageFault) {
	t.Helper()
	require.Equal(t, 1, s.clear(), "%s was called and failed", f)
}

// requireUnavailablePage checks a 503 HTML error page that sends the browser
// nowhere and says temporarily_unavailable.
func requireUnavailablePage(t *testing.T, h secHop) {
	t.Helper()
	secErrorPage(t, h, http.StatusServiceUnavailable)
	require.Contains(t, h.Body, "temporarily_unavailable")
}

func TestFaults_Storage_Register(t *testing.T) {
	t.Parallel()
	r := newStorageRig(t)
	before := r.store.census()
	f := storageFault{opSave, "client:", 1}
	f.arm(r.store)
	res := secRegister(t, r.srv.URL, secRegistrationBody("none", clientRedirect))
	requireFired(t, r.store, f)
	requireTokenError(t, res, http.StatusServiceUnavailable, "temporarily_unavailable")
	require.Empty(t, res.str("client_id"))
	requireCensus(t, r.store, before, nil, "no client was registered")

	c := r.register("none")
	code, verifier := r.code(c)
	require.Equal(t, http.StatusOK, r.exchange(c, code, verifier).Status)
}

// TestFaults_Storage_Authorize: when the client cannot be loaded, its
// redirect URI cannot be checked, so the browser gets an error page and is
// never redirected — not even to a redirect URI the client registered, and
// certainly not to one it did not (S01). When the transaction cannot be
// saved, the redirect URI was validated, so the error goes there with state
// and iss (RFC 6749 §4.1.2.1).
func TestFaults_Storage_Authorize(t *testing.T) {
	t.Parallel()
	r := newStorageRig(t)
	challenge := pkce.Challenge(pkce.GenerateVerifier())

	t.Run("Get client:", func(t *testing.T) {
		r.onSubtest(t)
		for _, redirect := range []string{clientRedirect, "https://attacker.example/cb"} {
			params := authorizeParams(r.client, challenge)
			params.Set("redirect_uri", redirect)
			before := r.store.census()
			f := storageFault{opGet, "client:", 1}
			f.arm(r.store)
			h := r.secAuthorize(newSecBrowser(t), params)
			requireFired(t, r.store, f)
			requireUnavailablePage(t, h)
			requireCensus(t, r.store, before, nil)
		}
		r.secOpenConsent(newSecBrowser(t), authorizeParams(r.client, challenge))
	})

	t.Run("Save txn:", func(t *testing.T) {
		r.onSubtest(t)
		before := r.store.census()
		f := storageFault{opSave, "txn:", 1}
		f.arm(r.store)
		h := r.secAuthorize(newSecBrowser(t), authorizeParams(r.client, challenge))
		requireFired(t, r.store, f)
		requireErrorRedirect(t, r.env, h, "temporarily_unavailable")
		requireCensus(t, r.store, before, nil, "no transaction")
		r.secOpenConsent(newSecBrowser(t), authorizeParams(r.client, challenge))
	})
}

// TestFaults_Storage_ConsentPage: the page cannot be built; a reload after
// the fault shows it, for the same transaction.
func TestFaults_Storage_ConsentPage(t *testing.T) {
	t.Parallel()
	r := newStorageRig(t)
	for _, f := range []storageFault{{opGet, "txn:", 1}, {opGet, "client:", 1}} {
		t.Run(f.String(), func(t *testing.T) {
			r.onSubtest(t)
			b := newSecBrowser(t)
			h := r.secAuthorize(b, authorizeParams(r.client, pkce.Challenge(pkce.GenerateVerifier())))
			require.Equal(t, http.StatusFound, h.Status)
			before := r.store.census()
			f.arm(r.store)
			page := b.get(h.Location.String())
			requireFired(t, r.store, f)
			requireUnavailablePage(t, page)
			requireCensus(t, r.store, before, nil)

			page = b.get(h.Location.String())
			require.Equal(t, http.StatusOK, page.Status, page.Body)
			secConsentForm(t, page.Body)
		})
	}
}

// TestFaults_Storage_ConsentDecision: approval cannot read the transaction,
// denial cannot take it. The transaction is left as it was, so posting the
// same form again works.
func TestFaults_Storage_ConsentDecision(t *testing.T) {
	t.Parallel()
	r := newStorageRig(t)
	for _, tc := range []struct {
		action string
		fault  storageFault
	}{
		{"approve", storageFault{opGet, "txn:", 1}},
		{"deny", storageFault{opTake, "txn:", 1}},
	} {
		t.Run(tc.action+" "+tc.fault.String(), func(t *testing.T) {
			r.onSubtest(t)
			b := newSecBrowser(t)
			_, form := r.secOpenConsent(b, authorizeParams(r.client, pkce.Challenge(pkce.GenerateVerifier())))
			before := r.store.census()
			tc.fault.arm(r.store)
			h := r.secDecide(b, form, tc.action)
			requireFired(t, r.store, tc.fault)
			requireUnavailablePage(t, h)
			require.Nil(t, h.cookie(""), "no cookie is set by a failed decision")
			requireCensus(t, r.store, before, nil, "the transaction is still there")

			h = r.secDecide(b, form, tc.action)
			if tc.action == "approve" {
				r.secToCallback(b, h)
			} else {
				requireErrorRedirect(t, r.env, h, "access_denied")
			}
		})
	}
}

// TestFaults_Storage_Callback: the callback's three writes. When the
// transaction cannot be taken, nothing happened yet: the browser gets an
// error page and the same callback URL works on a retry (the binding cookie
// is kept). When the grant or the code cannot be saved, the upstream code is
// spent: the client gets an error redirect with state and iss, no grant or
// code is left behind, and a fresh login succeeds.
func TestFaults_Storage_Callback(t *testing.T) {
	t.Parallel()
	r := newStorageRig(t)

	t.Run("Take txn:", func(t *testing.T) {
		r.onSubtest(t)
		b := newSecBrowser(t)
		verifier := pkce.GenerateVerifier()
		callback := r.secCallbackURL(b, authorizeParams(r.client, pkce.Challenge(verifier)))
		before := r.store.census()
		f := storageFault{opTake, "txn:", 1}
		f.arm(r.store)
		h := b.get(callback)
		requireFired(t, r.store, f)
		requireUnavailablePage(t, h)
		requireCensus(t, r.store, before, nil, "the transaction is still there")

		q := secClientRedirect(t, b.get(callback), clientRedirect)
		require.NotEmpty(t, q.Get("code"), "the retried callback issues a code: %v", q)
		tok := r.exchange(r.client, q.Get("code"), verifier)
		require.Equal(t, http.StatusOK, tok.Status, "%v", tok.Body)
	})

	for _, f := range []storageFault{{opSave, "grant:", 1}, {opSave, "code:", 1}} {
		t.Run(f.String(), func(t *testing.T) {
			r.onSubtest(t)
			b := newSecBrowser(t)
			callback := r.secCallbackURL(b, authorizeParams(r.client, pkce.Challenge(pkce.GenerateVerifier())))
			before := r.store.census()
			f.arm(r.store)
			h := b.get(callback)
			requireFired(t, r.store, f)
			requireErrorRedirect(t, r.env, h, "temporarily_unavailable")
			requireCensus(t, r.store, before, map[string]int{"txn:": before["txn:"] - 1},
				"the transaction is used up; no grant and no code are left behind")

			code, verifier := r.code(r.client)
			tok := r.exchange(r.client, code, verifier)
			require.Equal(t, http.StatusOK, tok.Status, "%v", tok.Body)
		})
	}
}

// TestFaults_Storage_TokenExchange: every storage call of the code exchange
// that can fail the request. The code stays redeemable — it was not taken, or
// it is put back — nothing is issued, and the same code then succeeds.
func TestFaults_Storage_TokenExchange(t *testing.T) {
	t.Parallel()
	r := newStorageRig(t)
	for _, f := range []storageFault{
		{opGet, "client:", 1},
		{opGet, "code:", 1},
		{opTake, "code:", 1},
		{opGet, "grant:", 1},
		{opSave, "grant:", 1},
		{opSave, "refresh:", 1},
	} {
		t.Run(f.String(), func(t *testing.T) {
			r.onSubtest(t)
			code, verifier := r.code(r.client)
			before := r.store.census()
			f.arm(r.store)
			res := r.exchange(r.client, code, verifier)
			requireFired(t, r.store, f)
			requireTokenError(t, res, http.StatusServiceUnavailable, "temporarily_unavailable")
			requireCensus(t, r.store, before, nil, "the code is still there; no token, no used-code marker")

			tok := r.exchange(r.client, code, verifier)
			require.Equal(t, http.StatusOK, tok.Status, "the same code works after the fault: %v", tok.Body)
			r.sgRequireLive(r.client, tok.str("access_token"), tok.str("refresh_token"))
		})
	}

	// Remembering the redeemed code is bookkeeping for replay detection: its
	// failure is logged and the client gets its tokens, which work. The code
	// itself is gone, so a replay is still refused.
	t.Run("Save usedcode:", func(t *testing.T) {
		r.onSubtest(t)
		code, verifier := r.code(r.client)
		before := r.store.census()
		f := storageFault{opSave, "usedcode:", 1}
		f.arm(r.store)
		tok := r.exchange(r.client, code, verifier)
		requireFired(t, r.store, f)
		require.Equal(t, http.StatusOK, tok.Status, "%v", tok.Body)
		requireCensus(t, r.store, before, map[string]int{
			"code:": before["code:"] - 1, "refresh:": before["refresh:"] + 1,
		})
		requireTokenError(t, r.exchange(r.client, code, verifier), http.StatusBadRequest, "invalid_grant")
		r.sgRequireLive(r.client, tok.str("access_token"), tok.str("refresh_token"))
	})
}

// TestFaults_Storage_Refresh: every storage call of the refresh_token grant
// that can fail the request. The refresh token stays usable — it was not
// taken, or it is put back — nothing rotates, and the same refresh token then
// succeeds.
func TestFaults_Storage_Refresh(t *testing.T) {
	t.Parallel()
	r := newStorageRig(t)
	tok := r.secTokens(r.client)
	rt := tok.str("refresh_token")
	for _, f := range []storageFault{
		{opGet, "client:", 1},
		{opGet, "refresh:", 1},
		{opTake, "refresh:", 1},
		{opGet, "grant:", 1},
		{opSave, "grant:", 1},
		{opSave, "refresh:", 1},
	} {
		t.Run(f.String(), func(t *testing.T) {
			r.onSubtest(t)
			before := r.store.census()
			f.arm(r.store)
			res := r.refresh(r.client, rt)
			requireFired(t, r.store, f)
			requireTokenError(t, res, http.StatusServiceUnavailable, "temporarily_unavailable")
			requireCensus(t, r.store, before, nil, "the refresh token is still there; nothing rotated")

			ok := r.refresh(r.client, rt)
			require.Equal(t, http.StatusOK, ok.Status, "the same refresh token works after the fault: %v", ok.Body)
			resp, _ := r.callMCP(ok.str("access_token"))
			require.Equal(t, http.StatusOK, resp.StatusCode)
			rt = ok.str("refresh_token")
		})
	}

	// Storage stops taking writes partway through the refresh while reads
	// and takes still work, so no write can undo an earlier step. The client
	// must still hold a working refresh token once storage is back.
	t.Run("writes fail mid-refresh", func(t *testing.T) {
		r.onSubtest(t)
		before := r.store.census()
		r.store.failAll(opSave, "")
		res := r.refresh(r.client, rt)
		require.Positive(t, r.store.clear())
		requireTokenError(t, res, http.StatusServiceUnavailable, "temporarily_unavailable")
		requireCensus(t, r.store, before, nil, "the refresh token is still there; nothing rotated")

		ok := r.refresh(r.client, rt)
		require.Equal(t, http.StatusOK, ok.Status, "the same refresh token works after the outage: %v", ok.Body)
		rt = ok.str("refresh_token")
	})

	// Remembering the rotated token is bookkeeping for reuse detection: its
	// failure is logged and the client gets its new pair, which works. The
	// old token is gone, so presenting it again is refused — without the
	// marker the grant is not revoked, so the new pair keeps working.
	t.Run("Save rotated:", func(t *testing.T) {
		r.onSubtest(t)
		before := r.store.census()
		f := storageFault{opSave, "rotated:", 1}
		f.arm(r.store)
		ok := r.refresh(r.client, rt)
		requireFired(t, r.store, f)
		require.Equal(t, http.StatusOK, ok.Status, "%v", ok.Body)
		requireCensus(t, r.store, before, nil, "one refresh token for another, no marker")
		requireTokenError(t, r.refresh(r.client, rt), http.StatusBadRequest, "invalid_grant")
		r.sgRequireLive(r.client, ok.str("access_token"), ok.str("refresh_token"))
	})
}

// TestFaults_Storage_BearerCheck: the bearer check cannot read the
// revocation state. /mcp answers 503 temporarily_unavailable — not 401, which
// would make the client throw away a valid token — and LoadUpstreamTokens
// returns an error that is not ErrTokenRevoked or ErrInvalidToken.
func TestFaults_Storage_BearerCheck(t *testing.T) {
	t.Parallel()
	r := newStorageRig(t)
	access := r.secTokens(r.client).str("access_token")

	f := storageFault{opGet, "revoked:", 1}
	f.arm(r.store)
	resp, body := r.callMCP(access)
	requireFired(t, r.store, f)
	require.Equal(t, http.StatusServiceUnavailable, resp.StatusCode)
	require.Equal(t, "temporarily_unavailable", body["error"])
	resp, _ = r.callMCP(access)
	require.Equal(t, http.StatusOK, resp.StatusCode)

	f = storageFault{opGet, "grant:", 1}
	f.arm(r.store)
	_, err := r.proxy.LoadUpstreamTokens(context.Background(), access)
	requireFired(t, r.store, f)
	require.Error(t, err)
	require.False(t, errors.Is(err, oauthproxy.ErrTokenRevoked) || errors.Is(err, oauthproxy.ErrInvalidToken) ||
		errors.Is(err, oauthproxy.ErrTokenExpired), "a storage failure is not a dead token: %v", err)
	var oerr *oauthproxy.Error
	require.ErrorAs(t, err, &oerr)
	require.Equal(t, "temporarily_unavailable", oerr.Code)
	up, err := r.proxy.LoadUpstreamTokens(context.Background(), access)
	require.NoError(t, err)
	require.NotEmpty(t, up.AccessToken)
}

// TestFaults_Storage_Revoke: a revocation that cannot be looked up or
// recorded answers 503 and revokes nothing, and the retry revokes. One that
// recorded the revocation but could not delete the grant answers 503 too, but
// fails closed: the tokens are already dead, and the retry finishes the job.
func TestFaults_Storage_Revoke(t *testing.T) {
	t.Parallel()
	r := newStorageRig(t)
	for _, f := range []storageFault{
		{opGet, "client:", 1},
		{opGet, "refresh:", 1},
		{opSave, "revoked:", 1},
	} {
		t.Run(f.String(), func(t *testing.T) {
			r.onSubtest(t)
			tok := r.secTokens(r.client)
			access, refresh := tok.str("access_token"), tok.str("refresh_token")
			before := r.store.census()
			f.arm(r.store)
			res := r.sgRevoke(r.client, refresh, "refresh_token")
			requireFired(t, r.store, f)
			require.Equal(t, http.StatusServiceUnavailable, res.Status, res.Body)
			require.Equal(t, "temporarily_unavailable", res.json(t)["error"])
			requireCensus(t, r.store, before, nil, "nothing was revoked")
			refresh = r.sgRequireLive(r.client, access, refresh)

			require.Equal(t, http.StatusOK, r.sgRevoke(r.client, refresh, "refresh_token").Status)
			r.sgRequireRevoked(r.client, access, refresh)
		})
	}

	t.Run("Delete grant:", func(t *testing.T) {
		r.onSubtest(t)
		tok := r.secTokens(r.client)
		access, refresh := tok.str("access_token"), tok.str("refresh_token")
		before := r.store.census()
		f := storageFault{opDelete, "grant:", 1}
		f.arm(r.store)
		res := r.sgRevoke(r.client, refresh, "refresh_token")
		requireFired(t, r.store, f)
		require.Equal(t, http.StatusServiceUnavailable, res.Status, res.Body)
		requireCensus(t, r.store, before, map[string]int{"revoked:": before["revoked:"] + 1},
			"the revocation is recorded; the grant is still stored")
		r.sgRequireRevoked(r.client, access, refresh)

		require.Equal(t, http.StatusOK, r.sgRevoke(r.client, refresh, "refresh_token").Status)
		requireCensus(t, r.store, before, map[string]int{
			"revoked:": before["revoked:"] + 1, "grant:": before["grant:"] - 1,
		}, "the retry deleted the grant")
	})
}

// TestFaults_Storage_NoSecretInFaultErrors: whatever failed, the client's
// error never carries the storage's error text.
func TestFaults_Storage_NoSecretInFaultErrors(t *testing.T) {
	t.Parallel()
	r := newStorageRig(t)
	code, verifier := r.code(r.client)
	r.store.failAll(opGet, "code:")
	res := r.exchange(r.client, code, verifier)
	r.store.clear()
	require.Equal(t, http.StatusServiceUnavailable, res.Status)
	require.NotContains(t, fmt.Sprint(res.Body), errInjected.Error())
	require.NotContains(t, fmt.Sprint(res.Body), "code:")
}

// TestFaults_Storage_OutageAtEveryStep: storage goes down after the nth call
// a request makes, for every n, and is back for the next request. Nothing
// written after the outage began can undo what was done before it, so this is
// where half-written state would show: after every attempt each stored code
// and refresh token must point at a stored (or revoked) grant. The client
// gets temporarily_unavailable, or its answer when only bookkeeping after the
// answer failed.
func TestFaults_Storage_OutageAtEveryStep(t *testing.T) {
	t.Parallel()
	// Plain values, so requireConsistent can read the records.
	noSeal := withConfig(func(c *oauthproxy.Config) { c.DisableEncryption, c.EncryptionKey = true, nil })

	// The callback: an error page (the transaction was not taken, and the
	// same callback works again), an error redirect (it was: a fresh login
	// works), or the code, which works.
	t.Run("callback", func(t *testing.T) {
		r := newStorageRig(t, noSeal)
		seen := 0
		for n := 0; ; n++ {
			require.Less(t, n, 30, "the request makes a bounded number of storage calls")
			b := newSecBrowser(t)
			verifier := pkce.GenerateVerifier()
			callback := r.secCallbackURL(b, authorizeParams(r.client, pkce.Challenge(verifier)))
			r.store.failAfter(n)
			h := b.get(callback)
			fired := r.store.clear()
			requireConsistent(t, r.store, "outage after", n, "calls")
			if h.Status == http.StatusServiceUnavailable {
				requireUnavailablePage(t, h)
				seen++
				h = b.get(callback)
			}
			q := secClientRedirect(t, h, clientRedirect)
			if q.Get("error") != "" {
				requireErrorRedirect(t, r.env, h, "temporarily_unavailable")
				seen++
				code, v := r.code(r.client)
				require.Equal(t, http.StatusOK, r.exchange(r.client, code, v).Status)
				continue
			}
			tok := r.exchange(r.client, q.Get("code"), verifier)
			require.Equal(t, http.StatusOK, tok.Status, "outage after %d calls: the code works: %v", n, tok.Body)
			if fired == 0 {
				requireOutagesFired(t, n, seen)
				break
			}
		}
	})

	// The code exchange: 503, and then the same code works, or — when the
	// outage began after the code was taken, so it could not be put back, or
	// after a ForwardPKCE upstream code was spent — it is gone and the client
	// signs in again. Never a 500, never tokens that do not work.
	for _, forward := range []bool{false, true} {
		t.Run(map[bool]string{false: "code exchange", true: "ForwardPKCE code exchange"}[forward], func(t *testing.T) {
			outageInCodeExchange(t, newStorageRig(t, noSeal, withConfig(func(c *oauthproxy.Config) { c.ForwardPKCE = forward })))
		})
	}

	// The refresh: 503 and the presented refresh token still works, or a
	// 200 whose new refresh token works. The client never loses its
	// refresh token to an outage.
	t.Run("refresh", func(t *testing.T) {
		r := newStorageRig(t, noSeal)
		rt := r.secTokens(r.client).str("refresh_token")
		seen := 0
		for n := 0; ; n++ {
			require.Less(t, n, 30, "the request makes a bounded number of storage calls")
			r.store.failAfter(n)
			res := r.refresh(r.client, rt)
			fired := r.store.clear()
			requireConsistent(t, r.store, "outage after", n, "calls")
			if res.Status == http.StatusOK {
				rt = res.str("refresh_token")
			} else {
				requireTokenError(t, res, http.StatusServiceUnavailable, "temporarily_unavailable", "outage after", n, "calls")
				seen++
			}
			ok := r.refresh(r.client, rt)
			require.Equal(t, http.StatusOK, ok.Status, "outage after %d calls: the client's refresh token works: %v", n, ok.Body)
			rt = ok.str("refresh_token")
			if fired == 0 {
				requireOutagesFired(t, n, seen)
				break
			}
		}
	})
}

// requireOutagesFired is checked where an OutageAtEveryStep loop ends: at
// the first n whose outage failed no call, the request having made only n.
// An injector that never fired would end the loop at once having tested
// nothing, so the request must have made storage calls (the outage before
// the first of them fired) and the client must have seen an outage.
func requireOutagesFired(t *testing.T, calls, seen int) {
	t.Helper()
	require.Positive(t, calls, "the outages fired: the request makes storage calls")
	require.Positive(t, seen, "the client saw an outage (temporarily_unavailable)")
}

// outageInCodeExchange runs the code exchange with storage going down after
// each number of calls in turn (see TestFaults_Storage_OutageAtEveryStep).
func outageInCodeExchange(t *testing.T, r *storageRig) {
	var lost []int
	seen := 0
	for n := 0; ; n++ {
		require.Less(t, n, 30, "the request makes a bounded number of storage calls")
		code, verifier := r.code(r.client)
		r.store.failAfter(n)
		res := r.exchange(r.client, code, verifier)
		fired := r.store.clear()
		requireConsistent(t, r.store, "outage after", n, "calls")
		if res.Status == http.StatusOK {
			r.sgRequireLive(r.client, res.str("access_token"), res.str("refresh_token"))
			if fired == 0 {
				requireOutagesFired(t, n, seen)
				break
			}
			continue
		}
		requireTokenError(t, res, http.StatusServiceUnavailable, "temporarily_unavailable", "outage after", n, "calls")
		seen++
		retry := r.exchange(r.client, code, verifier)
		if retry.Status == http.StatusOK {
			r.sgRequireLive(r.client, retry.str("access_token"), retry.str("refresh_token"))
			continue
		}
		requireTokenError(t, retry, http.StatusBadRequest, "invalid_grant", "outage after", n, "calls")
		lost = append(lost, n)
		code, verifier = r.code(r.client)
		require.Equal(t, http.StatusOK, r.exchange(r.client, code, verifier).Status)
	}
	t.Logf("an outage beginning after n storage calls of the exchange cost the client its code for n in %v", lost)
}

// TestFaults_Storage_ForwardPKCEExchange: with ForwardPKCE, /token redeems
// the upstream code. Before that, a storage failure leaves the code as it
// was and the same code works. After it, the upstream code is spent: the
// code is not put back (its retry would replay the upstream code, which makes
// the upstream revoke what it issued, RFC 6749 §4.1.2), no grant or token is
// left behind, the retry is refused by the proxy without calling the
// upstream, and a fresh login works.
func TestFaults_Storage_ForwardPKCEExchange(t *testing.T) {
	t.Parallel()
	r := newStorageRig(t, withConfig(func(c *oauthproxy.Config) { c.ForwardPKCE = true }))
	for _, tc := range []struct {
		fault storageFault
		spent bool // the failure comes after the upstream exchange
	}{
		{storageFault{opGet, "client:", 1}, false},
		{storageFault{opGet, "code:", 1}, false},
		{storageFault{opTake, "code:", 1}, false},
		{storageFault{opSave, "grant:", 1}, true},
		{storageFault{opSave, "refresh:", 1}, true},
	} {
		t.Run(tc.fault.String(), func(t *testing.T) {
			r.onSubtest(t)
			code, verifier := r.code(r.client)
			before := r.store.census()
			exchanges := r.idp.Stats().CodeExchanges
			tc.fault.arm(r.store)
			res := r.exchange(r.client, code, verifier)
			requireFired(t, r.store, tc.fault)
			requireTokenError(t, res, http.StatusServiceUnavailable, "temporarily_unavailable")
			if !tc.spent {
				require.Equal(t, exchanges, r.idp.Stats().CodeExchanges, "the upstream was not called")
				requireCensus(t, r.store, before, nil, "the code is still there")
				tok := r.exchange(r.client, code, verifier)
				require.Equal(t, http.StatusOK, tok.Status, "the same code works after the fault: %v", tok.Body)
				r.sgRequireLive(r.client, tok.str("access_token"), tok.str("refresh_token"))
				return
			}
			require.Equal(t, exchanges+1, r.idp.Stats().CodeExchanges, "the upstream redeemed its code")
			requireCensus(t, r.store, before, map[string]int{"code:": before["code:"] - 1},
				"the spent code is gone; no grant or token is left behind")
			failed := r.idp.Stats().FailedTokenRequests
			requireTokenError(t, r.exchange(r.client, code, verifier), http.StatusBadRequest, "invalid_grant")
			require.Equal(t, exchanges+1, r.idp.Stats().CodeExchanges)
			require.Equal(t, failed, r.idp.Stats().FailedTokenRequests, "the upstream code was not replayed")

			code, verifier = r.code(r.client)
			tok := r.exchange(r.client, code, verifier)
			require.Equal(t, http.StatusOK, tok.Status, "%v", tok.Body)
		})
	}
}
