package oauthproxy

import (
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	segjson "github.com/segmentio/encoding/json"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// A token issued from a grant's stored claims must be the token issued from
// the claims map itself, byte for byte: the stored form is only a cache of
// the encoding.
func TestIdentityClaims_EncodedOnceIssuesTheSameToken(t *testing.T) {
	ts, _ := newTestSigner(t)
	fromMap := testClaims()
	encoded, err := encodeIdentityClaims(fromMap.Extra)
	require.NoError(t, err)
	fromGrant := testClaims()
	fromGrant.Extra, fromGrant.extraJSON = nil, encoded

	want, _, err := ts.issue(fromMap, time.Hour)
	require.NoError(t, err)
	got, _, err := ts.issue(fromGrant, time.Hour)
	require.NoError(t, err)
	assert.Equal(t, want, got)

	back, err := ts.verify(got, jwtTestAudience)
	require.NoError(t, err)
	assert.Equal(t, "alice@example.com", back.Extra["email"])
	assert.NotContains(t, back.Extra, "iss")
	assert.NotContains(t, back.Extra, "scope")
	assert.Equal(t, "user-1", back.Subject)
}

func TestIdentityClaims_HostileValuesMatchTheMapEncoding(t *testing.T) {
	ts, _ := newTestSigner(t)
	rng := rand.New(rand.NewPCG(1, 2))
	alphabet := []rune("a\"\\<>&\u2028\u2029\x00\x1f\x7fé😀 /")
	for i := range 200 {
		extra := map[string]any{}
		for j := range rng.IntN(6) {
			var b strings.Builder
			for range rng.IntN(12) {
				b.WriteRune(alphabet[rng.IntN(len(alphabet))])
			}
			extra[fmt.Sprintf("%s%d", b.String(), j)] = b.String()
		}
		c := &Claims{Subject: "s", ClientID: "c", Audience: jwtTestAudience, TokenID: "j", GrantID: "g", Extra: extra}
		want, _, err := ts.issue(c, time.Hour)
		require.NoError(t, err)
		encoded, err := encodeIdentityClaims(extra)
		require.NoError(t, err)
		c.Extra, c.extraJSON = nil, encoded
		got, _, err := ts.issue(c, time.Hour)
		require.NoError(t, err)
		require.Equal(t, want, got, "case %d: %q", i, extra)
		_, err = ts.verify(got, jwtTestAudience)
		require.NoError(t, err, "case %d", i)
	}
}

func TestIdentityClaims_OnlyReservedLeavesNothing(t *testing.T) {
	encoded, err := encodeIdentityClaims(map[string]any{"sub": "u", "iss": "x", "gid": "g"})
	require.NoError(t, err)
	assert.Nil(t, encoded, "a grant with no identity claims stores none")
	encoded, err = encodeIdentityClaims(map[string]any{"bad": func() {}})
	assert.Error(t, err, "a value that is not JSON is refused when the grant is made")
	assert.Nil(t, encoded)
}

// Grants stored before the claims were kept encoded hold the object
// segmentio/encoding/json wrote for the map (HTML escaped, any key order):
// they still issue tokens with the same claims.
func TestIdentityClaims_GrantsStoredByEarlierVersions(t *testing.T) {
	ts, _ := newTestSigner(t)
	old := map[string]any{
		"id": "grant-1", "client_id": "client-1", "sub": "user-1", "resource": jwtTestAudience,
		"claims": map[string]any{"name": "<b>Zoë</b> & co", "n": 7, "groups": []any{"a"}},
	}
	stored, err := segjson.Marshal(old)
	require.NoError(t, err)
	require.Contains(t, string(stored), `\u003cb\u003e`, "the old encoding escaped HTML")
	var g grant
	require.NoError(t, decodeRecord(stored, &g))

	raw, _, err := ts.issue(&Claims{Subject: g.Subject, ClientID: g.ClientID, Audience: g.Resource,
		TokenID: "j", GrantID: g.ID, extraJSON: g.Claims}, time.Hour)
	require.NoError(t, err)
	back, err := ts.verify(raw, jwtTestAudience)
	require.NoError(t, err)
	assert.Equal(t, map[string]any{"name": "<b>Zoë</b> & co", "n": float64(7), "groups": []any{"a"}}, back.Extra)
}

// A stored claims value that is not an object (it cannot be one the proxy
// wrote) fails the issue rather than making a token of it.
func TestIdentityClaims_NotAnObjectIsRefused(t *testing.T) {
	ts, _ := newTestSigner(t)
	for _, bad := range []string{`[]`, `"x"`, `{`, `}`, ` `} {
		_, _, err := ts.issue(&Claims{ClientID: "c", Audience: jwtTestAudience, extraJSON: []byte(bad)}, time.Hour)
		assert.Error(t, err, "%q", bad)
	}
	raw, _, err := ts.issue(&Claims{ClientID: "c", Audience: jwtTestAudience, TokenID: "j", GrantID: "g",
		extraJSON: []byte(` { } `)}, time.Hour)
	require.NoError(t, err, "an empty object adds nothing")
	back, err := ts.verify(raw, jwtTestAudience)
	require.NoError(t, err)
	assert.Empty(t, back.Extra)
}
