package oauthproxy

import (
	"fmt"
	"testing"

	segjson "github.com/segmentio/encoding/json"

	"github.com/oauthproxy-go/oauthproxy/internal/loadtest"
)

// BenchmarkRecordCodec times each record a sign-in stores, as a sign-in
// writes it, encoded and decoded by segmentio (what putJSON and decodeRecord
// did before) and by the record's own codec (records_codec.go).
func BenchmarkRecordCodec(b *testing.B) {
	for _, rec := range signInRecords() {
		name := fmt.Sprintf("%T", rec)[len("*oauthproxy."):]
		stored, err := segmentioEncode(rec)
		if err != nil {
			b.Fatal(err)
		}
		buf := make([]byte, 0, 4096)
		b.Run(name+"/encode/codec=segmentio", func(b *testing.B) {
			loadtest.Measure(b, nil, func() {
				buf, _ = segjson.Append(buf[:0], rec, segjson.EscapeHTML|segjson.SortMapKeys)
			})
		})
		b.Run(name+"/encode/codec=fast", func(b *testing.B) {
			loadtest.Measure(b, nil, func() {
				buf, _ = rec.appendJSON(buf[:0])
			})
		})
		b.Run(name+"/decode/codec=segmentio", func(b *testing.B) {
			loadtest.Measure(b, nil, func() {
				if err := segjson.Unmarshal(stored, freshLike(rec)); err != nil {
					b.Fatal(err)
				}
			})
		})
		b.Run(name+"/decode/codec=fast", func(b *testing.B) {
			loadtest.Measure(b, nil, func() {
				if !freshLike(rec).decodeJSON(stored) {
					b.Fatal("refused")
				}
			})
		})
	}
}
