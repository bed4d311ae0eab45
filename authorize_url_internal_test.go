package oauthproxy

import (
	"fmt"
	"math/rand/v2"
	"net/url"
	"testing"

	"github.com/oauthproxy-go/oauthproxy/internal/pkce"
	"github.com/stretchr/testify/require"
)

// upstreamAuthorizationURLReference is how the redirect to the provider was
// first made: the endpoint's query, the extra parameters, the proxy's own,
// through url.Values.Encode and url.URL.String.
func upstreamAuthorizationURLReference(endpoint *url.URL, extra map[string]string, clientID, redirectURL, state, challenge string, scopes []string) string {
	u := *endpoint
	q := u.Query()
	for k, v := range extra {
		q.Set(k, v)
	}
	q.Set("response_type", "code")
	q.Set("client_id", clientID)
	q.Set("redirect_uri", redirectURL)
	q.Set("state", state)
	q.Set("code_challenge", challenge)
	q.Set("code_challenge_method", pkce.MethodS256)
	if len(scopes) > 0 {
		q.Set("scope", joinScope(scopes))
	} else {
		q.Del("scope")
	}
	u.RawQuery = q.Encode()
	return u.String()
}

// The provider must get exactly the request it always got: every endpoint
// query, extra parameter and scope list is encoded as Encode does it.
func TestUpstreamAuthorizationURL_AsEncodeMakesIt(t *testing.T) {
	endpoints := []string{
		"https://idp.example/authorize",
		"https://idp.example/o/oauth2/v2/auth?prompt=consent&access_type=offline",
		"https://idp.example/auth?scope=ignored&state=ignored&code_challenge=ignored&a=1&a=2",
		"https://idp.example/p%20ath/auth?x=%2F#frag",
		"http://127.0.0.1:9999/authorize?zzz=last&aaa=first",
	}
	keys := []string{"a", "access_type", "code", "code_challengf", "code_challenge_methoe", "prompt", "resource",
		"scopd", "scopes", "stat", "state_", "z", "ü", "hd", "login_hint"}
	values := []string{"", "x", "a b", "a&b=c", "é", "/%?#", "offline"}
	rng := rand.New(rand.NewPCG(1, 2))
	for i := range 500 {
		endpoint, err := url.Parse(endpoints[i%len(endpoints)])
		require.NoError(t, err)
		extra := map[string]string{}
		for range rng.IntN(4) {
			extra[keys[rng.IntN(len(keys))]] = values[rng.IntN(len(values))]
		}
		var scopes []string
		for range rng.IntN(4) {
			scopes = append(scopes, []string{"openid", "email", "https://www.googleapis.com/auth/drive.file", "a+b"}[rng.IntN(4)])
		}
		state, challenge := randomToken(), pkce.Challenge(randomToken())
		clientID := []string{"client", "client id/é"}[rng.IntN(2)]
		redirect := "https://proxy.example/oauth/callback?x=" + fmt.Sprint(i)

		want := upstreamAuthorizationURLReference(endpoint, extra, clientID, redirect, state, challenge, scopes)
		got := newUpstreamAuthorizationURLs(endpoint, extra, clientID, redirect).build(state, challenge, scopes)
		require.Equal(t, want, got, "endpoint %s, extra %v, scopes %q", endpoint, extra, scopes)
	}
}
