package abuse

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"

	"github.com/oauthproxy-go/oauthproxy/internal/httpx"
	"github.com/oauthproxy-go/oauthproxy/internal/loadtest"
	"github.com/oauthproxy-go/oauthproxy/internal/pkce"
)

// Sizes of the hostile requests: the most each channel lets through today.
const (
	// maxQueryValue fills a GET request line close to Go's 1 MiB header
	// limit (http.DefaultMaxHeaderBytes): the ~1 MB state of issue 11.
	maxQueryValue = 1_000_000
	// maxFormValue fills a POST body close to the proxy's 1 MiB cap (S14).
	maxFormValue = httpx.MaxBodySize - 4<<10
	// The largest registration accepted today (dcr.go: 10 redirect URIs of
	// at most 2048 bytes, a 200-byte name, 1000 bytes of scope, 2048-byte
	// client_uri and logo_uri): about 26 KB.
	maxRedirectURIs  = 10
	maxURILen        = 2048
	maxClientNameLen = 200
	maxScopeLen      = 1000

	// The largest shapes the proxy accepts and stores (SECURITY.md S19):
	// state 1 KiB, scope 1 KiB in at most 50 values, a client record of at
	// most 4 KiB.
	fitStateLen       = 1024
	fitScopeTokens    = 50
	fitScopeTokenLen  = 19 // 50 values and 49 spaces: 999 bytes
	fitURILen         = 700
	fitMetadataURILen = 400
)

// attackerRedirect is the attacker's own client's redirect URI (a loadtest
// client's), loopback as the default AllowedRedirectURIPatterns require;
// nothing listens there.
const attackerRedirect = loadtest.ClientRedirect

// Kind is one sort of hostile request. build makes its n-th request; Allowed
// are the statuses it may get besides the refusals every kind may get (429,
// 503 temporarily_unavailable, 413, 414, 431).
type Kind struct {
	Name    string
	Allowed []int
	build   func(a *attack, n int) (*http.Request, error)
}

// Kinds are every hostile request of the run, in report order: every
// anonymous endpoint, at the largest size it accepts and beyond.
var Kinds = []Kind{
	{"register-fit", []int{201}, (*attack).registerFit},
	{"register-max", []int{201, 400}, (*attack).registerMax},
	{"register-oversize", []int{400}, (*attack).registerOversize},
	{"authorize-fit", []int{302}, (*attack).authorizeFit},
	{"authorize-state", []int{302, 400}, (*attack).authorizeState},
	{"authorize-scope", []int{302, 400}, (*attack).authorizeScope},
	{"authorize-resource", []int{302, 400}, (*attack).authorizeResource},
	{"authorize-junk", []int{302, 400}, (*attack).authorizeJunk},
	{"authorize-cimd", []int{400}, (*attack).authorizeCIMD},
	{"consent-get", []int{200, 400}, (*attack).consentGet},
	{"consent-post", []int{400, 403}, (*attack).consentPost},
	{"callback", []int{400, 403}, (*attack).callback},
	{"token", []int{400, 401}, (*attack).token},
	{"revoke", []int{200, 400, 401}, (*attack).revoke},
}

// alwaysAllowed are the refusals any hostile request may get: rate limited,
// a quota full, or a request too large for the server to read.
var alwaysAllowed = []int{http.StatusTooManyRequests, http.StatusServiceUnavailable,
	http.StatusRequestEntityTooLarge, http.StatusRequestURITooLong, http.StatusRequestHeaderFieldsTooLarge}

// attack builds the hostile requests. Its pads are made once: the requests
// differ in a prefix, and the proxy cannot tell.
type attack struct {
	ctx      context.Context
	base     string // the proxy's BaseURL
	clientID string // the attacker's own registered public client
	cimdBase string // https://127.0.0.1:port of the CIMD document server
	queryPad string // maxQueryValue URL-safe bytes
	formPad  string // maxFormValue URL-safe bytes
	scopes   string // ~maxQueryValue of distinct scope tokens, URL encoded

	txnMu sync.Mutex
	txns  []string // real transaction ids the attack's authorizations made
	txnN  int
}

