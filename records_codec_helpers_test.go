package oauthproxy

import (
	"math/rand/v2"
	"reflect"
	"strings"
	"time"

	segjson "github.com/segmentio/encoding/json"

	"github.com/oauthproxy-go/oauthproxy/internal/upstream"
)

// segmentioEncode is how records were stored before they had codecs of
// their own (json.Marshal's flags).
func segmentioEncode(v any) ([]byte, error) {
	return segjson.Append(nil, v, segjson.EscapeHTML|segjson.SortMapKeys)
}

// freshLike returns a new zero record of r's type.
func freshLike(r fastRecord) fastRecord {
	return reflect.New(reflect.TypeOf(r).Elem()).Interface().(fastRecord)
}

// zeroRecords is one zero value of every record with a codec of its own.
func zeroRecords() []fastRecord {
	return []fastRecord{&transaction{}, &codeRecord{}, &grant{}, &refreshRecord{}, &usedMarker{}, &clientRecord{}}
}

// hostileStrings are the strings whose encoding differs between encoders if
// anywhere: HTML, JSONP line separators, controls, invalid UTF-8.
var hostileStrings = []string{
	"", "plain", "https://mcp.example/mcp?a=1&b=<2>", "<script>", "\u2028\u2029", "a\u2028b",
	"\x00\x01\x1f\x7f", "\b\f\n\r\t", `"\/`, "Zoë 日本 🎉", "\xff\xfe", "a\xc3", "\xed\xa0\x80",
	"\xe2\x80", "\xe2\x80\xa8", "\xef\xbf\xbd", strings.Repeat("x", 1000), "1234567", "12345678<",
}

// recordGen makes random records, half of them plain (what a sign-in
// writes) and half from hostileStrings and odd times.
type recordGen struct {
	rnd *rand.Rand
}

func (g recordGen) str() string {
	if g.rnd.IntN(2) == 0 {
		const alphabet = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_.~:/?=+%"
		b := make([]byte, g.rnd.IntN(60))
		for i := range b {
			b[i] = alphabet[g.rnd.IntN(len(alphabet))]
		}
		return string(b)
	}
	var b strings.Builder
	for range g.rnd.IntN(4) {
		b.WriteString(hostileStrings[g.rnd.IntN(len(hostileStrings))])
		if g.rnd.IntN(3) == 0 {
			b.WriteByte(byte(g.rnd.IntN(256)))
		}
	}
	return b.String()
}

func (g recordGen) strs() []string {
	switch g.rnd.IntN(4) {
	case 0:
		return nil
	case 1:
		return []string{}
	}
	list := make([]string, 1+g.rnd.IntN(4))
	for i := range list {
		list[i] = g.str()
	}
	return list
}

func (g recordGen) time() time.Time {
	base := time.Unix(g.rnd.Int64N(4e9), g.rnd.Int64N(1e9))
	switch g.rnd.IntN(9) {
	case 0:
		return time.Time{}
	case 1:
		return time.Now() // Local, with a monotonic reading
	case 2:
		return base.In(time.FixedZone("", -7*3600))
	case 3:
		return base.In(time.FixedZone("odd", 3600+61)) // an offset with seconds
	case 4:
		return time.Date(10000, 1, 2, 3, 4, 5, 6, time.UTC) // past what RFC 3339 can write
	case 5:
		return time.Date(-1, 12, 31, 23, 59, 59, 0, time.UTC)
	case 6:
		return base.Truncate(time.Second).UTC()
	}
	return base.UTC()
}

func (g recordGen) claims() segjson.RawMessage {
	pool := []string{
		"", `{}`, `{"email":"a@example.com","email_verified":true,"n":7}`,
		`{"name":"\u003cb\u003eZoë\u003c/b\u003e","groups":["a","b"],"address":{"c":"x"}}`,
		`{"a": 1}`, `{"h":"<b>"}`, "{\"x\":\"\u2028\"}", `{"a":`, ` {"a":1}`, `{"a":1} `,
		`{"s":"\"}\\"}`, `[1]`, `"x"`, "{\"bad\":\"\xff\"}", `{"a":1}{}`,
	}
	s := pool[g.rnd.IntN(len(pool))]
	if s == "" && g.rnd.IntN(2) == 0 {
		return nil
	}
	return segjson.RawMessage(s)
}

func (g recordGen) upstream() upstream.Token {
	t := upstream.Token{
		AccessToken: g.str(), TokenType: g.str(), RefreshToken: g.str(), IDToken: g.str(), Scope: g.str(),
		Expiry: g.time(),
	}
	switch g.rnd.IntN(4) {
	case 0:
		t.ExpiresIn = g.rnd.Int64N(7200)
	case 1:
		t.ExpiresIn = -g.rnd.Int64()
	case 2:
		t.ExpiresIn = g.rnd.Int64()
	}
	switch g.rnd.IntN(6) {
	case 0:
		t.Extra = map[string]any{}
	case 1:
		t.Extra = map[string]any{"id_token_hint": g.str(), "n": 1.5, "z": []any{"<"}}
	}
	return t
}

