package oauthproxy_test

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	opcrypto "github.com/oauthproxy-go/oauthproxy/crypto"
)

// fuzzResource is the audience the fuzzed proxy's tokens must carry: its
// default Resource (RFC 8707).
const fuzzResource = fuzzBase + "/mcp"

// fuzzScope is the genuine seed token's scope.
const fuzzScope = "openid email"

// FuzzVerifyAccessToken feeds arbitrary strings to the bearer check (S07):
// nothing panics, and a token is accepted only if it satisfies every rule
// that decides acceptance, read back by an independent JWT decoder: signed
// HS256 with typ at+jwt (RFC 8725 §3.1, §3.11), iss this proxy, aud exactly
// this resource (RFC 8707, RFC 9068 §4), no crit header, exp present and in the future, iat
// and nbf not in the future, client_id and gid present. The claims returned
// are then exactly the token's: subject, client, grant, scopes, audience,
// expiry. The seeds are signed with the proxy's own key and each break one
// rule, so removing any check lets its seed through and fails here.
func FuzzVerifyAccessToken(f *testing.F) {
	p := newFuzzProxy(f)
	hs := jwt.SigningMethodHS256
	forge := func(header, claims map[string]any) string {
		return forgeFuzzToken(f, hs, fuzzSigningKey, header, claims)
	}
	hour := time.Now().Add(time.Hour).Unix()
	genuine := forge(nil, nil)
	if _, err := p.VerifyAccessToken(context.Background(), genuine); err != nil {
		f.Fatalf("the genuine seed must be accepted, or the checks below prove nothing: %v", err)
	}
	f.Add(genuine)
	f.Add(forge(nil, map[string]any{"sub": "user-2", "scope": "email"}))
	f.Add(forge(nil, map[string]any{"sub": nil, "scope": nil}))
	f.Add(forgeFuzzToken(f, hs, []byte(strings.Repeat("x", 32)), nil, nil))
	f.Add(forgeFuzzToken(f, jwt.SigningMethodNone, jwt.UnsafeAllowNoneSignatureType, nil, nil))
	for _, header := range []map[string]any{
		{"typ": "JWT"}, {"typ": nil}, {"typ": "AT+JWT"}, {"kid": "other"}, {"crit": []string{"exp"}},
	} {
		f.Add(forge(header, nil))
	}
	for _, claims := range []map[string]any{
		{"aud": "https://other.example/mcp"}, {"aud": nil}, {"aud": []string{fuzzResource, "https://other.example/mcp"}},
		{"iss": "https://other.example"}, {"iss": nil},
		{"exp": nil}, {"exp": 0}, {"exp": time.Now().Add(-time.Minute).Unix()},
		{"iat": hour}, {"nbf": hour},
		{"client_id": nil}, {"client_id": ""}, {"gid": nil}, {"gid": ""},
	} {
		f.Add(forge(nil, claims))
	}
	f.Add("e30.e30.")
	f.Add("")
	f.Fuzz(func(t *testing.T, token string) {
		claims, err := p.VerifyAccessToken(context.Background(), token)
		if err != nil {
			return
		}
		checkAcceptedToken(t, token, claims.Subject, claims.ClientID, claims.GrantID, claims.Audience, claims.Scopes, claims.ExpiresAt)
	})
}

// checkAcceptedToken decodes an accepted token with golang-jwt, not the
// proxy's decoder, and fails unless it meets every acceptance rule and the
// returned claims are the token's own.
func checkAcceptedToken(t *testing.T, token, sub, clientID, gid, aud string, scopes []string, exp time.Time) {
	t.Helper()
	var mc jwt.MapClaims
	parsed, _, err := jwt.NewParser().ParseUnverified(token, &mc)
	if err != nil {
		t.Fatalf("accepted a token a standard decoder cannot read: %v", err)
	}
	str := func(name string) string { s, _ := mc[name].(string); return s }
	_, crit := parsed.Header["crit"] // RFC 7515 §4.1.11: none is understood
	if parsed.Method.Alg() != "HS256" || parsed.Header["typ"] != "at+jwt" || crit {
		t.Fatalf("accepted a token with header %v", parsed.Header)
	}
	if iss, _ := mc.GetIssuer(); iss != fuzzBase {
		t.Fatalf("accepted a token from issuer %q", iss)
	}
	if auds, _ := mc.GetAudience(); !slices.Equal(auds, []string{fuzzResource}) {
		t.Fatalf("accepted a token for audience %v", auds)
	}
	now := time.Now()
	tokExp, _ := mc.GetExpirationTime()
	if tokExp == nil || !tokExp.After(now) {
		t.Fatalf("accepted a token with exp %v", mc["exp"])
	}
	if iat, _ := mc.GetIssuedAt(); iat != nil && iat.After(now) {
		t.Fatalf("accepted a token issued in the future (%v)", iat)
	}
	if nbf, _ := mc.GetNotBefore(); nbf != nil && nbf.After(now) {
		t.Fatalf("accepted a token not valid before %v", nbf)
	}
	if str("client_id") == "" || str("gid") == "" {
		t.Fatalf("accepted a token without client_id or gid: %v", mc)
	}
	if sub != str("sub") || clientID != str("client_id") || gid != str("gid") || aud != fuzzResource {
		t.Fatalf("claims (%q, %q, %q, %q) are not the token's %v", sub, clientID, gid, aud, mc)
	}
	if !slices.Equal(scopes, strings.Fields(str("scope"))) {
		t.Fatalf("scopes %q are not the token's %q", scopes, str("scope"))
	}
	if !exp.Equal(tokExp.Truncate(time.Second)) {
		t.Fatalf("expiry %v is not the token's %v", exp, tokExp)
	}
}

// forgeFuzzToken signs an access token like the proxy's, with header and
// claim overrides (a nil value deletes the entry).
func forgeFuzzToken(f *testing.F, method jwt.SigningMethod, key any, header, overrides map[string]any) string {
	f.Helper()
	now := time.Now()
	claims := jwt.MapClaims{
		"iss": fuzzBase, "aud": fuzzResource, "sub": "user-1", "scope": fuzzScope,
		"client_id": "fuzz-client", "gid": "fuzz-grant", "jti": "j",
		"iat": now.Unix(), "exp": now.Add(time.Hour).Unix(),
	}
	override(claims, overrides)
	tok := jwt.NewWithClaims(method, claims)
	tok.Header["typ"] = "at+jwt"
	tok.Header["kid"] = opcrypto.KeyID(fuzzSigningKey)
	override(tok.Header, header)
	s, err := tok.SignedString(key)
	if err != nil {
		f.Fatal(err)
	}
	return s
}

func override(m, with map[string]any) {
	for k, v := range with {
		if v == nil {
			delete(m, k)
		} else {
			m[k] = v
		}
	}
}
