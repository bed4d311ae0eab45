package httpx

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// registration has the field types of oauthproxy.ClientMetadata.
type registration struct {
	RedirectURIs []string `json:"redirect_uris"`
	Method       string   `json:"token_endpoint_auth_method,omitempty"`
	GrantTypes   []string `json:"grant_types,omitempty"`
	ClientName   string   `json:"client_name,omitempty"`
	Scope        string   `json:"scope,omitempty"`
}

// decodeStd is what ReadJSON did with encoding/json before issue 16.
func decodeStd(body []byte, v any) bool {
	dec := json.NewDecoder(bytes.NewReader(body))
	if dec.Decode(v) != nil || dec.More() {
		return false
	}
	_, err := dec.Token()
	return err == io.EOF
}

// ReadJSON accepts exactly the bodies encoding/json accepted and decodes them
// to the same values: odd, hostile and broken registrations alike.
func TestReadJSON_DecodesAsEncodingJSON(t *testing.T) {
	bodies := []string{
		`{"redirect_uris":["https://a.example/cb"],"client_name":"A"}`,
		` {"REDIRECT_URIS":["x"],"Client_Name":"case-insensitive names"} `,
		`{"redirect_uris":["a"],"redirect_uris":["b"]}`,
		`{"client_name":"\u00e9\ud83d\ude00 \u2028 \u0000","scope":"a b"}`,
		`{"client_name":"bad utf-8 \xff\xfe"}`,
		`{"client_name":"lone surrogate \ud800"}`,
		`{"redirect_uris":null,"client_name":null}`,
		`{"unknown":{"deep":[1,2,{"x":null}]},"client_name":"kept"}`,
		`{"redirect_uris":"not a list"}`,
		`{"redirect_uris":[1]}`,
		`{"client_name":5}`,
		`{"grant_types":[null,"refresh_token"]}`,
		`{"client_name":"a"} {"client_name":"b"}`,
		`{"client_name":"a"}}`,
		`{"client_name":"a"`,
		`{"client_name":"a",}`,
		`{'client_name':'a'}`,
		`{"client_name":"a"}` + "\n\t ",
		`{"client_name":1e400}`,
		`{"client_name":"` + strings.Repeat(`\\`, 100) + `"}`,
		`{}`,
		`{"a":[[[[[[[[[[[[[[[[[[[[[[[[[[[[]]]]]]]]]]]]]]]]]]]]]]]]]]]}`,
	}
	for _, body := range bodies {
		var want, got registration
		wantOK := decodeStd([]byte(body), &want)
		r := httptest.NewRequest(http.MethodPost, "/register", strings.NewReader(body))
		r.Header.Set("Content-Type", "application/json")
		err := ReadJSON(httptest.NewRecorder(), r, &got)
		require.Equal(t, wantOK, err == nil, "%q: %v", body, err)
		if wantOK {
			assert.Equal(t, want, got, "%q", body)
		}
	}
}
