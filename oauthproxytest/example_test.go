package oauthproxytest_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"

	"github.com/oauthproxy-go/oauthproxy/oauthproxytest"
)

// Example walks the authorization code flow against the fake provider with a
// plain http.Client, as a proxy under test would.
func Example() {
	idp := oauthproxytest.NewServer(oauthproxytest.Options{ClientID: "proxy", ClientSecret: "secret"})
	defer idp.Close()
	client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}

	// The user's browser visits /authorize and is redirected back with a code.
	resp, err := client.Get(idp.AuthorizationEndpoint() + "?" + url.Values{
		"client_id": {"proxy"}, "redirect_uri": {"http://127.0.0.1:8080/oauth/callback"},
		"response_type": {"code"}, "state": {"xyz"}, "scope": {"read:user"},
	}.Encode())
	if err != nil {
		panic(err)
	}
	resp.Body.Close()
	callback, _ := resp.Location()
	fmt.Println("state:", callback.Query().Get("state"))

	// The proxy redeems the code with client_secret_basic.
	form := url.Values{"grant_type": {"authorization_code"}, "code": {callback.Query().Get("code")},
		"redirect_uri": {"http://127.0.0.1:8080/oauth/callback"}}
	req, _ := http.NewRequest(http.MethodPost, idp.TokenEndpoint(), strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.SetBasicAuth("proxy", "secret")
	resp, err = client.Do(req)
	if err != nil {
		panic(err)
	}
	var tok struct {
		AccessToken string `json:"access_token"`
		TokenType   string `json:"token_type"`
	}
	_ = json.NewDecoder(resp.Body).Decode(&tok)
	resp.Body.Close()
	fmt.Println("token_type:", tok.TokenType)

	// The access token reads the user's profile.
	req, _ = http.NewRequest(http.MethodGet, idp.UserInfoEndpoint(), nil)
	req.Header.Set("Authorization", "Bearer "+tok.AccessToken)
	resp, err = client.Do(req)
	if err != nil {
		panic(err)
	}
	var user struct{ Login string }
	_ = json.NewDecoder(resp.Body).Decode(&user)
	resp.Body.Close()
	fmt.Println("login:", user.Login)
	fmt.Printf("%+v\n", idp.Stats())
	// Output:
	// state: xyz
	// token_type: Bearer
	// login: testuser
	// {Authorizations:1 CodeExchanges:1 Refreshes:0 FailedTokenRequests:0 UserInfoRequests:1}
}
