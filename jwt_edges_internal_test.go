package oauthproxy

import (
	"encoding/base64"
	"encoding/json"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The edges of the access-token code that mutation testing found unpinned
// (docs/mutation.md).

// TestJWT_StringsRoundTripAtEveryPosition: a quote, a backslash, a control
// character, a non-ASCII or invalid UTF-8 byte or an HTML-special character at any offset of a
// claim (in the eight-byte fast path or the byte-wise tail) is encoded as
// encoding/json would and read back unchanged.
func TestJWT_StringsRoundTripAtEveryPosition(t *testing.T) {
	ts, _ := newTestSigner(t)
	for _, special := range []string{`"`, `\`, "\x01", "\x1f", "\x7f", "é", "\u2028", "<", "&", " ", "~", "\x80", "\xff"} {
		for pos := 0; pos <= 17*3; pos++ {
			// Fillers from three ranges: the fast path's arithmetic differs.
			fill := string("a0A"[pos/18])
			s := strings.Repeat(fill, pos%18) + special + strings.Repeat(fill, 17-pos%18)
			in := &Claims{Subject: s, ClientID: "c", Audience: jwtTestAudience, GrantID: "g", TokenID: "j",
				Extra: map[string]any{"v": s}}
			raw, _, err := ts.issue(in, time.Hour)
			require.NoError(t, err)
			payload, err := base64.RawURLEncoding.DecodeString(strings.Split(raw, ".")[1])
			require.NoError(t, err)
			want, _ := json.Marshal(s)
			assert.Contains(t, string(payload), `"sub":`+string(want), "%q", s)
			out, err := ts.verify(raw, jwtTestAudience)
			require.NoError(t, err, "%q", s)
			var back string // as encoding/json reads it back: invalid UTF-8 repaired
			require.NoError(t, json.Unmarshal(want, &back))
			assert.Equal(t, back, out.Subject)
			assert.Equal(t, back, out.Extra["v"])
		}
	}
}

// TestJWT_HeaderInAnotherSpelling: a header this proxy did not write byte
// for byte but that says the same (keys in another order) is decoded and
// accepted; one that is not base64url or not JSON, or names another alg, is
// not.
func TestJWT_HeaderInAnotherSpelling(t *testing.T) {
	ts, clk := newTestSigner(t)
	payload := `{"iss":"` + jwtTestIssuer + `","aud":"` + jwtTestAudience + `","client_id":"c","gid":"g","exp":` +
		strconv.FormatInt(clk.t.Unix()+60, 10) + `}`
	sign := func(header string) string {
		s := ts.signing.state()
		defer ts.signing.release(s)
		input := header + "." + base64.RawURLEncoding.EncodeToString([]byte(payload))
		return input + "." + string(s.sign([]byte(input)))
	}
	b64 := func(s string) string { return base64.RawURLEncoding.EncodeToString([]byte(s)) }
	kid := ts.signing.kid
	_, err := ts.verify(sign(b64(`{"typ":"at+jwt","kid":"`+kid+`","alg":"HS256"}`)), jwtTestAudience)
	assert.NoError(t, err)
	for name, header := range map[string]string{
		"not base64url": "!!!",
		"not JSON":      b64(`{"typ":`),
		"alg HS384":     b64(`{"typ":"at+jwt","kid":"` + kid + `","alg":"HS384"}`),
		"no alg":        b64(`{"typ":"at+jwt","kid":"` + kid + `"}`),
	} {
		_, err := ts.verify(sign(header), jwtTestAudience)
		assert.ErrorIs(t, err, ErrInvalidToken, name)
	}
}

// TestJWT_NoScopeNoClaim: a token without scopes carries no scope claim
// (RFC 9068 §2.2.3 makes it optional), not an empty one.
func TestJWT_NoScopeNoClaim(t *testing.T) {
	ts, _ := newTestSigner(t)
	raw, _, err := ts.issue(&Claims{ClientID: "c", Audience: jwtTestAudience, GrantID: "g"}, time.Hour)
	require.NoError(t, err)
	payload, err := base64.RawURLEncoding.DecodeString(strings.Split(raw, ".")[1])
	require.NoError(t, err)
	assert.NotContains(t, string(payload), `"scope"`)
}

// TestJWT_CacheSlotSharedByTwoTokens: two tokens whose payloads fall in the
// same slot of the decoded-claims cache each get their own claims.
func TestJWT_CacheSlotSharedByTwoTokens(t *testing.T) {
	ts, _ := newTestSigner(t)
	issue := func(jti string) string {
		raw, _, err := ts.issue(&Claims{Subject: "user-" + jti, ClientID: "c", Audience: jwtTestAudience, GrantID: "g", TokenID: jti}, time.Hour)
		require.NoError(t, err)
		return raw
	}
	first := issue("0")
	slot := ts.cache.slot(strings.Split(first, ".")[1])
	var second string
	for i := 1; second == ""; i++ {
		require.Less(t, i, 1_000_000, "no two payloads share a slot")
		if raw := issue(strconv.Itoa(i)); ts.cache.slot(strings.Split(raw, ".")[1]) == slot {
			second = raw
		}
	}
	for range 2 {
		for _, raw := range []string{first, second, first} {
			c, err := ts.verify(raw, jwtTestAudience)
			require.NoError(t, err)
			want, _ := base64.RawURLEncoding.DecodeString(strings.Split(raw, ".")[1])
			assert.Contains(t, string(want), `"sub":"`+c.Subject+`"`)
		}
	}
}

// TestJWT_NumbersAreStrictJSON: a number encoding/json would refuse is
// refused in any claim, registered or not.
func TestJWT_NumbersAreStrictJSON(t *testing.T) {
	ts, clk := newTestSigner(t)
	exp := strconv.FormatInt(clk.t.Unix()+60, 10)
	valid := func(extra string) string {
		return `{"iss":"` + jwtTestIssuer + `","aud":"` + jwtTestAudience + `","client_id":"c","gid":"g","exp":` + exp + extra + `}`
	}
	for _, n := range []string{"1.", "-", "1e", "1e+", ".5", "1.e5", "-.5"} {
		_, err := ts.verify(signPayload(ts, valid(`,"x":`+n)), jwtTestAudience)
		assert.ErrorIs(t, err, ErrInvalidToken, n)
	}
	for _, n := range []string{"0", "-0", "1.5", "1e5", "1E-5", "-1.25e+3"} {
		_, err := ts.verify(signPayload(ts, valid(`,"x":`+n)), jwtTestAudience)
		assert.NoError(t, err, n)
	}
}

// TestJWT_NumericDateRange: 1e12 seconds (year 33658) is the last date a
// token may carry; one second more is refused.
func TestJWT_NumericDateRange(t *testing.T) {
	ts, _ := newTestSigner(t)
	payload := func(exp string) string {
		return `{"iss":"` + jwtTestIssuer + `","aud":"` + jwtTestAudience + `","client_id":"c","gid":"g","exp":` + exp + `}`
	}
	_, err := ts.verify(signPayload(ts, payload("1e12")), jwtTestAudience)
	assert.NoError(t, err)
	_, err = ts.verify(signPayload(ts, payload("1000000000001")), jwtTestAudience)
	assert.ErrorIs(t, err, ErrInvalidToken)
}

// TestJWT_SizeLimit: a token of exactly maxAccessTokenSize bytes is
// verified; one byte more is refused unread.
func TestJWT_SizeLimit(t *testing.T) {
	ts, _ := newTestSigner(t)
	var exact string
	// Base64 lengths skip one value in four: try a second claim length too.
	for n := 12_000; n < 12_400 && exact == ""; n++ {
		for _, client := range []string{"c", "cc"} {
			raw, _, err := ts.issue(&Claims{ClientID: client, Audience: jwtTestAudience, GrantID: "g",
				Extra: map[string]any{"pad": strings.Repeat("x", n)}}, time.Hour)
			require.NoError(t, err)
			if len(raw) == maxAccessTokenSize {
				exact = raw
			}
		}
	}
	require.NotEmpty(t, exact, "a token of exactly the limit")
	_, err := ts.verify(exact, jwtTestAudience)
	assert.NoError(t, err)
	_, err = ts.verify(exact+"x", jwtTestAudience)
	assert.ErrorContains(t, err, "too large")
}

// TestJWT_VerifyReusesItsScratchSpace: verifying a token reuses the pooled
// HMAC state and buffers of an earlier verify (jwt.go's release keeps any
// buffer up to maxAccessTokenSize), so the usual token costs no more than
// its claims.
func TestJWT_VerifyReusesItsScratchSpace(t *testing.T) {
	ts, _ := newTestSigner(t)
	raw, _, err := ts.issue(&Claims{Subject: "u", ClientID: "c", Audience: jwtTestAudience, GrantID: "g"}, time.Hour)
	require.NoError(t, err)
	allocs := testing.AllocsPerRun(200, func() {
		if _, err := ts.verify(raw, jwtTestAudience); err != nil {
			t.Fatal(err)
		}
	})
	// One allocation (the claims) when the pool keeps the state; the race
	// detector makes sync.Pool drop some puts (3 to 4 then). Without the
	// pool every verify builds a new HMAC state: 10 or more.
	assert.LessOrEqual(t, allocs, 6.0)
}
