package oauthproxy

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

const (
	jwtTestIssuer   = "https://mcp.example.com"
	jwtTestAudience = "https://mcp.example.com/mcp"
)

var jwtTestKey = []byte("jwt-internal-test-key-0123456789")

type jwtTestClock struct{ t time.Time }

func (c *jwtTestClock) now() time.Time { return c.t }

func newTestSigner(t *testing.T) (*tokenSigner, *jwtTestClock) {
	t.Helper()
	clk := &jwtTestClock{t: time.Unix(1_800_000_000, 0)}
	return newTokenSigner([][]byte{jwtTestKey}, jwtTestIssuer, clk.now), clk
}

func testClaims() *Claims {
	return &Claims{
		Subject:  "user-1",
		ClientID: "client-1",
		Scopes:   []string{"openid", "email", "openid"},
		Audience: jwtTestAudience,
		TokenID:  "jti-1",
		GrantID:  "grant-1",
		Extra: map[string]any{
			"email":          "alice@example.com",
			"email_verified": true,
			"name":           `Zoë "Z" <Admin> & co` + "\u2028",
			"age":            42.5,
			"nothing":        nil,
			"groups":         []any{"a", "b"},
			"address":        map[string]any{"country": "NZ"},
			"iss":            "https://evil.example", // reserved: never copied
			"scope":          "admin",
		},
	}
}

func TestJWT_IssueVerifyRoundTrip(t *testing.T) {
	ts, clk := newTestSigner(t)
	in := testClaims()
	raw, exp, err := ts.issue(in, time.Hour)
	require.NoError(t, err)
	assert.Equal(t, clk.t.Add(time.Hour), exp)

	for i := range 3 { // decoded, then from the cache
		got, err := ts.verify(raw, jwtTestAudience)
		require.NoError(t, err, "verification %d", i)
		assert.Equal(t, "user-1", got.Subject)
		assert.Equal(t, "client-1", got.ClientID)
		assert.Equal(t, []string{"openid", "email"}, got.Scopes)
		assert.Equal(t, jwtTestAudience, got.Audience)
		assert.Equal(t, "jti-1", got.TokenID)
		assert.Equal(t, "grant-1", got.GrantID)
		assert.Equal(t, exp, got.ExpiresAt)
		assert.Equal(t, clk.t, got.IssuedAt)
		assert.Equal(t, map[string]any{
			"email":          "alice@example.com",
			"email_verified": true,
			"name":           `Zoë "Z" <Admin> & co` + "\u2028",
			"age":            42.5,
			"nothing":        nil,
			"groups":         []any{"a", "b"},
			"address":        map[string]any{"country": "NZ"},
		}, got.Extra)
	}
}

// The tokens must stay what golang-jwt (the previous implementation, and what
// other verifiers use) reads and writes, in both directions.
func TestJWT_InteropWithGolangJWT(t *testing.T) {
	ts, clk := newTestSigner(t)
	raw, _, err := ts.issue(testClaims(), time.Hour)
	require.NoError(t, err)

	parsed, err := jwt.NewParser(
		jwt.WithValidMethods([]string{"HS256"}), jwt.WithIssuer(jwtTestIssuer),
		jwt.WithAudience(jwtTestAudience), jwt.WithExpirationRequired(),
		jwt.WithTimeFunc(clk.now),
	).Parse(raw, func(*jwt.Token) (any, error) { return jwtTestKey, nil })
	require.NoError(t, err)
	assert.Equal(t, "at+jwt", parsed.Header["typ"])
	assert.Equal(t, ts.signing.kid, parsed.Header["kid"])
	assert.Equal(t, strings.SplitN(raw, ".", 2)[0], ts.signing.header, "the header is byte for byte the canonical one")

	legacy := jwt.NewWithClaims(jwt.SigningMethodHS256, jwt.MapClaims{
		"iss": jwtTestIssuer, "aud": []string{jwtTestAudience}, "sub": "user-1",
		"client_id": "client-1", "gid": "grant-1", "jti": "j", "scope": "openid",
		"iat": clk.t.Unix(), "exp": clk.t.Add(time.Hour).Unix(), "email": "a@example.com",
	})
	legacy.Header["typ"] = "at+jwt"
	legacy.Header["kid"] = ts.signing.kid
	signed, err := legacy.SignedString(jwtTestKey)
	require.NoError(t, err)
	got, err := ts.verify(signed, jwtTestAudience)
	require.NoError(t, err)
	assert.Equal(t, "a@example.com", got.Extra["email"])
	assert.Equal(t, []string{"openid"}, got.Scopes)
}

