package oauthproxy

import (
	"context"
	_ "embed"
	"html/template"
	"net/url"
)

const consentPath = "/oauth/consent"

//go:embed templates/consent.html
var consentHTML string

var consentTemplate = template.Must(template.New("consent").Parse(consentHTML))

// ConsentPage is what the consent screen shows (S08): who asks, where the
// browser goes afterwards, for what, and through which provider. Render it with
// the built-in template via Handler, or with your own.
type ConsentPage struct {
	TransactionID string
	ClientID      string
	ClientName    string // the registered client_name; self-asserted, so shown as unverified
	RedirectHost  string // host of the redirect URI the code will be sent to
	Scopes        []string
	ProviderName  string
	// CSRFToken goes in the form; CSRFCookie is the cookie value it is bound to,
	// to be set in the browser (it is the caller's when one was passed in).
	CSRFToken  string
	CSRFCookie string
}

// ConsentPage loads the transaction and describes it for the consent screen.
// csrfCookie is the browser's existing CSRF cookie, if any: reusing it keeps a
// repeated GET of the page (prefetch, reload) valid (S08).
func (p *Proxy) ConsentPage(ctx context.Context, txnID, csrfCookie string) (*ConsentPage, error) {
	txn, oerr := p.loadTransaction(ctx, txnID)
	if oerr != nil {
		return nil, oerr
	}
	client, oerr := p.lookupClient(ctx, txn.ClientID)
	if oerr != nil {
		return nil, oerr
	}
	if csrfCookie == "" || len(csrfCookie) > 64 {
		csrfCookie = randomToken()
	}
	name := client.ClientName
	if name == "" {
		name = "An unnamed application"
	}
	host := txn.RedirectURI
	if u, err := url.Parse(txn.RedirectURI); err == nil && u.Host != "" {
		host = u.Host
	}
	return &ConsentPage{
		TransactionID: txnID,
		ClientID:      client.ClientID,
		ClientName:    name,
		RedirectHost:  host,
		Scopes:        txn.Scopes,
		ProviderName:  p.cfg.ProviderName,
		CSRFToken:     p.sign(purposeCSRF, txnID, csrfCookie),
		CSRFCookie:    csrfCookie,
	}, nil
}

// ConsentDecision is the user's answer posted from the consent page.
type ConsentDecision struct {
	TransactionID string
	Approve       bool
	CSRFToken     string // from the form
	CSRFCookie    string // from the browser's cookie
}

// ConsentResult says where the browser goes after the decision.
type ConsentResult struct {
	// RedirectURL is the upstream authorization endpoint on approval, or the
	// client's redirect URI with error=access_denied on denial.
	RedirectURL string
	// BrowserBinding is set on approval and must be stored in the browser with
	// SetBrowserBinding before the redirect (S09).
	BrowserBinding string
}

// HandleConsent records the user's decision (S08). The CSRF token must match the
// one ConsentPage issued for this transaction and cookie. Approval sends the
// browser upstream; denial ends the transaction and returns access_denied to the
// client with state and iss (RFC 6749 §4.1.2.1, RFC 9207).
func (p *Proxy) HandleConsent(ctx context.Context, d *ConsentDecision) (*ConsentResult, error) {
	if d.TransactionID == "" {
		return nil, newError(ErrCodeInvalidRequest, "txn is required").noRedirect()
	}
	if !p.verifySigned(d.CSRFToken, purposeCSRF, d.TransactionID, d.CSRFCookie) {
		return nil, newError(ErrCodeAccessDenied, "the consent form is invalid or expired; start the sign-in again").noRedirect()
	}
	if !d.Approve {
		var txn transaction
		if err := p.takeJSON(ctx, hashedKey(nsTransaction, d.TransactionID), &txn); err != nil {
			return nil, storageError(err, errTransactionGone()).noRedirect()
		}
		p.log.Info("oauthproxy: consent denied", "client_id", txn.ClientID)
		denied := newError(ErrCodeAccessDenied, "the user denied the request")
		return &ConsentResult{RedirectURL: p.ErrorRedirectURL(txn.RedirectURI, txn.State, denied)}, nil
	}
	txn, oerr := p.loadTransaction(ctx, d.TransactionID)
	if oerr != nil {
		return nil, oerr
	}
	p.log.Info("oauthproxy: consent given", "client_id", txn.ClientID)
	return &ConsentResult{
		RedirectURL:    p.upstreamAuthorizationURL(d.TransactionID, txn),
		BrowserBinding: p.browserBinding(d.TransactionID),
	}, nil
}

// loadTransaction reads a transaction without consuming it.
func (p *Proxy) loadTransaction(ctx context.Context, txnID string) (*transaction, *Error) {
	if txnID == "" {
		return nil, newError(ErrCodeInvalidRequest, "txn is required").noRedirect()
	}
	var txn transaction
	if err := p.getJSON(ctx, hashedKey(nsTransaction, txnID), &txn); err != nil {
		return nil, storageError(err, errTransactionGone()).noRedirect()
	}
	return &txn, nil
}

func errTransactionGone() *Error {
	return newError(ErrCodeInvalidRequest, "this sign-in has expired or was already used; start again from your application").noRedirect()
}
