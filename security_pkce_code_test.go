package oauthproxy_test

// Security tests for S02-S04: PKCE, client authentication and authorization codes.

import (
	"encoding/base64"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"testing/cryptotest"
	"time"

	"github.com/oauthproxy-go/oauthproxy"
	"github.com/oauthproxy-go/oauthproxy/internal/pkce"
	"github.com/oauthproxy-go/oauthproxy/storage"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// ---------------------------------------------------------------------------
// S02 PKCE

func TestSecurity_S02_AuthorizeRequiresS256Challenge(t *testing.T) {
	store := newRecordingStore(storage.NewMemory())
	e := newEnv(t, withSecStore(store))
	c := e.register("none")
	challenge := pkce.Challenge(pkce.GenerateVerifier())
	stdPadded := base64.StdEncoding.EncodeToString(make([]byte, 32)) // 44 chars with '='

	for _, tc := range []struct {
		name string
		set  map[string]string // "" deletes the parameter
	}{
		{"no challenge", map[string]string{"code_challenge": ""}},
		{"no challenge and no method", map[string]string{"code_challenge": "", "code_challenge_method": ""}},
		{"no method (plain by default)", map[string]string{"code_challenge_method": ""}},
		{"plain", map[string]string{"code_challenge_method": "plain"}},
		{"plain with a verifier as challenge", map[string]string{"code_challenge_method": "plain", "code_challenge": pkce.GenerateVerifier()}},
		{"lowercase s256", map[string]string{"code_challenge_method": "s256"}},
		{"unknown method", map[string]string{"code_challenge_method": "S512"}},
		{"challenge too short", map[string]string{"code_challenge": "abc"}},
		{"challenge too long", map[string]string{"code_challenge": challenge + "A"}},
		{"challenge of 128 characters", map[string]string{"code_challenge": strings.Repeat("a", 128)}},
		{"challenge with a bad character", map[string]string{"code_challenge": challenge[:42] + "!"}},
		{"challenge in padded standard base64", map[string]string{"code_challenge": stdPadded}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			q := authorizeParams(c, challenge)
			for k, v := range tc.set {
				if v == "" {
					q.Del(k)
				} else {
					q.Set(k, v)
				}
			}
			mark := store.mark()
			h := e.secAuthorize(newSecBrowser(t), q)
			got := secClientRedirect(t, h, clientRedirect)
			assert.Equal(t, "invalid_request", got.Get("error"))
			assert.Equal(t, "client-state-123", got.Get("state"))
			assert.Equal(t, e.srv.URL, got.Get("iss"))
			assert.Empty(t, got.Get("code"))
			assert.Empty(t, store.changedSince(mark), "a refused request records no transaction")
		})
	}
}

func TestSecurity_S02_TokenChecksVerifier(t *testing.T) {
	store := newRecordingStore(storage.NewMemory())
	e := newEnv(t, withSecStore(store))
	c := e.register("none")
	code, verifier := e.code(c)

	for _, tc := range []struct {
		name, verifier string
		wantError      string
	}{
		{"wrong verifier", pkce.GenerateVerifier(), "invalid_grant"},
		{"challenge sent as verifier (plain downgrade)", pkce.Challenge(verifier), "invalid_grant"},
		{"verifier truncated", verifier[:42], "invalid_grant"},
		{"verifier with a suffix", verifier + "A", "invalid_grant"},
		{"verifier in other case", strings.ToUpper(verifier), "invalid_grant"},
		{"missing verifier", "", "invalid_request"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			form := url.Values{
				"grant_type":   {"authorization_code"},
				"code":         {code},
				"redirect_uri": {clientRedirect},
			}
			if tc.verifier != "" {
				form.Set("code_verifier", tc.verifier)
			}
			mark := store.mark()
			res := e.token(c, form)
			assert.Equal(t, http.StatusBadRequest, res.Status)
			assert.Equal(t, tc.wantError, res.str("error"))
			assert.Empty(t, res.str("access_token"))
			assert.Empty(t, store.changedSince(mark), "a refused exchange leaves the code in place")
		})
	}

	res := e.exchange(c, code, verifier)
	require.Equal(t, http.StatusOK, res.Status, "the code still works with the right verifier: %v", res.Body)
	assert.NotEmpty(t, res.str("access_token"))
}

// ---------------------------------------------------------------------------
// S03 client authentication