func TestJWT_CachedClaimsAreCheckedAndCopied(t *testing.T) {
	ts, clk := newTestSigner(t)
	c := testClaims()
	delete(c.Extra, "groups")
	delete(c.Extra, "address")
	raw, _, err := ts.issue(c, time.Hour)
	require.NoError(t, err)

	first, err := ts.verify(raw, jwtTestAudience)
	require.NoError(t, err)
	first.Extra["email"] = "mallory@example.com"
	first.Scopes[0] = "admin"
	second, err := ts.verify(raw, jwtTestAudience)
	require.NoError(t, err)
	assert.Equal(t, "alice@example.com", second.Extra["email"], "a caller's changes do not reach the next request")
	assert.Equal(t, []string{"openid", "email"}, second.Scopes)

	_, err = ts.verify(raw, "https://other.example/mcp")
	require.ErrorIs(t, err, ErrInvalidToken, "the audience is checked per call")

	clk.t = clk.t.Add(time.Hour)
	_, err = ts.verify(raw, jwtTestAudience)
	require.ErrorIs(t, err, ErrTokenExpired, "expiry is checked on every call, cached or not")
}

func TestJWT_NestedExtrasAreNotShared(t *testing.T) {
	ts, _ := newTestSigner(t)
	raw, _, err := ts.issue(testClaims(), time.Hour)
	require.NoError(t, err)
	first, err := ts.verify(raw, jwtTestAudience)
	require.NoError(t, err)
	first.Extra["groups"].([]any)[0] = "root"
	second, err := ts.verify(raw, jwtTestAudience)
	require.NoError(t, err)
	assert.Equal(t, []any{"a", "b"}, second.Extra["groups"])
}

func TestJWT_IssueRefusesUnencodableClaim(t *testing.T) {
	ts, _ := newTestSigner(t)
	c := testClaims()
	c.Extra["bad"] = func() {}
	_, _, err := ts.issue(c, time.Hour)
	require.Error(t, err)
}

// signPayload signs an arbitrary payload with the proxy's header and key.
func signPayload(ts *tokenSigner, payload string) string {
	s := ts.signing.state()
	defer ts.signing.release(s)
	input := ts.signing.header + "." + base64.RawURLEncoding.EncodeToString([]byte(payload))
	return input + "." + string(s.sign([]byte(input)))
}

func TestJWT_VerifyIsStrict(t *testing.T) {
	ts, clk := newTestSigner(t)
	now := clk.t.Unix()
	valid := func(extra string) string {
		return `{"iss":"` + jwtTestIssuer + `","aud":"` + jwtTestAudience + `","client_id":"c","gid":"g","exp":` +
			itoa(now+60) + extra + `}`
	}
	ok := []string{
		valid(""),
		valid(`,"aud2":1e3`),
		valid(`,"x":"caf\u00e9 \ud83d\ude00"`),
		` ` + valid(` `) + "\n",
		strings.Replace(valid(""), `"aud":"`+jwtTestAudience+`"`, `"aud":["`+jwtTestAudience+`"]`, 1),
		valid(`,"typ":"whatever","nbf":` + itoa(now) + `,"iat":` + itoa(now)),
	}
	for _, p := range ok {
		_, err := ts.verify(signPayload(ts, p), jwtTestAudience)
		assert.NoError(t, err, p)
	}
	bad := map[string]string{
		"duplicate claim":          valid(`,"gid":"g2"`),
		"duplicate extra":          valid(`,"x":1,"x":2`),
		"exp as string":            strings.Replace(valid(""), `"exp":`+itoa(now+60), `"exp":"`+itoa(now+60)+`"`, 1),
		"exp zero":                 strings.Replace(valid(""), `"exp":`+itoa(now+60), `"exp":0`, 1),
		"exp null":                 strings.Replace(valid(""), `"exp":`+itoa(now+60), `"exp":null`, 1),
		"iat in the future":        valid(`,"iat":` + itoa(now+10)),
		"nbf in the future":        valid(`,"nbf":` + itoa(now+10)),
		"iss not a string":         strings.Replace(valid(""), `"iss":"`+jwtTestIssuer+`"`, `"iss":1`, 1),
		"two audiences":            strings.Replace(valid(""), `"aud":"`+jwtTestAudience+`"`, `"aud":["`+jwtTestAudience+`","x"]`, 1),
		"sub not a string":         valid(`,"sub":1`),
		"trailing data":            valid("") + `{}`,
		"trailing comma":           strings.TrimSuffix(valid(""), "}") + `,}`,
		"raw control character":    valid(`,"x":"a` + "\x01" + `"`),
		"bad escape":               valid(`,"x":"\q"`),
		"leading zero":             valid(`,"x":01`),
		"number out of range":      valid(`,"x":1e999`),
		"bare word":                valid(`,"x":nul`),
		"not an object":            `[]`,
		"unterminated nested":      valid(`,"x":{"a":1`),
		"single quotes":            `{'iss':1}`,
		"huge exp":                 strings.Replace(valid(""), `"exp":`+itoa(now+60), `"exp":1e300`, 1),
		"unterminated string":      `{"iss":"abc`,
		"empty payload":            ``,
		"missing colon":            `{"iss" "x"}`,
		"garbage after aud list":   strings.Replace(valid(""), `"aud":"`+jwtTestAudience+`"`, `"aud":["`+jwtTestAudience+`" x]`, 1),
		"escaped name, registered": strings.Replace(valid(""), `"gid":"g"`, `"gi\u0064":"g"`, 1),
	}
	for name, p := range bad {
		_, err := ts.verify(signPayload(ts, p), jwtTestAudience)
		if name == "escaped name, registered" {
			// The escaped spelling is the same name: accepted, and read as gid.
			assert.NoError(t, err, name)
			continue
		}
		assert.ErrorIs(t, err, ErrInvalidToken, name)
	}
}