func (g recordGen) record() fastRecord {
	switch g.rnd.IntN(6) {
	case 5:
		return &clientRecord{
			ClientID: g.str(), SecretHash: g.str(), ClientName: g.str(), RedirectURIs: g.strs(),
			TokenEndpointAuthMethod: g.str(), GrantTypes: g.strs(), ResponseTypes: g.strs(), Scope: g.str(),
			ClientURI: g.str(), LogoURI: g.str(), IssuedAt: g.time(), LastUsedAt: g.time(), MetadataDocument: g.rnd.IntN(2) == 0,
		}
	case 0:
		return &transaction{
			ClientID: g.str(), RedirectURI: g.str(), State: g.str(), CodeChallenge: g.str(), Scopes: g.strs(),
			Resource: g.str(), UpstreamVerifier: g.str(), CreatedAt: g.time(), ConsentRememberable: g.rnd.IntN(2) == 0,
		}
	case 1:
		return &codeRecord{
			ClientID: g.str(), RedirectURI: g.str(), CodeChallenge: g.str(), Scopes: g.strs(), Resource: g.str(),
			GrantID: g.str(), ExpiresAt: g.time(), UpstreamCode: g.str(),
		}
	case 2:
		return &grant{
			ID: g.str(), ClientID: g.str(), Subject: g.str(), Scopes: g.strs(), Resource: g.str(), Claims: g.claims(),
			Upstream: g.upstream(), CreatedAt: g.time(), RefreshedAt: g.time(), ExpiresAt: g.time(), IndexedUntil: g.time(),
		}
	case 3:
		return &refreshRecord{GrantID: g.str(), ClientID: g.str(), Scopes: g.strs(), Resource: g.str(), ExpiresAt: g.time()}
	}
	return &usedMarker{GrantID: g.str(), ClientID: g.str(), UsedAt: g.time(), NextKey: g.str()}
}

// signInRecords are records as a sign-in writes them, every one in the
// shape the fast codec reads.
func signInRecords() []fastRecord {
	now := time.Date(2025, 6, 1, 12, 30, 45, 123456789, time.UTC)
	scopes := []string{"openid", "email", "profile"}
	const resource = "https://mcp.example/mcp"
	return []fastRecord{
		&transaction{
			ClientID: "6f1c2a9e-8d4b-4f7a-9c3e-2b5d7e9f1a3c", RedirectURI: "http://127.0.0.1:33418/callback",
			State: "xyzzy-state", CodeChallenge: strings.Repeat("c", 43), Scopes: scopes, Resource: resource,
			UpstreamVerifier: strings.Repeat("v", 43), CreatedAt: now, ConsentRememberable: true,
		},
		&codeRecord{
			ClientID: "client-1", RedirectURI: "http://127.0.0.1:33418/callback", CodeChallenge: strings.Repeat("c", 43),
			Scopes: scopes, Resource: resource, GrantID: "grant-1", ExpiresAt: now, UpstreamCode: "upstream-code-1",
		},
		&grant{
			ID: "grant-1", ClientID: "client-1", Subject: "110169484474386276334", Scopes: scopes, Resource: resource,
			Claims: segjson.RawMessage(`{"email":"alice@example.com","email_verified":true,"name":"Alice \u003cA\u003e"}`),
			Upstream: upstream.Token{
				AccessToken: "ya29." + strings.Repeat("a", 200), TokenType: "Bearer", RefreshToken: "1//" + strings.Repeat("r", 100),
				IDToken: "eyJhbGciOiJSUzI1NiJ9." + strings.Repeat("p", 1500) + "." + strings.Repeat("s", 342),
				Scope:   "openid email profile", ExpiresIn: 3599, Expiry: now.Add(time.Hour),
			},
			CreatedAt: now, RefreshedAt: now, ExpiresAt: now.Add(30 * 24 * time.Hour), IndexedUntil: now.Add(31 * 24 * time.Hour),
		},
		&refreshRecord{GrantID: "grant-1", ClientID: "client-1", Scopes: scopes, Resource: resource, ExpiresAt: now},
		&usedMarker{GrantID: "grant-1", ClientID: "client-1", UsedAt: now, NextKey: "refresh:abc"},
		&clientRecord{
			ClientID: "client-1", SecretHash: strings.Repeat("h", 43), ClientName: "Claude Code", RedirectURIs: []string{"http://127.0.0.1:33418/callback"},
			TokenEndpointAuthMethod: "none", GrantTypes: []string{"authorization_code", "refresh_token"}, ResponseTypes: []string{"code"},
			Scope: "openid email", ClientURI: "https://claude.ai", LogoURI: "https://claude.ai/logo.png", IssuedAt: now, LastUsedAt: now,
			MetadataDocument: true,
		},
	}
}

// equalRecords compares records as the fuzz target needs: reflect.DeepEqual,
// which tells a nil slice from an empty one.
func equalRecords(a, b fastRecord) bool {
	return reflect.DeepEqual(a, b)
}