func newAttack(ctx context.Context, base, clientID, cimdBase string) *attack {
	return &attack{
		ctx: ctx, base: base, clientID: clientID, cimdBase: cimdBase,
		queryPad: pad(maxQueryValue), formPad: pad(maxFormValue), scopes: manyScopes(maxQueryValue - 64),
	}
}

// manyScopes is n bytes of distinct scope tokens (RFC 6749 §3.3), URL
// encoded: the spaces between them are '+'.
func manyScopes(n int) string {
	var b strings.Builder
	for i := 0; b.Len() < n-16; i++ {
		fmt.Fprintf(&b, "scope%06d+", i) // 12 bytes a token: ~83,000 of them
	}
	return strings.TrimSuffix(b.String(), "+")
}

// pad is n URL-safe bytes: no percent-encoding inflates them on the wire.
func pad(n int) string {
	const alphabet = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_"
	b := make([]byte, n)
	for i := range b {
		b[i] = alphabet[(i*7+i/64)%len(alphabet)]
	}
	return string(b)
}

// sized is s followed by padding up to n bytes.
func sized(s, padding string, n int) string {
	if len(s) >= n {
		return s[:n]
	}
	return s + padding[:n-len(s)]
}

// noteTxn keeps a transaction id the proxy issued to the attacker (from the
// consent redirect), for the consent kinds to forge decisions on.
func (a *attack) noteTxn(location string) {
	u, err := url.Parse(location)
	if err != nil {
		return
	}
	txn := u.Query().Get("txn")
	if txn == "" {
		return
	}
	a.txnMu.Lock()
	defer a.txnMu.Unlock()
	if len(a.txns) < 64 {
		a.txns = append(a.txns, txn)
	} else {
		a.txns[a.txnN%64] = txn
	}
	a.txnN++
}

// someTxn is a real transaction id when the attack has one, or a forged one.
func (a *attack) someTxn(n int) string {
	a.txnMu.Lock()
	defer a.txnMu.Unlock()
	if len(a.txns) == 0 {
		return forged(n, 43)
	}
	return a.txns[n%len(a.txns)]
}

// forged is an n-th made-up value of the shape of a real id.
func forged(n, length int) string {
	s := base64.RawURLEncoding.EncodeToString([]byte(fmt.Sprintf("forged-%040d", n)))
	return sized(s, strings.Repeat("A", length), length)
}

// encode is q URL-encoded, then big (name, value pairs) appended as they
// are: the big values are made of the URL-safe pad, and escaping a megabyte
// byte by byte, slow under the race detector, would change nothing.
func encode(q url.Values, big ...string) string {
	var b strings.Builder
	b.WriteString(q.Encode())
	for i := 0; i+1 < len(big); i += 2 {
		b.WriteString("&" + url.QueryEscape(big[i]) + "=")
		b.WriteString(big[i+1])
	}
	return strings.TrimPrefix(b.String(), "&")
}

func (a *attack) get(path string, q url.Values, big ...string) (*http.Request, error) {
	return http.NewRequestWithContext(a.ctx, http.MethodGet, a.base+path+"?"+encode(q, big...), nil)
}

func (a *attack) postForm(path string, form url.Values, big ...string) (*http.Request, error) {
	req, err := http.NewRequestWithContext(a.ctx, http.MethodPost, a.base+path, strings.NewReader(encode(form, big...)))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	return req, nil
}

func (a *attack) postJSON(path string, body []byte) (*http.Request, error) {
	req, err := http.NewRequestWithContext(a.ctx, http.MethodPost, a.base+path, bytes.NewReader(body))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", "application/json")
	return req, nil
}