func itoa(n int64) string { b, _ := json.Marshal(n); return string(b) }

// FuzzClaimsDecode checks the hand-written decoder against encoding/json: what
// it accepts, encoding/json accepts with the same values; what it refuses,
// encoding/json refuses too, or it is a repeated name or a registered claim of
// the wrong type.
func FuzzClaimsDecode(f *testing.F) {
	for _, s := range []string{
		`{}`, `{"iss":"a","aud":["b"],"exp":1.5e9,"x":{"y":[1,true,null]},"z":"\u00e9"}`,
		`{"a":-0.5e-3,"b":"\"\\\/\b\f\n\r\t"}`, `{"a":1,"a":2}`, `{"exp":"1"}`,
		"{\"a\":\"\xff\"}", `{"a" : [ ] , "b" : { } }`, ` {"a":1} `, `{"a":01}`,
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		var pc payloadClaims
		err := pc.decode(s)
		var m map[string]any
		jerr := json.Unmarshal([]byte(s), &m)
		if err == nil {
			require.NoError(t, jerr, "accepted what encoding/json refuses: %q", s)
			require.NotNil(t, m, "accepted a non-object: %q", s)
			for k, v := range m {
				if reservedClaims[k] {
					continue
				}
				require.Equal(t, v, pc.extra[k], "claim %q of %q", k, s)
			}
			for _, c := range []struct {
				name string
				got  string
			}{{"sub", pc.sub}, {"client_id", pc.clientID}, {"gid", pc.gid}, {"jti", pc.jti}, {"scope", pc.scope}} {
				if v, ok := m[c.name]; ok {
					require.Equal(t, v, c.got, "claim %q of %q", c.name, s)
				}
			}
			if v, ok := m["exp"]; ok {
				require.Equal(t, v, pc.exp)
			}
			return
		}
		if jerr != nil || m == nil {
			return
		}
		if hasRepeatedName(s) || !errors.Is(err, errPayload) {
			return // refused on purpose: a repeat, or errClaim (a registered claim's type)
		}
		t.Fatalf("refused what encoding/json accepts: %q: %v", s, err)
	})
}

// hasRepeatedName reports whether the top-level object in s names a member
// twice.
func hasRepeatedName(s string) bool {
	dec := json.NewDecoder(strings.NewReader(s))
	if _, err := dec.Token(); err != nil {
		return false
	}
	seen := map[string]bool{}
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return false
		}
		name, _ := tok.(string)
		if seen[name] {
			return true
		}
		seen[name] = true
		var skip json.RawMessage
		if err := dec.Decode(&skip); err != nil {
			return false
		}
	}
	_, err := dec.Token()
	return err == nil || errors.Is(err, io.EOF)
}
