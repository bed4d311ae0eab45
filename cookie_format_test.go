package oauthproxy

import (
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"net/url"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// setCookie writes what http.SetCookie writes for the same cookie, on the
// fast path and off it (values net/http would quote or clean).
func TestSetCookie_SameHeaderAsNetHTTP(t *testing.T) {
	const plain = "abcxyzABCXYZ0189-_"
	rng := rand.New(rand.NewPCG(3, 4))
	word := func(alphabet string, n int) string {
		b := make([]byte, n)
		for i := range b {
			b[i] = alphabet[rng.IntN(len(alphabet))]
		}
		return string(b)
	}
	values := []string{"", "a b", "a,b", `a"b`, "a;b", "a.b", "é", "\x00", "=", "tok/en+=="}
	for range 200 {
		values = append(values, word(plain, 1+rng.IntN(60)))
	}
	for _, secure := range []bool{false, true} {
		p := &Proxy{cfg: &settings{}}
		issuer, err := url.Parse(map[bool]string{false: "http://127.0.0.1:1", true: "https://proxy.example"}[secure])
		require.NoError(t, err)
		p.cfg.issuer = issuer
		for _, v := range values {
			for _, maxAge := range []time.Duration{-time.Second, 0, time.Second, 10 * time.Minute, 400 * 24 * time.Hour} {
				name := p.cookieName(cookieNamePrefix + word(plain, 1+rng.IntN(20)))
				got := httptest.NewRecorder()
				p.setCookie(got, name, v, maxAge)
				want := httptest.NewRecorder()
				http.SetCookie(want, p.newCookie(name, v, maxAge))
				require.Equal(t, want.Header().Values("Set-Cookie"), got.Header().Values("Set-Cookie"),
					"name %q value %q max-age %s secure %t", name, v, maxAge, secure)
			}
		}
	}
	assert.True(t, plainCookieToken("Ab0-_"))
	assert.False(t, plainCookieToken(""))
	assert.False(t, plainCookieToken("a.b"))
}