// registration is the largest client metadata accepted today, distinct for n.
func (a *attack) registration(n int) map[string]any {
	uris := make([]string, maxRedirectURIs)
	for i := range uris {
		uris[i] = sized(fmt.Sprintf("http://127.0.0.1:%d/cb/%d/", 1024+i, n), a.queryPad, maxURILen)
	}
	scopes := make([]string, 0, 100)
	for len(strings.Join(scopes, " ")) < maxScopeLen-10 {
		scopes = append(scopes, fmt.Sprintf("s%d-%d", n, len(scopes)))
	}
	md := map[string]any{
		"redirect_uris": uris,
		"client_name":   sized(fmt.Sprintf("hostile client %d ", n), a.queryPad, maxClientNameLen),
		"scope":         strings.Join(scopes, " "),
		"client_uri":    sized(fmt.Sprintf("https://client.example/%d/", n), a.queryPad, maxURILen),
		"logo_uri":      sized(fmt.Sprintf("https://client.example/logo/%d/", n), a.queryPad, maxURILen),
		"grant_types":   []string{"authorization_code", "refresh_token"},
	}
	if n%2 == 0 {
		md["token_endpoint_auth_method"] = "none" // odd ones are confidential: a secret hash too
	}
	return md
}

// registerFit is the largest registration the proxy accepts (S19): every
// field near its limit and the stored record just under 4 KiB, so each one
// admitted costs the most a registration can, until MaxClients refuses
// more (503).
func (a *attack) registerFit(n int) (*http.Request, error) {
	scopes := make([]string, 0, fitScopeTokens)
	for i := 0; i < fitScopeTokens; i++ {
		scopes = append(scopes, sized(fmt.Sprintf("s%d-%d-", n, i), a.queryPad, fitScopeTokenLen))
	}
	md := map[string]any{
		"redirect_uris": []string{
			sized(fmt.Sprintf("http://127.0.0.1:1024/cb/%d/", n), a.queryPad, fitURILen),
			sized(fmt.Sprintf("http://127.0.0.1:1025/cb/%d/", n), a.queryPad, fitURILen),
		},
		"client_name": sized(fmt.Sprintf("hostile client %d ", n), a.queryPad, maxClientNameLen),
		"scope":       strings.Join(scopes, " "),
		"client_uri":  sized(fmt.Sprintf("https://client.example/%d/", n), a.queryPad, fitMetadataURILen),
		"logo_uri":    sized(fmt.Sprintf("https://client.example/logo/%d/", n), a.queryPad, fitMetadataURILen),
		"grant_types": []string{"authorization_code", "refresh_token"},
	}
	if n%2 == 0 {
		md["token_endpoint_auth_method"] = "none" // odd ones are confidential: a secret hash too
	}
	body, err := json.Marshal(md)
	if err != nil {
		return nil, err
	}
	return a.postJSON("/oauth/register", body)
}

// registerMax is the ~26 KB registration of issue 11's second repro.
func (a *attack) registerMax(n int) (*http.Request, error) {
	body, err := json.Marshal(a.registration(n))
	if err != nil {
		return nil, err
	}
	return a.postJSON("/oauth/register", body)
}

// registerOversize is a registration one step past a limit, in turn: too
// many redirect URIs, one too long, a long name, scope, client_uri, and a
// body past the 1 MiB cap.
func (a *attack) registerOversize(n int) (*http.Request, error) {
	md := a.registration(n)
	uris := md["redirect_uris"].([]string)
	switch n % 6 {
	case 0:
		md["redirect_uris"] = append(uris, uris[0]+"x")
	case 1:
		uris[0] += "x"
	case 2:
		md["client_name"] = sized("hostile ", a.queryPad, 64<<10)
	case 3:
		md["scope"] = sized("s ", a.queryPad, 64<<10)
	case 4:
		md["client_uri"] = sized("https://client.example/", a.queryPad, 64<<10)
	case 5:
		md["padding"] = a.formPad + a.formPad[:8<<10] // unknown fields count against the body cap
	}
	body, err := json.Marshal(md)
	if err != nil {
		return nil, err
	}
	return a.postJSON("/oauth/register", body)
}

// authorizeQuery is a valid authorization request from the attacker's
// client, with PKCE.
func (a *attack) authorizeQuery(n int) url.Values {
	return url.Values{
		"response_type":         {"code"},
		"client_id":             {a.clientID},
		"redirect_uri":          {attackerRedirect},
		"code_challenge":        {pkce.Challenge(forged(n, 43))},
		"code_challenge_method": {pkce.MethodS256},
		"state":                 {"s" + strconv.Itoa(n)},
	}
}

