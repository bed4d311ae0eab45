package httpx

import (
	"errors"
	"net/url"
	"strings"
)

// maxFastFormParams is the most parameters ParseQuery parses itself; longer
// queries go to url.ParseQuery (no request of the proxy's flow has more than
// a dozen).
const maxFastFormParams = 64

// errFormSemicolon is url.ParseQuery's error for a ';' in a parameter.
var errFormSemicolon = errors.New("invalid semicolon separator in query")

// ParseQuery is url.ParseQuery: the same values and, when the query is
// malformed, an error and the values of the pairs that were well formed. It
// differs only in its allocations (issue 16: every token request, consent
// approval, authorization request and callback parses one): the map is sized
// for the query at once, and the one-value slices share one array, each
// capped so that appending to it copies. Queries with more than
// maxFastFormParams parameters go to url.ParseQuery, which also applies Go's
// limit on their number.
func ParseQuery(query string) (url.Values, error) {
	n := strings.Count(query, "&") + 1
	if n > maxFastFormParams {
		return url.ParseQuery(query)
	}
	m := make(url.Values, n)
	values := make([]string, 0, n)
	var err error
	for query != "" {
		// The loop of url.parseQuery (net/url), step for step.
		var key string
		key, query, _ = strings.Cut(query, "&")
		if strings.Contains(key, ";") {
			err = errFormSemicolon
			continue
		}
		if key == "" {
			continue
		}
		key, value, _ := strings.Cut(key, "=")
		key, err1 := url.QueryUnescape(key)
		if err1 != nil {
			if err == nil {
				err = err1
			}
			continue
		}
		value, err1 = url.QueryUnescape(value)
		if err1 != nil {
			if err == nil {
				err = err1
			}
			continue
		}
		if old, ok := m[key]; ok {
			m[key] = append(old, value) // a repeat: rare, and refused by Single
			continue
		}
		values = append(values, value)
		i := len(values) - 1
		m[key] = values[i : i+1 : i+1]
	}
	return m, err
}

// Query is r.URL.Query() through ParseQuery: malformed pairs are dropped.
func Query(u *url.URL) url.Values {
	v, _ := ParseQuery(u.RawQuery)
	return v
}
