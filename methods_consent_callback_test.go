package oauthproxy_test

// ConsentPage, HandleConsent and HandleCallback called directly, without HTTP.

import (
	"net/url"
	"strings"
	"testing"

	"github.com/oauthproxy-go/oauthproxy"
	"github.com/oauthproxy-go/oauthproxy/internal/pkce"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// ---------------------------------------------------------------------------
// ConsentPage and HandleConsent

func TestMethods_Consent_Approve(t *testing.T) {
	d := newDirect(t)
	c := d.register("none")
	res, err := d.p.Authorize(d.ctx, authRequest(c, pkce.Challenge(pkce.GenerateVerifier())))
	require.NoError(t, err)

	mark := d.store.mark()
	page, err := d.p.ConsentPage(d.ctx, res.TransactionID, "")
	require.NoError(t, err)
	d.store.unchanged(t, mark, "showing the page changes nothing")
	assert.Equal(t, res.TransactionID, page.TransactionID)
	assert.Equal(t, c.ClientID, page.ClientID)
	assert.Equal(t, "Test <Client>", page.ClientName, "raw: the template escapes it")
	assert.Equal(t, "127.0.0.1:9", page.RedirectHost)
	assert.Equal(t, []string{"openid", "email"}, page.Scopes)
	assert.Equal(t, "127.0.0.1", page.ProviderName, "default: the upstream's host")
	require.NotEmpty(t, page.CSRFToken)
	require.NotEmpty(t, page.CSRFCookie)

	// A repeated GET (prefetch, reload) with the cookie keeps the same token.
	again, err := d.p.ConsentPage(d.ctx, res.TransactionID, page.CSRFCookie)
	require.NoError(t, err)
	assert.Equal(t, page.CSRFCookie, again.CSRFCookie)
	assert.Equal(t, page.CSRFToken, again.CSRFToken)

	dec, err := d.p.HandleConsent(d.ctx, &oauthproxy.ConsentDecision{
		TransactionID: res.TransactionID, Approve: true, CSRFToken: page.CSRFToken, CSRFCookie: page.CSRFCookie,
	})
	require.NoError(t, err)
	require.NotEmpty(t, dec.BrowserBinding)
	u, err := url.Parse(dec.RedirectURL)
	require.NoError(t, err)
	assert.Equal(t, d.idp.AuthorizationEndpoint(), u.Scheme+"://"+u.Host+u.Path)
	assert.Equal(t, res.TransactionID, u.Query().Get("state"))
	assert.Equal(t, "upstream-client", u.Query().Get("client_id"))
	assert.Equal(t, directBaseURL+"/oauth/callback", u.Query().Get("redirect_uri"))

	// The approved transaction completes.
	upCode, state := d.upstreamLogin(dec.RedirectURL)
	cb, err := d.p.HandleCallback(d.ctx, &oauthproxy.CallbackRequest{Code: upCode, State: state, BrowserBinding: dec.BrowserBinding})
	require.NoError(t, err)
	loc, _ := url.Parse(cb.RedirectURL)
	assert.NotEmpty(t, loc.Query().Get("code"))
}

func TestMethods_Consent_Deny(t *testing.T) {
	d := newDirect(t)
	c := d.register("none")
	res, err := d.p.Authorize(d.ctx, authRequest(c, pkce.Challenge(pkce.GenerateVerifier())))
	require.NoError(t, err)
	page, err := d.p.ConsentPage(d.ctx, res.TransactionID, "")
	require.NoError(t, err)

	dec, err := d.p.HandleConsent(d.ctx, &oauthproxy.ConsentDecision{
		TransactionID: res.TransactionID, Approve: false, CSRFToken: page.CSRFToken, CSRFCookie: page.CSRFCookie,
	})
	require.NoError(t, err)
	assert.Empty(t, dec.BrowserBinding)
	u, err := url.Parse(dec.RedirectURL)
	require.NoError(t, err)
	assert.Equal(t, clientRedirect, u.Scheme+"://"+u.Host+u.Path)
	assert.Equal(t, "access_denied", u.Query().Get("error"))
	assert.Equal(t, "client-state-123", u.Query().Get("state"))
	assert.Equal(t, directBaseURL, u.Query().Get("iss"))
	assert.Empty(t, u.Query().Get("code"))

	// The denied transaction is over.
	_, err = d.p.ConsentPage(d.ctx, res.TransactionID, page.CSRFCookie)
	assert.True(t, oauthErr(t, err).NoRedirect)
	_, err = d.p.HandleConsent(d.ctx, &oauthproxy.ConsentDecision{
		TransactionID: res.TransactionID, Approve: true, CSRFToken: page.CSRFToken, CSRFCookie: page.CSRFCookie,
	})
	assert.True(t, oauthErr(t, err).NoRedirect)
	assert.Zero(t, d.idp.Stats().Authorizations)
}

func TestMethods_Consent_Refused(t *testing.T) {
	d := newDirect(t)
	c := d.register("none")
	res, err := d.p.Authorize(d.ctx, authRequest(c, pkce.Challenge(pkce.GenerateVerifier())))
	require.NoError(t, err)
	page, err := d.p.ConsentPage(d.ctx, res.TransactionID, "")
	require.NoError(t, err)
	other, err := d.p.Authorize(d.ctx, authRequest(c, pkce.Challenge(pkce.GenerateVerifier())))
	require.NoError(t, err)
	otherPage, err := d.p.ConsentPage(d.ctx, other.TransactionID, page.CSRFCookie)
	require.NoError(t, err)

	tests := []struct {
		name string
		d    oauthproxy.ConsentDecision
		code string
	}{
		{"no transaction", oauthproxy.ConsentDecision{CSRFToken: page.CSRFToken, CSRFCookie: page.CSRFCookie}, oauthproxy.ErrCodeInvalidRequest},
		{"no CSRF token", oauthproxy.ConsentDecision{TransactionID: res.TransactionID, CSRFCookie: page.CSRFCookie}, oauthproxy.ErrCodeAccessDenied},
		{"no CSRF cookie", oauthproxy.ConsentDecision{TransactionID: res.TransactionID, CSRFToken: page.CSRFToken}, oauthproxy.ErrCodeAccessDenied},
		{"token of another cookie", oauthproxy.ConsentDecision{TransactionID: res.TransactionID, CSRFToken: page.CSRFToken, CSRFCookie: "another-browser"}, oauthproxy.ErrCodeAccessDenied},
		{"token of another transaction", oauthproxy.ConsentDecision{TransactionID: res.TransactionID, CSRFToken: otherPage.CSRFToken, CSRFCookie: page.CSRFCookie}, oauthproxy.ErrCodeAccessDenied},
		{"forged token", oauthproxy.ConsentDecision{TransactionID: res.TransactionID, CSRFToken: "forged", CSRFCookie: page.CSRFCookie}, oauthproxy.ErrCodeAccessDenied},
		{"unknown transaction", oauthproxy.ConsentDecision{TransactionID: "unknown", CSRFToken: page.CSRFToken, CSRFCookie: page.CSRFCookie}, oauthproxy.ErrCodeAccessDenied},
	}
	for _, tt := range tests {
		for _, approve := range []bool{true, false} {
			t.Run(tt.name+map[bool]string{true: "/approve", false: "/deny"}[approve], func(t *testing.T) {
				dec := tt.d
				dec.Approve = approve
				mark := d.store.mark()
				got, err := d.p.HandleConsent(d.ctx, &dec)
				assert.Nil(t, got)
				oe := oauthErr(t, err)
				assert.Equal(t, tt.code, oe.Code)
				assert.True(t, oe.NoRedirect, "a refused consent POST is shown, never redirected")
				d.store.unchanged(t, mark)
			})
		}
	}
	// After all that, the real decision still works.
	dec, err := d.p.HandleConsent(d.ctx, &oauthproxy.ConsentDecision{
		TransactionID: res.TransactionID, Approve: true, CSRFToken: page.CSRFToken, CSRFCookie: page.CSRFCookie,
	})
	require.NoError(t, err)
	assert.NotEmpty(t, dec.BrowserBinding)

	t.Run("ConsentPage of an unknown transaction", func(t *testing.T) {
		_, err := d.p.ConsentPage(d.ctx, "unknown", "")
		oe := oauthErr(t, err)
		assert.Equal(t, oauthproxy.ErrCodeInvalidRequest, oe.Code)
		assert.True(t, oe.NoRedirect)
		_, err = d.p.ConsentPage(d.ctx, "", "")
		assert.True(t, oauthErr(t, err).NoRedirect)
	})
}

// ---------------------------------------------------------------------------
// HandleCallback

func TestMethods_HandleCallback(t *testing.T) {
	d := newDirect(t)
	c := d.register("none")
	verifier := pkce.GenerateVerifier()
	txn, upstreamURL, binding := d.toUpstream(authRequest(c, pkce.Challenge(verifier)))
	upCode, state := d.upstreamLogin(upstreamURL)
	require.Equal(t, txn, state)
	_, _, otherBinding := d.toUpstream(authRequest(c, pkce.Challenge(verifier)))

	refused := []struct {
		name string
		req  oauthproxy.CallbackRequest
		code string
	}{
		{"no state", oauthproxy.CallbackRequest{Code: upCode, BrowserBinding: binding}, oauthproxy.ErrCodeInvalidRequest},
		{"no binding cookie", oauthproxy.CallbackRequest{Code: upCode, State: state}, oauthproxy.ErrCodeAccessDenied},
		{"another transaction's binding", oauthproxy.CallbackRequest{Code: upCode, State: state, BrowserBinding: otherBinding}, oauthproxy.ErrCodeAccessDenied},
		{"forged binding", oauthproxy.CallbackRequest{Code: upCode, State: state, BrowserBinding: "forged"}, oauthproxy.ErrCodeAccessDenied},
		{"unknown state", oauthproxy.CallbackRequest{Code: upCode, State: "unknown", BrowserBinding: binding}, oauthproxy.ErrCodeAccessDenied},
	}
	for _, tt := range refused {
		t.Run(tt.name, func(t *testing.T) {
			req := tt.req
			mark := d.store.mark()
			res, err := d.p.HandleCallback(d.ctx, &req)
			assert.Nil(t, res)
			oe := oauthErr(t, err)
			assert.Equal(t, tt.code, oe.Code)
			assert.True(t, oe.NoRedirect)
			d.store.unchanged(t, mark, "a refused callback consumes nothing")
		})
	}
	assert.Zero(t, d.idp.Stats().CodeExchanges, "refused callbacks never redeem the upstream code")

	mark := d.store.mark()
	res, err := d.p.HandleCallback(d.ctx, &oauthproxy.CallbackRequest{Code: upCode, State: state, BrowserBinding: binding})
	require.NoError(t, err)
	loc, err := url.Parse(res.RedirectURL)
	require.NoError(t, err)
	assert.Equal(t, clientRedirect, loc.Scheme+"://"+loc.Host+loc.Path)
	code := loc.Query().Get("code")
	assert.GreaterOrEqual(t, len(code), 43, "256-bit code")
	assert.Equal(t, "client-state-123", loc.Query().Get("state"))
	assert.Equal(t, directBaseURL, loc.Query().Get("iss"), "RFC 9207")
	assert.Equal(t, 1, d.idp.Stats().CodeExchanges)
	assert.Equal(t, directBaseURL+"/oauth/callback", d.idp.LastTokenRequest().Get("redirect_uri"))
	var took, saved []string
	for _, op := range d.store.since(mark) {
		switch op.Op {
		case "take":
			took = append(took, op.Key)
		case "save":
			saved = append(saved, strings.SplitN(op.Key, ":", 2)[0])
		}
	}
	require.Len(t, took, 1)
	assert.True(t, strings.HasPrefix(took[0], "txn:"), "the transaction is consumed")
	// The grant, its two admin index entries (written first), and the code.
	assert.ElementsMatch(t, []string{"grantsub", "grantcli", "grant", "code"}, saved)
	for _, op := range d.store.since(mark) {
		assert.NotContains(t, op.Key, code, "codes are stored by hash")
	}

	// The callback is single use.
	mark = d.store.mark()
	_, err = d.p.HandleCallback(d.ctx, &oauthproxy.CallbackRequest{Code: upCode, State: state, BrowserBinding: binding})
	oe := oauthErr(t, err)
	assert.Equal(t, oauthproxy.ErrCodeInvalidRequest, oe.Code)
	assert.True(t, oe.NoRedirect)
	d.store.unchanged(t, mark)

	// The code it issued works with the client's verifier.
	tok, err := d.p.ExchangeAuthorizationCode(d.ctx, codeRequest(c, code, verifier))
	require.NoError(t, err)
	assert.NotEmpty(t, tok.AccessToken)
}

func TestMethods_HandleCallback_UpstreamErrors(t *testing.T) {
	tests := []struct {
		name      string
		req       func(upCode string) oauthproxy.CallbackRequest
		wantError string
		wantDesc  string
	}{
		{"upstream denied", func(string) oauthproxy.CallbackRequest {
			return oauthproxy.CallbackRequest{Error: "access_denied", ErrorDescription: "the user said \"no\"\n"}
		}, "access_denied", "the user said no"},
		{"upstream sent neither code nor error", func(string) oauthproxy.CallbackRequest {
			return oauthproxy.CallbackRequest{}
		}, "server_error", ""},
		{"upstream code does not redeem", func(string) oauthproxy.CallbackRequest {
			return oauthproxy.CallbackRequest{Code: "bogus"}
		}, "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := newDirect(t)
			c := d.register("none")
			txn, _, binding := d.toUpstream(authRequest(c, pkce.Challenge(pkce.GenerateVerifier())))
			req := tt.req("")
			req.State, req.BrowserBinding = txn, binding
			res, err := d.p.HandleCallback(d.ctx, &req)
			require.NoError(t, err, "an upstream error is relayed to the client, not returned")
			u, err := url.Parse(res.RedirectURL)
			require.NoError(t, err)
			assert.Equal(t, clientRedirect, u.Scheme+"://"+u.Host+u.Path)
			q := u.Query()
			if tt.wantError != "" {
				assert.Equal(t, tt.wantError, q.Get("error"))
			} else {
				assert.NotEmpty(t, q.Get("error"))
			}
			if tt.wantDesc != "" {
				assert.Equal(t, tt.wantDesc, q.Get("error_description"), "sanitized (S18)")
			}
			assert.NotContains(t, res.RedirectURL, "upstream-secret")
			assert.Empty(t, q.Get("code"))
			assert.Equal(t, "client-state-123", q.Get("state"))
			assert.Equal(t, directBaseURL, q.Get("iss"))
			// The transaction is over either way.
			_, err = d.p.HandleCallback(d.ctx, &req)
			assert.True(t, oauthErr(t, err).NoRedirect)
		})
	}
}