// authorizeFit is the largest authorization request the proxy accepts and
// stores (S19): state and scope at their limits, so each pending sign-in
// costs the most one can, until MaxPendingAuthorizations refuses more (a
// redirect with error=temporarily_unavailable, still a 302).
func (a *attack) authorizeFit(n int) (*http.Request, error) {
	q := a.authorizeQuery(n)
	q.Set("state", sized(strconv.Itoa(n)+"-", a.queryPad, fitStateLen))
	scopes := make([]string, 0, fitScopeTokens)
	for i := 0; i < fitScopeTokens; i++ {
		scopes = append(scopes, sized(fmt.Sprintf("a%d-%d-", n, i), a.queryPad, fitScopeTokenLen))
	}
	q.Set("scope", strings.Join(scopes, " "))
	return a.get("/oauth/authorize", q)
}

// authorizeState is issue 11's first repro: a valid request with a ~1 MB state.
func (a *attack) authorizeState(n int) (*http.Request, error) {
	q := a.authorizeQuery(n)
	q.Del("state")
	return a.get("/oauth/authorize", q, "state", sized(strconv.Itoa(n)+"-", a.queryPad, maxQueryValue))
}

// authorizeScope is a valid request with ~1 MB of distinct scopes (any scope
// passes when Config.Scopes is empty, the default).
func (a *attack) authorizeScope(n int) (*http.Request, error) {
	q := a.authorizeQuery(n)
	return a.get("/oauth/authorize", q, "scope", "n"+strconv.Itoa(n)+"+"+a.scopes)
}

// authorizeResource is a valid request naming a ~1 MB resource (RFC 8707).
func (a *attack) authorizeResource(n int) (*http.Request, error) {
	q := a.authorizeQuery(n)
	return a.get("/oauth/authorize", q, "resource", sized(fmt.Sprintf("https://resource.example/%d/", n), a.queryPad, maxQueryValue))
}

// authorizeJunk is, in turn, an unknown ~1 MB client_id, a ~1 MB
// code_challenge, no PKCE, a foreign redirect URI, a wrong response_type and
// a repeated parameter.
func (a *attack) authorizeJunk(n int) (*http.Request, error) {
	q := a.authorizeQuery(n)
	switch n % 6 {
	case 0:
		q.Del("client_id")
		return a.get("/oauth/authorize", q, "client_id", sized(strconv.Itoa(n)+"-", a.queryPad, maxQueryValue))
	case 1:
		q.Del("code_challenge")
		return a.get("/oauth/authorize", q, "code_challenge", sized(strconv.Itoa(n)+"-", a.queryPad, maxQueryValue))
	case 2:
		q.Del("code_challenge")
	case 3:
		q.Set("redirect_uri", "http://127.0.0.1:9/elsewhere")
	case 4:
		q.Set("response_type", "token")
	case 5:
		q.Add("state", "again")
	}
	return a.get("/oauth/authorize", q)
}

// authorizeCIMD names a new https:// client_id each time, on the loopback
// document server that never serves a document: each one a fetch.
func (a *attack) authorizeCIMD(n int) (*http.Request, error) {
	q := a.authorizeQuery(n)
	q.Set("client_id", fmt.Sprintf("%s/clients/%d", a.cimdBase, n))
	return a.get("/oauth/authorize", q)
}

// consentGet asks for the consent page of, in turn, a forged, a ~1 MB and a
// real (the attacker's own) transaction.
func (a *attack) consentGet(n int) (*http.Request, error) {
	txn := forged(n, 43)
	switch n % 3 {
	case 1:
		return a.get("/oauth/consent", nil, "txn", sized(strconv.Itoa(n)+"-", a.queryPad, maxQueryValue))
	case 2:
		txn = a.someTxn(n)
	}
	return a.get("/oauth/consent", url.Values{"txn": {txn}})
}

