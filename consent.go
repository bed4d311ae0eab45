package oauthproxy

import (
	"context"
	"net/url"

	"github.com/oauthproxy-go/oauthproxy/internal/displaytext"
	"github.com/oauthproxy-go/oauthproxy/internal/redirecturi"
)

const consentPath = "/oauth/consent"

// ConsentPage is what the consent screen shows (S08): who asks, where the
// browser goes afterwards, for what, and through which provider. Handler
// renders it with the built-in template or Config.ConsentTemplate; every
// field is plain text, escaped by html/template.
type ConsentPage struct {
	TransactionID string
	ClientID      string
	// ClientName is the client's own client_name ("An unnamed application"
	// when there is none), without control, invisible-format, bidi or
	// line-break characters (S21). Every client chooses its name, so it is
	// never proof of who the client is.
	ClientName string
	// ClientDomain is, for a client identified by a Client ID Metadata
	// Document (Config.EnableCIMD), the host of its https client_id URL: the
	// one thing about it the proxy checked. It is empty for dynamically
	// registered clients (RFC 7591), which the page marks unverified.
	ClientDomain string
	// RedirectHost is where the authorization code will be sent: the redirect
	// URI's host, with its scheme when that is not http(s) (an app link such as
	// "cursor://anysphere.cursor-mcp").
	RedirectHost string
	// RedirectIsLoopback reports a redirect to this computer (127.0.0.1,
	// localhost, [::1]): a desktop or command-line application.
	RedirectIsLoopback bool
	// Scopes are the requested scopes; Permissions describe them in plain
	// words, in the same order.
	Scopes      []string
	Permissions []ScopePermission
	// ProviderName names the upstream the user signs in with next ("GitHub").
	ProviderName string
	Branding     Branding
	// RememberFor is how long a "remember" tick lasts, in words ("30 days");
	// empty, and the box is not shown, when Config.ConsentRememberTTL is off
	// or the client's identity cannot be assured (a public client redirecting
	// to loopback or a private-use scheme, RFC 8252 §8.6).
	RememberFor string
	// FormAction is where the decision form posts.
	FormAction string
	// CSRFToken goes in the form; CSRFCookie is the cookie value it is bound to,
	// to be set in the browser (it is the caller's when one was passed in).
	CSRFToken  string
	CSRFCookie string
	// Nonce is the Content-Security-Policy nonce for inline <style>; Handler
	// sets it when it renders the page.
	Nonce string
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
	// Names are checked at registration (S21); cleaning again here covers
	// records stored before that check, and every template shows clean text.
	name := displaytext.Clean(client.ClientName)
	if name == "" {
		name = "An unnamed application"
	}
	page := &ConsentPage{
		TransactionID: txnID,
		ClientID:      client.ClientID,
		ClientName:    name,
		RedirectHost:  txn.RedirectURI,
		Scopes:        txn.Scopes,
		Permissions:   p.scopePermissions(txn.Scopes),
		ProviderName:  p.cfg.ProviderName,
		Branding:      p.cfg.Branding,
		RememberFor:   p.rememberFor(txn),
		FormAction:    p.issuerPath() + consentPath,
		CSRFToken:     p.sign(purposeCSRF, txnID, csrfCookie),
		CSRFCookie:    csrfCookie,
	}
	if u, err := url.Parse(txn.RedirectURI); err == nil && u.Host != "" {
		page.RedirectHost = u.Host
		if u.Scheme != "http" && u.Scheme != "https" {
			page.RedirectHost = u.Scheme + "://" + u.Host
		}
		page.RedirectIsLoopback = u.Scheme == "http" && redirecturi.IsLoopbackHost(u.Hostname())
	}
	if client.MetadataDocument {
		if u, err := url.Parse(client.ClientID); err == nil {
			page.ClientDomain = u.Host
		}
	}
	return page, nil
}

// ConsentDecision is the user's answer posted from the consent page.
type ConsentDecision struct {
	TransactionID string
	Approve       bool
	// Remember asks to skip the page next time for this client, redirect URI
	// and scopes; honoured only on approval with Config.ConsentRememberTTL set,
	// when the page offered it (ConsentPage.RememberFor).
	Remember   bool
	CSRFToken  string // from the form
	CSRFCookie string // from the browser's cookie
}

// ConsentResult says where the browser goes after the decision.
type ConsentResult struct {
	// RedirectURL is the upstream authorization endpoint on approval, or the
	// client's redirect URI with error=access_denied on denial.
	RedirectURL string
	// BrowserBinding is set on approval and must travel with the browser to
	// the callback, as CallbackRequest.BrowserBinding (S09); Handler keeps it
	// in a cookie.
	BrowserBinding string
	// ClientID is the client the decision was about.
	ClientID string
	// RememberedConsent is set when the user asked to remember an approval:
	// keep it in the browser (Handler sets a cookie) and pass it back to
	// Authorize as AuthorizationRequest.RememberedConsent.
	RememberedConsent string
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
		if oerr := p.takeTransaction(ctx, d.TransactionID, &txn); oerr != nil {
			return nil, oerr
		}
		if _, oerr := p.stillAllowedRedirect(txn.RedirectURI); oerr != nil {
			return nil, oerr // S22: not even a denial goes to a URI no longer allowed
		}
		p.emit(ctx, Event{Type: EventConsentDenied, ClientID: txn.ClientID})
		denied := newError(ErrCodeAccessDenied, "the user denied the request")
		return &ConsentResult{
			RedirectURL: p.errorRedirectURL(txn.RedirectURI, txn.State, denied),
			ClientID:    txn.ClientID,
		}, nil
	}
	txn, oerr := p.loadTransaction(ctx, d.TransactionID)
	if oerr != nil {
		return nil, oerr
	}
	e := Event{Type: EventConsentGiven, ClientID: txn.ClientID}
	if d.Remember && p.cfg.ConsentRememberTTL > 0 && txn.ConsentRememberable {
		e.Reason = "remembered"
	}
	p.emit(ctx, e)
	res := &ConsentResult{
		RedirectURL:    p.upstreamAuthorizationURL(d.TransactionID, txn),
		BrowserBinding: p.browserBinding(d.TransactionID),
		ClientID:       txn.ClientID,
	}
	if d.Remember && p.cfg.ConsentRememberTTL > 0 && txn.ConsentRememberable {
		res.RememberedConsent = p.rememberConsent(txn.ClientID, txn.RedirectURI, txn.Scopes)
	}
	return res, nil
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
	if _, oerr := p.stillAllowedRedirect(txn.RedirectURI); oerr != nil {
		return nil, oerr // S22: patterns tightened while the sign-in was in flight
	}
	return &txn, nil
}

// takeTransaction consumes a transaction, freeing its place under
// MaxPendingAuthorizations at once rather than at the next recount.
func (p *Proxy) takeTransaction(ctx context.Context, txnID string, txn *transaction) *Error {
	if err := p.takeJSON(ctx, hashedKey(nsTransaction, txnID), txn); err != nil {
		return storageError(err, errTransactionGone()).noRedirect()
	}
	p.pendingQuota.release()
	return nil
}

func errTransactionGone() *Error {
	return newError(ErrCodeInvalidRequest, "this sign-in has expired or was already used; start again from your application").noRedirect()
}
