package oauthproxy

import (
	"net/url"
	"strings"

	"github.com/oauthproxy-go/oauthproxy/internal/pkce"
)

// upstreamAuthorizationURLs makes the redirect to the provider's authorization
// endpoint. Everything but the state, the PKCE challenge and the scope is the
// same for every sign-in, so it is escaped and ordered once, in New; a
// sign-in only escapes its three values into place (issue 16). The result is
// what url.Values.Encode and url.URL.String give for the whole set
// (TestUpstreamAuthorizationURL_AsEncodeMakesIt).
type upstreamAuthorizationURLs struct {
	prefix, suffix string // before "?" and from "#" on (the endpoint's fragment)
	// fixed are the constant pairs, encoded, in the three key ranges the
	// per-request keys fall between: before "code_challenge", before
	// "scope", before "state", and after it.
	fixed [4]string
}

// The per-request parameters, in the order Encode sorts them.
const (
	paramCodeChallenge = "code_challenge"
	paramScope         = "scope"
	paramState         = "state"
)

func newUpstreamAuthorizationURLs(endpoint *url.URL, extra map[string]string, clientID, redirectURL string) *upstreamAuthorizationURLs {
	q := endpoint.Query()
	for k, v := range extra {
		q.Set(k, v)
	}
	q.Set("response_type", "code")
	q.Set("client_id", clientID)
	q.Set("redirect_uri", redirectURL)
	q.Set("code_challenge_method", pkce.MethodS256)
	var ranges [4]url.Values
	for i := range ranges {
		ranges[i] = url.Values{}
	}
	for k, vs := range q {
		switch {
		case k == paramCodeChallenge || k == paramScope || k == paramState:
			// Set (or, for an empty scope, removed) per request.
		case k < paramCodeChallenge:
			ranges[0][k] = vs
		case k < paramScope:
			ranges[1][k] = vs
		case k < paramState:
			ranges[2][k] = vs
		default:
			ranges[3][k] = vs
		}
	}
	t := &upstreamAuthorizationURLs{}
	for i, r := range ranges {
		t.fixed[i] = r.Encode()
	}
	// String writes RawQuery as it is: a marker no URL text holds splits
	// what comes before the query from the fragment after it.
	u := *endpoint
	u.RawQuery = "\x00"
	t.prefix, t.suffix, _ = strings.Cut(u.String(), "?\x00")
	return t
}

// build is the authorization request for state, challenge and scopes (none:
// the parameter is left out).
func (t *upstreamAuthorizationURLs) build(state, challenge string, scopes []string) string {
	scope := joinScope(scopes)
	var b strings.Builder
	b.Grow(len(t.prefix) + len(t.suffix) + len(t.fixed[0]) + len(t.fixed[1]) + len(t.fixed[2]) + len(t.fixed[3]) +
		len(state) + len(challenge) + 2*len(scope) + 48)
	b.WriteString(t.prefix)
	b.WriteByte('?')
	sep := false
	add := func(encoded string) {
		if encoded == "" {
			return
		}
		if sep {
			b.WriteByte('&')
		}
		b.WriteString(encoded)
		sep = true
	}
	pair := func(k, v string) {
		if sep {
			b.WriteByte('&')
		}
		b.WriteString(k)
		b.WriteByte('=')
		b.WriteString(url.QueryEscape(v))
		sep = true
	}
	add(t.fixed[0])
	pair(paramCodeChallenge, challenge)
	add(t.fixed[1])
	if len(scopes) > 0 {
		pair(paramScope, scope)
	}
	add(t.fixed[2])
	pair(paramState, state)
	add(t.fixed[3])
	b.WriteString(t.suffix)
	return b.String()
}