// consentPost approves a forged or real transaction with a forged CSRF token
// and cookie, in a body filled to the cap.
func (a *attack) consentPost(n int) (*http.Request, error) {
	form := url.Values{"action": {"approve"}, "txn": {forged(n, 43)}, "csrf_token": {forged(n+1, 43)}, "remember": {"1"}}
	var big []string
	switch n % 3 {
	case 1:
		form.Set("txn", a.someTxn(n))
	case 2:
		form.Del("csrf_token")
		big = []string{"csrf_token", sized(strconv.Itoa(n)+"-", a.formPad, maxFormValue)}
	}
	req, err := a.postForm("/oauth/consent", form, big...)
	if err == nil {
		req.AddCookie(&http.Cookie{Name: "oauthproxy-csrf", Value: forged(n+2, 43)})
	}
	return req, err
}

// callback is the upstream's return with a forged state and code, an error
// with a forged state, or a ~1 MB state.
func (a *attack) callback(n int) (*http.Request, error) {
	q := url.Values{"state": {forged(n, 43)}, "code": {forged(n+1, 40)}}
	switch n % 3 {
	case 1:
		q = url.Values{"state": {forged(n, 43)}, "error": {"access_denied"}, "error_description": {"denied"}}
	case 2:
		return a.get("/oauth/callback", nil, "state", sized(strconv.Itoa(n)+"-", a.queryPad, maxQueryValue/2),
			"code", a.queryPad[:maxQueryValue/2-64])
	}
	return a.get("/oauth/callback", q)
}

// token is, in turn, a forged code, a forged refresh token, forged client
// credentials in Basic and in the body, and a ~1 MB code.
func (a *attack) token(n int) (*http.Request, error) {
	var form url.Values
	var big []string
	basic := ""
	switch n % 5 {
	case 0:
		form = url.Values{"grant_type": {"authorization_code"}, "code": {forged(n, 43)}, "code_verifier": {forged(n+1, 43)},
			"redirect_uri": {attackerRedirect}, "client_id": {a.clientID}}
	case 1:
		form = url.Values{"grant_type": {"refresh_token"}, "refresh_token": {forged(n, 43)}, "client_id": {a.clientID}}
	case 2:
		form = url.Values{"grant_type": {"refresh_token"}, "refresh_token": {forged(n, 43)}}
		basic = forged(n+1, 36) + ":" + forged(n+2, 43)
	case 3:
		form = url.Values{"grant_type": {"authorization_code"}, "code": {forged(n, 43)}, "code_verifier": {forged(n+1, 43)},
			"client_id": {forged(n+2, 36)}, "client_secret": {forged(n+3, 43)}}
	case 4:
		form = url.Values{"grant_type": {"authorization_code"}, "code_verifier": {forged(n+1, 43)}, "client_id": {a.clientID}}
		big = []string{"code", sized(strconv.Itoa(n)+"-", a.formPad, maxFormValue)}
	}
	req, err := a.postForm("/oauth/token", form, big...)
	if err == nil && basic != "" {
		req.Header.Set("Authorization", "Basic "+base64.StdEncoding.EncodeToString([]byte(basic)))
	}
	return req, err
}

// revoke revokes, in turn, a forged token as the attacker's client, a forged
// token with forged credentials, and a ~1 MB token (RFC 7009).
func (a *attack) revoke(n int) (*http.Request, error) {
	form := url.Values{"token": {forged(n, 43)}, "client_id": {a.clientID}}
	switch n % 3 {
	case 1:
		form = url.Values{"token": {forged(n, 43)}, "client_id": {forged(n+1, 36)}, "client_secret": {forged(n+2, 43)}}
	case 2:
		form.Del("token")
		form.Set("token_type_hint", "refresh_token")
		return a.postForm("/oauth/revoke", form, "token", sized(strconv.Itoa(n)+"-", a.formPad, maxFormValue))
	}
	return a.postForm("/oauth/revoke", form)
}

// spoofForwarding adds forwarded-address headers naming a different client
// each time: with no TrustedProxies the proxy must not believe them (S20).
func spoofForwarding(req *http.Request, n int) {
	ip := fmt.Sprintf("203.0.113.%d", n%254+1) // RFC 5737 documentation range
	req.Header.Set("X-Forwarded-For", ip)
	req.Header.Set("X-Real-IP", ip)
	req.Header.Set("Forwarded", "for="+ip)
}
