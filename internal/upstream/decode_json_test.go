package upstream

import (
	"bytes"
	"encoding/json"
	"io"
	"testing"

	"github.com/stretchr/testify/assert"
)

// stdDecodeJSON is decodeJSON as it was with encoding/json: the behaviour
// decodeJSON keeps.
func stdDecodeJSON(body []byte) (map[string]any, error) {
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	var fields map[string]any
	if err := dec.Decode(&fields); err != nil || fields == nil {
		return nil, errMalformed
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, errMalformed
	}
	return fields, nil
}

// decodeJSON accepts and refuses what encoding/json does, and decodes to the
// same values, on the odd bodies real and hostile upstreams send.
func TestDecodeJSONMatchesEncodingJSON(t *testing.T) {
	bodies := []string{
		`{"access_token":"a","expires_in":3600}`,
		` {"access_token":"a"} `, "{\"a\":1}\n\t\r ", `{"a":1}{"b":2}`, `{"a":1} x`, `{"a":1},`,
		`null`, `[]`, `"s"`, `1`, ``, ` `, `{`, `{"a":}`, `{"a":1,}`, `{'a':1}`,
		`{"a":"\u00e9\ud83d\ude00\u0000"}`, `{"a":"\ud800"}`, "{\"a\":\"bad\xffutf8\"}", "{\"a\":\"tab\tin\"}",
		`{"a":1,"a":2}`, `{"a":{"b":[1,2.5,-3e10,true,false,null,{"c":"d"}]}}`,
		`{"expires_in":"3600"}`, `{"expires_in":1e400}`, `{"expires_in":12345678901234567890123}`,
		`{"expires_in":01}`, `{"expires_in":-0}`, `{"expires_in":.5}`, `{"a":NaN}`,
		"\ufeff{\"a\":1}", `{"a":"\x"}`, `{"A":1,"a":2}`, `{"a":[}`, `{"a":1}  ` + "\v",
	}
	for _, b := range bodies {
		want, wantErr := stdDecodeJSON([]byte(b))
		got, gotErr := decodeJSON([]byte(b))
		assert.Equal(t, wantErr, gotErr, "%q", b)
		assert.Equal(t, want, got, "%q", b)
	}
}