func TestSecurity_S03_ConfidentialClientMustAuthenticate(t *testing.T) {
	for _, method := range []string{"client_secret_basic", "client_secret_post"} {
		t.Run(method, func(t *testing.T) {
			store := newRecordingStore(storage.NewMemory())
			e := newEnv(t, withSecStore(store))
			c := e.register(method)
			require.NotEmpty(t, c.Secret)
			other := e.register(method)
			code, verifier := e.code(c)
			grant := url.Values{
				"grant_type":    {"authorization_code"},
				"code":          {code},
				"redirect_uri":  {clientRedirect},
				"code_verifier": {verifier},
			}
			registeredBasic := method == "client_secret_basic"

			for _, tc := range []struct {
				name       string
				basic      bool // credentials in HTTP Basic, else in the body
				id, secret string
				noSecret   bool // only client_id in the body
			}{
				{name: "no secret", id: c.ID, noSecret: true},
				{name: "wrong secret", basic: registeredBasic, id: c.ID, secret: "wrong-secret"},
				{name: "empty secret", basic: registeredBasic, id: c.ID, secret: ""},
				{name: "another client's secret", basic: registeredBasic, id: c.ID, secret: other.Secret},
				{name: "right secret, wrong method", basic: !registeredBasic, id: c.ID, secret: c.Secret},
				{name: "unknown client", basic: registeredBasic, id: "no-such-client", secret: c.Secret},
			} {
				form, basicID, basicSecret := cloneValues(grant), "", ""
				switch {
				case tc.noSecret:
					form.Set("client_id", tc.id)
				case tc.basic:
					basicID, basicSecret = tc.id, tc.secret
				default:
					form.Set("client_id", tc.id)
					form.Set("client_secret", tc.secret)
				}
				t.Run(tc.name, func(t *testing.T) {
					mark := store.mark()
					res, err := secToken(e.srv.URL, form, basicID, basicSecret)
					require.NoError(t, err)
					assert.Equal(t, http.StatusUnauthorized, res.Status)
					assert.Equal(t, "invalid_client", res.str("error"))
					assert.Empty(t, res.str("access_token"))
					if tc.basic {
						assert.True(t, strings.HasPrefix(res.Header.Get("WWW-Authenticate"), "Basic"),
							"WWW-Authenticate after Basic: %q", res.Header.Get("WWW-Authenticate"))
					}
					assert.Empty(t, store.changedSince(mark), "a refused client changes nothing")
				})
			}

			tok := e.exchange(c, code, verifier)
			require.Equal(t, http.StatusOK, tok.Status, "the rightful client still redeems the code: %v", tok.Body)

			// The refresh grant authenticates the client too.
			refresh := url.Values{"grant_type": {"refresh_token"}, "refresh_token": {tok.str("refresh_token")}}
			form, id, secret := secAuthForm(registered{ID: c.ID, Secret: "wrong-secret", AuthMethod: method}, refresh)
			res, err := secToken(e.srv.URL, form, id, secret)
			require.NoError(t, err)
			assert.Equal(t, http.StatusUnauthorized, res.Status)
			assert.Equal(t, "invalid_client", res.str("error"))
			assert.Equal(t, http.StatusOK, e.token(c, refresh).Status)
		})
	}
}

func TestSecurity_S03_SecretIssuedOnlyToConfidentialClients(t *testing.T) {
	e := newEnv(t)
	for _, tc := range []struct {
		method, wantMethod string
		wantSecret         bool
	}{
		{"none", "none", false},
		{"client_secret_basic", "client_secret_basic", true},
		{"client_secret_post", "client_secret_post", true},
		{"", "client_secret_basic", true}, // RFC 7591 §2 default
	} {
		t.Run("method="+tc.method, func(t *testing.T) {
			res := secRegister(t, e.srv.URL, secRegistrationBody(tc.method, clientRedirect))
			require.Equal(t, http.StatusCreated, res.Status, "%v", res.Body)
			assert.NotEmpty(t, res.str("client_id"))
			assert.Equal(t, tc.wantMethod, res.str("token_endpoint_auth_method"))
			secret, hasSecret := res.Body["client_secret"]
			expires, hasExpires := res.Body["client_secret_expires_at"]
			if !tc.wantSecret {
				assert.False(t, hasSecret, "a public client gets no secret: %v", secret)
				assert.False(t, hasExpires)
				return
			}
			s, _ := secret.(string)
			assert.GreaterOrEqual(t, len(s), 43, "the secret carries at least 256 bits")
			require.True(t, hasExpires, "client_secret_expires_at is REQUIRED with a secret (RFC 7591 §3.2.1)")
			assert.EqualValues(t, 0, expires)
		})
	}
}

// ---------------------------------------------------------------------------
// S04 authorization codes

func TestSecurity_S04_CodeIsSingleUse(t *testing.T) {
	e := newEnv(t)
	c := e.register("none")
	code, verifier := e.code(c)
	require.Equal(t, http.StatusOK, e.exchange(c, code, verifier).Status)

	again := e.exchange(c, code, verifier)
	assert.Equal(t, http.StatusBadRequest, again.Status)
	assert.Equal(t, "invalid_grant", again.str("error"))
	assert.Empty(t, again.str("access_token"))
}

