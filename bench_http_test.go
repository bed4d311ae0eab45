package oauthproxy_test

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/oauthproxy-go/oauthproxy/internal/pkce"
)

// BenchmarkFlowHTTP is one whole flow through Handler and RequireBearer, as
// the browser and the client send it, without sockets: register → authorize
// → consent page → approve → callback (instant upstream) → token → refresh →
// protected call. Beside BenchmarkFlow (the typed methods alone) it is the
// HTTP layer's own cost: decoding, cookies, page rendering, JSON answers. The
// load tool (make load) adds net/http and the sockets, and their floor.
func BenchmarkFlowHTTP(b *testing.B) {
	f := newBenchFixture(b)
	h := f.p.Handler()
	mcp := f.p.RequireBearer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { _, _ = io.WriteString(w, "ok") }))
	measure(b, nil, func() { httpFlow(b, h, mcp) })
}

var hiddenField = regexp.MustCompile(`name="(txn|csrf_token)" value="([^"]*)"`)

// httpFlow runs one flow through h and mcp, failing tb on any unexpected answer.
func httpFlow(tb testing.TB, h, mcp http.Handler) {
	send := func(method, target, contentType, body string, cookies []*http.Cookie, want int) *httptest.ResponseRecorder {
		var rd io.Reader
		if body != "" {
			rd = strings.NewReader(body)
		}
		req := newServerRequest(tb, method, target, rd)
		if contentType != "" {
			req.Header.Set("Content-Type", contentType)
		}
		for _, c := range cookies {
			req.AddCookie(c)
		}
		rec := httptest.NewRecorder()
		if strings.HasPrefix(target, benchBaseURL+"/mcp") {
			mcp.ServeHTTP(rec, req)
		} else {
			h.ServeHTTP(rec, req)
		}
		if rec.Code != want {
			tb.Fatalf("%s %s: HTTP %d, want %d: %s", method, target, rec.Code, want, rec.Body.String())
		}
		return rec
	}
	const form = "application/x-www-form-urlencoded"

	rec := send(http.MethodPost, benchBaseURL+"/oauth/register", "application/json",
		`{"redirect_uris":["`+benchRedirect+`"],"token_endpoint_auth_method":"none","grant_types":["authorization_code","refresh_token"],"client_name":"Bench Client"}`,
		nil, http.StatusCreated)
	var client struct {
		ClientID string `json:"client_id"`
	}
	if err := json.Unmarshal(rec.Body.Bytes(), &client); err != nil {
		tb.Fatal(err)
	}

	verifier := pkce.GenerateVerifier()
	q := url.Values{"response_type": {"code"}, "client_id": {client.ClientID}, "redirect_uri": {benchRedirect},
		"scope": {benchScope}, "state": {"client-state"}, "code_challenge": {pkce.Challenge(verifier)},
		"code_challenge_method": {pkce.MethodS256}}
	rec = send(http.MethodGet, benchBaseURL+"/oauth/authorize?"+q.Encode(), "", "", nil, http.StatusFound)
	rec = send(http.MethodGet, rec.Header().Get("Location"), "", "", nil, http.StatusOK)
	cookies := rec.Result().Cookies()
	fields := map[string]string{}
	for _, m := range hiddenField.FindAllStringSubmatch(rec.Body.String(), -1) {
		fields[m[1]] = m[2]
	}
	rec = send(http.MethodPost, benchBaseURL+"/oauth/consent", form,
		url.Values{"txn": {fields["txn"]}, "csrf_token": {fields["csrf_token"]}, "action": {"approve"}}.Encode(),
		cookies, http.StatusSeeOther)
	cookies = rec.Result().Cookies()
	state := queryParam(tb, rec.Header().Get("Location"), "state")
	rec = send(http.MethodGet, benchBaseURL+"/oauth/callback?code=upstream-code&state="+url.QueryEscape(state), "", "", cookies, http.StatusFound)
	code := queryParam(tb, rec.Header().Get("Location"), "code")

	var tok struct {
		AccessToken  string `json:"access_token"`
		RefreshToken string `json:"refresh_token"`
	}
	rec = send(http.MethodPost, benchBaseURL+"/oauth/token", form, url.Values{"grant_type": {"authorization_code"},
		"code": {code}, "redirect_uri": {benchRedirect}, "code_verifier": {verifier}, "client_id": {client.ClientID}}.Encode(),
		nil, http.StatusOK)
	if err := json.Unmarshal(rec.Body.Bytes(), &tok); err != nil {
		tb.Fatal(err)
	}
	rec = send(http.MethodPost, benchBaseURL+"/oauth/token", form, url.Values{"grant_type": {"refresh_token"},
		"refresh_token": {tok.RefreshToken}, "client_id": {client.ClientID}}.Encode(), nil, http.StatusOK)
	if err := json.Unmarshal(rec.Body.Bytes(), &tok); err != nil {
		tb.Fatal(err)
	}
	req := newServerRequest(tb, http.MethodPost, benchBaseURL+"/mcp", nil)
	req.Header.Set("Authorization", "Bearer "+tok.AccessToken)
	rec = httptest.NewRecorder()
	mcp.ServeHTTP(rec, req)
	if rec.Code != http.StatusOK {
		tb.Fatalf("protected call: HTTP %d", rec.Code)
	}
}

// newServerRequest is a request as a server receives it, as
// httptest.NewRequest makes it but without parsing the request line anew,
// which costs the benchmark more than some of the handlers it measures.
func newServerRequest(tb testing.TB, method, target string, body io.Reader) *http.Request {
	req, err := http.NewRequest(method, target, body)
	if err != nil {
		tb.Fatal(err)
	}
	req.RemoteAddr = "192.0.2.1:1234"
	req.RequestURI = req.URL.RequestURI()
	return req
}

// One HTTP flow through the benchmark's path succeeds: the benchmark measures
// a flow that works.
func TestBenchFlowHTTP(t *testing.T) {
	f := newBenchFixture(t)
	h := f.p.Handler()
	mcp := f.p.RequireBearer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { _, _ = io.WriteString(w, "ok") }))
	httpFlow(t, h, mcp)
}
