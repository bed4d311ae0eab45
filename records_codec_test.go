package oauthproxy

import (
	stdjson "encoding/json"
	"fmt"
	"math/rand/v2"
	"reflect"
	"strings"
	"testing"
	"time"

	segjson "github.com/segmentio/encoding/json"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The fast encoder writes what segmentio writes, byte for byte, for random
// and hostile records; what it cannot write exactly it leaves to segmentio,
// and only for the reasons its doc gives.
func TestRecordCodec_EncodesAsSegmentio(t *testing.T) {
	g := recordGen{rnd: rand.New(rand.NewPCG(16, 2))}
	fast, fellBack := 0, 0
	for i := range 20000 {
		rec := g.record()
		want, wantErr := segmentioEncode(rec)
		prefix := []byte("prefix")
		got, ok := rec.appendJSON(prefix)
		if !ok {
			fellBack++
			require.Equal(t, "prefix", string(got), "case %d: a refusal leaves the buffer as it was", i)
			gr, isGrant := rec.(*grant)
			require.True(t, isGrant, "case %d: only a grant is ever refused: %#v", i, rec)
			require.True(t, len(gr.Upstream.Extra) != 0 || !rawVerbatim(gr.Claims),
				"case %d: refused without Extra or claims segmentio rewrites", i)
			out, err := appendRecord(nil, rec)
			require.Equal(t, wantErr == nil, err == nil, "case %d", i)
			require.Equal(t, string(want), string(out), "case %d", i)
			continue
		}
		fast++
		require.NoError(t, wantErr, "case %d: segmentio refused what the fast encoder wrote: %s", i, got)
		require.Equal(t, string(want), string(got[len(prefix):]), "case %d", i)

		// encoding/json reads the bytes as segmentio does (they are its bytes).
		a, b := freshLike(rec), freshLike(rec)
		require.Equal(t, stdjson.Unmarshal(want, a) == nil, stdjson.Unmarshal(got[len(prefix):], b) == nil)
		require.Equal(t, a, b, "case %d", i)
	}
	t.Logf("%d encoded fast, %d left to segmentio", fast, fellBack)
	assert.Greater(t, fast, 15000, "the fast encoder writes nearly every record")
}

// Every record comes back from what putJSON wrote as segmentio would read
// it; sign-in records come back through the fast decoder, equal to what was
// stored.
func TestRecordCodec_RoundTrip(t *testing.T) {
	for _, rec := range signInRecords() {
		b, err := appendRecord(nil, rec)
		require.NoError(t, err)
		back := freshLike(rec)
		require.True(t, back.decodeJSON(b), "%T: a sign-in record is read without segmentio: %s", rec, b)
		assert.Equal(t, rec, back)
	}

	g := recordGen{rnd: rand.New(rand.NewPCG(16, 3))}
	for i := range 20000 {
		rec := g.record()
		b, err := appendRecord(nil, rec)
		if err != nil {
			continue // invalid raw claims: segmentio refuses them too (TestRecordCodec_EncodesAsSegmentio)
		}
		want := freshLike(rec)
		wantErr := segjson.Unmarshal(b, want)
		got := freshLike(rec)
		gotErr := decodeRecord(b, got)
		require.Equal(t, wantErr == nil, gotErr == nil, "case %d: %s", i, b)
		require.Equal(t, want, got, "case %d: %s", i, b)
	}
}

// A decoded record keeps nothing of the bytes it was read from: they are
// the encrypting store's plaintext buffer, reused by the next read.
func TestRecordCodec_DecodedRecordsOwnTheirBytes(t *testing.T) {
	for _, rec := range signInRecords() {
		b, err := appendRecord(nil, rec)
		require.NoError(t, err)
		back := freshLike(rec)
		require.True(t, back.decodeJSON(b))
		for i := range b {
			b[i] = 'X'
		}
		assert.Equal(t, rec, back, "%T changed with the buffer it was read from", rec)
	}
}

// Anything but the exact shape the encoder writes is left to segmentio,
// which reads it as it always did.
func TestRecordCodec_OtherShapesAreLeftToSegmentio(t *testing.T) {
	const txn = `{"client_id":"c","redirect_uri":"r","code_challenge":"x","scopes":["a","b"],"resource":"m","created_at":"2025-06-01T12:30:45Z"}`
	require.True(t, (&transaction{}).decodeJSON([]byte(txn)), "the shape the encoder writes")
	for _, other := range []string{
		` ` + txn, txn + ` `, txn + `{}`,
		strings.Replace(txn, `{"client_id":"c",`, `{"client_id": "c",`, 1),
		strings.Replace(txn, `"client_id":"c","redirect_uri":"r"`, `"redirect_uri":"r","client_id":"c"`, 1),
		strings.Replace(txn, `"client_id"`, `"Client_ID"`, 1),             // segmentio matches names without case
		strings.Replace(txn, `"resource":"m"`, `"resource":"m","x":1`, 1), // unknown member
		strings.Replace(txn, `"resource":"m"`, `"resource":"m","resource":"n"`, 1),
		strings.Replace(txn, `"c"`, `"\u0063"`, 1),
		strings.Replace(txn, `"c"`, `"\u003c"`, 1),
		strings.Replace(txn, `"c"`, `"Zoë"`, 1),
		strings.Replace(txn, `"c"`, `null`, 1),
		strings.Replace(txn, `["a","b"]`, `[]`, 1),
		strings.Replace(txn, `["a","b"]`, `null`, 1),
		strings.Replace(txn, `["a","b"]`, `["a",]`, 1),
		strings.Replace(txn, `["a","b"]`, `["a" ,"b"]`, 1),
		strings.Replace(txn, `Z"`, `+02:00"`, 1),
		strings.Replace(txn, `Z"`, `"`, 1),
		strings.Replace(txn, `"created_at":"2025-06-01T12:30:45Z"`, `"created_at":null`, 1),
		strings.Replace(txn, `"created_at":"2025-06-01T12:30:45Z"`, `"created_at":"2025-02-30T12:30:45Z"`, 1),
		strings.Replace(txn, `}`, `,"consent_rememberable":false}`, 1),
		txn[:len(txn)-1],
	} {
		var fast transaction
		fastOK := fast.decodeJSON([]byte(other))
		var seg, got transaction
		segErr := segjson.Unmarshal([]byte(other), &seg)
		gotErr := decodeRecord([]byte(other), &got)
		assert.Equal(t, segErr == nil, gotErr == nil, "%s", other)
		assert.Equal(t, seg, got, "%s", other)
		if fastOK {
			// Only an offset is read by the fast path: iso8601.Parse, as segmentio.
			assert.Contains(t, other, "+02:00")
			assert.Equal(t, seg, fast)
		} else {
			assert.Equal(t, transaction{}, fast, "a refusal leaves the record untouched: %s", other)
		}
	}
}

// Grants stored by earlier versions (members in another order, fields that
// did not exist yet, upstream extras) read back as segmentio reads them.
func TestRecordCodec_GrantsStoredByEarlierVersions(t *testing.T) {
	for _, stored := range []string{
		// segmentio's encoding of a map: members in name order.
		`{"claims":{"n":7},"client_id":"c","id":"g","resource":"r","sub":"u"}`,
		// before refreshed_at and indexed_until.
		`{"id":"g","client_id":"c","sub":"u","scopes":["openid"],"resource":"r","claims":{"a":"b"},` +
			`"upstream":{"access_token":"at","token_type":"Bearer","expiry":"2025-06-01T12:30:45.5Z"},"created_at":"2025-06-01T12:30:45Z","expires_at":"2025-07-01T12:30:45Z"}`,
		// an upstream token with extra members.
		`{"id":"g","client_id":"c","resource":"r","upstream":{"access_token":"at","expiry":"0001-01-01T00:00:00Z","extra":{"x":[1,"<"]}},` +
			`"created_at":"2025-06-01T12:30:45Z","refreshed_at":"0001-01-01T00:00:00Z","expires_at":"2025-07-01T12:30:45Z","indexed_until":"2025-07-01T12:30:45Z"}`,
		// the upstream token without expiry (encoding/json's omitzero).
		`{"id":"g","client_id":"c","resource":"r","upstream":{"access_token":"at"},"created_at":"2025-06-01T12:30:45Z"}`,
	} {
		var want, got grant
		require.NoError(t, segjson.Unmarshal([]byte(stored), &want), stored)
		require.NoError(t, decodeRecord([]byte(stored), &got), stored)
		assert.Equal(t, want, got, stored)
		assert.Equal(t, "g", got.ID)
	}
}

// putJSON and getJSON keep a record through the encrypting store and
// through a store that keeps the bytes it is given.
func TestRecordCodec_ThroughTheStore(t *testing.T) {
	sealing := newInternalTestProxy(t)
	plain := newInternalTestProxy(t, func(c *Config) { c.DisableEncryption, c.EncryptionKey = true, nil })
	require.False(t, plain.sealsRecords)
	for _, p := range []*Proxy{sealing, plain} {
		for i, rec := range signInRecords() {
			key := fmt.Sprintf("rec:%d", i)
			require.NoError(t, p.putJSON(t.Context(), key, rec, time.Hour))
			// A later record encoded into the same pooled buffer must not change
			// the bytes a keeping store holds.
			require.NoError(t, p.putJSON(t.Context(), "other", &usedMarker{GrantID: strings.Repeat("z", 3000)}, time.Hour))
			back := freshLike(rec)
			require.NoError(t, p.getJSON(t.Context(), key, back))
			assert.Equal(t, rec, back, "sealing=%t", p.sealsRecords)
		}
	}
}

func TestRecordCodec_RawVerbatim(t *testing.T) {
	for raw, want := range map[string]bool{
		`{"a":1}`: true, `{"s":"a b\"}"}`: true, `{"a":[1,{"b":null}]}`: true, `{"h":"\u003c"}`: true,
		`{"a": 1}`: false, ` {"a":1}`: false, `{"h":"<"}`: false, `{"h":">"}`: false, `{"h":"&"}`: false,
		"{\"x\":\"\u2028\"}": false, "{\"x\":\"\u2029\"}": false, `{"a":`: false, `{"a":1}{}`: false,
		"{\"x\":\"\u2027\"}": true,
	} {
		assert.Equal(t, want, rawVerbatim([]byte(raw)), "%s", raw)
		if want {
			out, err := segmentioEncode(segjson.RawMessage(raw))
			require.NoError(t, err)
			assert.Equal(t, raw, string(out), "segmentio writes it unchanged")
		}
	}
}

// The records with codecs of their own are all the ones a sign-in stores;
// a new field in one of them must be added to its codec too.
func TestRecordCodec_KnowsEveryField(t *testing.T) {
	for _, rec := range signInRecords() {
		v := reflect.ValueOf(rec).Elem()
		for i := range v.NumField() {
			name := v.Type().Field(i).Name
			assert.False(t, v.Field(i).IsZero(), "%T.%s: signInRecords must set every field so the round trip checks it", rec, name)
		}
	}
}

// A client's registration lists are written even when nil or empty, and read
// back as segmentio reads them: null as nil, [] as empty.
func TestRecordCodec_ClientListsNilAndEmpty(t *testing.T) {
	rec := &clientRecord{ClientID: "c", RedirectURIs: nil, GrantTypes: []string{}, ResponseTypes: []string{"code"}}
	b, err := appendRecord(nil, rec)
	require.NoError(t, err)
	require.Contains(t, string(b), `"redirect_uris":null,`)
	require.Contains(t, string(b), `"grant_types":[],`)
	var fast, seg clientRecord
	require.True(t, fast.decodeJSON(b), "%s", b)
	require.NoError(t, segjson.Unmarshal(b, &seg))
	assert.Equal(t, seg, fast)
	assert.Nil(t, fast.RedirectURIs)
	assert.NotNil(t, fast.GrantTypes)
	assert.Empty(t, fast.GrantTypes)
}