func TestSecurity_S04_CodeIsBoundToClient(t *testing.T) {
	store := newRecordingStore(storage.NewMemory())
	e := newEnv(t, withSecStore(store))
	owner := e.register("none")
	for _, thief := range []registered{e.register("none"), e.register("client_secret_basic")} {
		code, verifier := e.code(owner)
		mark := store.mark()
		res := e.exchange(thief, code, verifier)
		assert.Equal(t, http.StatusBadRequest, res.Status, thief.AuthMethod)
		assert.Equal(t, "invalid_grant", res.str("error"))
		assert.Empty(t, res.str("access_token"))
		assert.Empty(t, store.changedSince(mark), "another client's attempt leaves the code in place")

		res = e.exchange(owner, code, verifier)
		assert.Equal(t, http.StatusOK, res.Status, "the rightful client still redeems it: %v", res.Body)
	}
}

func TestSecurity_S04_CodeIsBoundToRedirectURI(t *testing.T) {
	e := newEnv(t)
	c := e.register("none", clientRedirect, "http://127.0.0.1:9/client/other")
	code, verifier := e.code(c)
	for _, uri := range []string{
		"http://127.0.0.1:9/client/other", // registered, but not the one used at /authorize
		"http://127.0.0.1:5555/client/callback",
		"https://evil.example/client/callback",
	} {
		res := e.token(c, url.Values{
			"grant_type":    {"authorization_code"},
			"code":          {code},
			"redirect_uri":  {uri},
			"code_verifier": {verifier},
		})
		assert.Equal(t, http.StatusBadRequest, res.Status, uri)
		assert.Equal(t, "invalid_grant", res.str("error"), uri)
	}
	assert.Equal(t, http.StatusOK, e.exchange(c, code, verifier).Status)
}

func TestSecurity_S04_CodeExpires(t *testing.T) {
	clk := newSecClock()
	e := newEnv(t, withSecClock(clk))
	c := e.register("none")

	fresh, freshVerifier := e.code(c)
	stale, staleVerifier := e.code(c)
	clk.Advance(oauthproxy.DefaultAuthorizationCodeTTL - time.Second)
	assert.Equal(t, http.StatusOK, e.exchange(c, fresh, freshVerifier).Status, "valid just before the TTL")

	clk.Advance(2 * time.Second)
	res := e.exchange(c, stale, staleVerifier)
	assert.Equal(t, http.StatusBadRequest, res.Status)
	assert.Equal(t, "invalid_grant", res.str("error"))
	assert.Empty(t, res.str("access_token"))
}

// TestSecurity_S04_CodeHas256Bits: an authorization code is 32 bytes, every
// one of them drawn from crypto/rand. Under testing/cryptotest's
// deterministic source the same seed gives the same code and another seed
// another, so the code follows crypto/rand and not another generator
// (math/rand, a clock, a counter); across codes no byte position keeps one
// value, so no part of the 32 bytes is padding or fixed.
func TestSecurity_S04_CodeHas256Bits(t *testing.T) {
	e := newEnv(t)
	c := e.register("none")
	var codes [][]byte
	for range 8 {
		code, _ := e.code(c)
		raw, err := base64.RawURLEncoding.Strict().DecodeString(code)
		require.NoError(t, err, "code %q is base64url", code)
		require.Len(t, raw, 32, "256 bits")
		codes = append(codes, raw)
	}
	for i := range 32 {
		varies := slices.ContainsFunc(codes[1:], func(raw []byte) bool { return raw[i] != codes[0][i] })
		// Eight random draws agree on a byte with probability 2^-56.
		assert.True(t, varies, "byte %d of the code is the same in every code", i)
	}

	codeWithSeed := func(seed uint64) string {
		cryptotest.SetGlobalRandom(t, seed)
		e := newEnv(t)
		code, _ := e.code(e.register("none"))
		return code
	}
	first := codeWithSeed(1)
	assert.Equal(t, first, codeWithSeed(1), "the same crypto/rand stream, the same code")
	assert.NotEqual(t, first, codeWithSeed(2), "another crypto/rand stream, another code")
}

func TestSecurity_S04_ConcurrentRedemptionSucceedsOnce(t *testing.T) {
	e := newEnv(t)
	c := e.register("none")
	code, verifier := e.code(c)
	form, id, secret := secAuthForm(c, url.Values{
		"grant_type":    {"authorization_code"},
		"code":          {code},
		"redirect_uri":  {clientRedirect},
		"code_verifier": {verifier},
	})
	results, errs := secRace(20, func() (tokenResult, error) { return secToken(e.srv.URL, form, id, secret) })
	ok := 0
	for i, r := range results {
		require.NoError(t, errs[i])
		if r.Status == http.StatusOK {
			ok++
			continue
		}
		assert.Equal(t, http.StatusBadRequest, r.Status)
		assert.Equal(t, "invalid_grant", r.str("error"))
	}
	assert.Equal(t, 1, ok, "exactly one concurrent redemption succeeds")
}
