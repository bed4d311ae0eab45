package oauthproxy

import (
	"math/rand/v2"
	"testing"

	segjson "github.com/segmentio/encoding/json"
)

// FuzzRecordCodec reads arbitrary bytes, and mutations of real encodings, as
// every record with a codec of its own. Whenever the fast decoder accepts,
// segmentio accepts too and reads the same record; whenever segmentio reads
// a record, the fast encoder writes it as segmentio does (segmentio's
// decoder makes records with any string, including invalid UTF-8).
func FuzzRecordCodec(f *testing.F) {
	for _, rec := range signInRecords() {
		b, err := appendRecord(nil, rec)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	g := recordGen{rnd: rand.New(rand.NewPCG(16, 4))}
	for range 40 {
		if b, err := appendRecord(nil, g.record()); err == nil {
			f.Add(b)
		}
	}
	for _, other := range []string{ // shapes only segmentio reads
		`{"client_id":"c","scopes":[],"created_at":null}`, `{"grant_id":"g","client_id":"\u0063","used_at":"2025-06-01T12:30:45+02:00"}`,
		`{"id":"g","claims":{"a":[1,{"b":"}"}]},"upstream":{"access_token":"a","expires_in":-0,"extra":{}}}`,
	} {
		f.Add([]byte(other))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		for _, zero := range zeroRecords() {
			fast := freshLike(zero)
			fastOK := fast.decodeJSON(data)
			seg := freshLike(zero)
			segErr := segjson.Unmarshal(data, seg)
			if fastOK {
				if segErr != nil {
					t.Fatalf("%T: the fast decoder accepted what segmentio refuses (%v): %q", zero, segErr, data)
				}
				if !equalRecords(fast, seg) {
					t.Fatalf("%T: decoded differently from %q:\nfast      %#v\nsegmentio %#v", zero, data, fast, seg)
				}
			} else if !equalRecords(fast, freshLike(zero)) {
				t.Fatalf("%T: a refusal changed the record: %#v", zero, fast)
			}
			if segErr != nil {
				continue
			}
			want, wantErr := segmentioEncode(seg)
			got, ok := seg.appendJSON(nil)
			if ok && (wantErr != nil || string(got) != string(want)) {
				t.Fatalf("%T: encoded %#v as\n%s\nsegmentio writes\n%s (%v)", zero, seg, got, want, wantErr)
			}
		}
	})
}
