package oauthproxy

import (
	"net/http"
)

// upstreamIdleConns is how many idle connections the default HTTP client
// keeps to the upstream. net/http keeps 2 per host by default, so sign-ins
// arriving together each paid a new TCP (and TLS) handshake to the token
// endpoint; 64 covers a busy proxy's concurrent code exchanges and refreshes.
const upstreamIdleConns = 64

// defaultHTTPClient is the upstream client when Config.HTTPClient is nil:
// net/http's default transport (proxy from the environment, dial and TLS
// handshake timeouts, HTTP/2) with an idle pool sized for concurrent
// sign-ins, and a DefaultHTTPTimeout bound on every request.
func defaultHTTPClient() *http.Client {
	t := http.DefaultTransport.(*http.Transport).Clone()
	t.MaxIdleConns = max(t.MaxIdleConns, upstreamIdleConns)
	t.MaxIdleConnsPerHost = upstreamIdleConns
	return &http.Client{Timeout: DefaultHTTPTimeout, Transport: t}
}
