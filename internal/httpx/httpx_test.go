package httpx

import (
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// S14: only a form-encoded body is read as a form, whatever the spelling of
// its Content-Type (RFC 9110 §8.3.1: case-insensitive, parameters allowed).
func TestSecurity_S14_ReadFormContentType(t *testing.T) {
	for ct, ok := range map[string]bool{
		"application/x-www-form-urlencoded":                true,
		"application/x-www-form-urlencoded; charset=utf-8": true,
		"Application/X-WWW-Form-Urlencoded":                true,
		"application/json":                                 false,
		"application/x-www-form-urlencoded;;":              false,
		"":                                                 false,
		"text/plain; application/x-www-form-urlencoded":    false,
	} {
		r := httptest.NewRequest(http.MethodPost, "/", strings.NewReader("a=1"))
		r.Header.Set("Content-Type", ct)
		form, err := ReadForm(httptest.NewRecorder(), r)
		if ok {
			require.NoError(t, err, ct)
			assert.Equal(t, "1", form.Get("a"), ct)
		} else {
			assert.True(t, errors.Is(err, ErrBadRequest), "%q: %v", ct, err)
		}
	}
}

// S14: ReadJSON reads application/json only.
func TestSecurity_S14_ReadJSONContentType(t *testing.T) {
	for ct, ok := range map[string]bool{
		"application/json":                  true,
		"application/json; charset=utf-8":   true,
		"APPLICATION/JSON":                  true,
		"application/x-www-form-urlencoded": false,
		"application/jsonp":                 false,
		"":                                  false,
	} {
		r := httptest.NewRequest(http.MethodPost, "/", strings.NewReader(`{"a":"1"}`))
		r.Header.Set("Content-Type", ct)
		var v struct{ A string }
		err := ReadJSON(httptest.NewRecorder(), r, &v)
		if ok {
			require.NoError(t, err, ct)
			assert.Equal(t, "1", v.A, ct)
		} else {
			assert.True(t, errors.Is(err, ErrBadRequest), "%q: %v", ct, err)
		}
	}
}
