package httpx

import (
	"net/http"
	"net/textproto"
)

// SetHeaders is h.Set(name, value) for each name, value pair in pairs, with
// the one-value slices of all of them in one array (issue 16: a response of
// the proxy sets two to seven headers, each Set one allocation). Each slice
// is capped at its value, so an Add to one header copies it rather than
// writing over the next header's value.
func SetHeaders(h http.Header, pairs ...string) {
	values := make([]string, len(pairs)/2)
	for i := range values {
		values[i] = pairs[2*i+1]
		h[textproto.CanonicalMIMEHeaderKey(pairs[2*i])] = values[i : i+1 : i+1]
	}
}
