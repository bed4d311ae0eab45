package oauthproxy

import (
	"net/url"
	"strings"

	"github.com/oauthproxy-go/oauthproxy/internal/bufpool"

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
// the parameter is left out). It is made in a reused buffer and copied out
// once: the one allocation is the result.
func (t *upstreamAuthorizationURLs) build(state, challenge string, scopes []string) string {
	buf := urlBufs.Get()
	defer urlBufs.Put(buf)
	b := append((*buf)[:0], t.prefix...)
	b = append(b, '?')
	b = appendEncoded(b, t.fixed[0])
	b = appendParam(b, paramCodeChallenge, challenge)
	b = appendEncoded(b, t.fixed[1])
	if len(scopes) > 0 {
		b = appendParam(b, paramScope, joinScope(scopes))
	}
	b = appendEncoded(b, t.fixed[2])
	b = appendParam(b, paramState, state)
	b = appendEncoded(b, t.fixed[3])
	b = append(b, t.suffix...)
	*buf = b
	return string(b)
}

// urlBufs are build's buffers; a URL is a few hundred bytes.
var urlBufs = bufpool.New(16 << 10)

// appendEncoded appends pairs Encode made, after a '&' unless they are the
// query's first. The query so far ends in '?' only when it is empty: Encode
// and QueryEscape escape every '?' they are given.
func appendEncoded(b []byte, encoded string) []byte {
	if encoded == "" {
		return b
	}
	if b[len(b)-1] != '?' {
		b = append(b, '&')
	}
	return append(b, encoded...)
}

// appendParam appends key=value, the value escaped as Encode escapes it.
func appendParam(b []byte, key, value string) []byte {
	if b[len(b)-1] != '?' {
		b = append(b, '&')
	}
	b = append(b, key...)
	b = append(b, '=')
	return append(b, url.QueryEscape(value)...)
}
