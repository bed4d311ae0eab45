package httpx

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strconv"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

type tokenLike struct {
	AccessToken string   `json:"access_token"`
	ExpiresIn   int64    `json:"expires_in,omitempty"`
	Scope       string   `json:"scope,omitempty"`
	URIs        []string `json:"redirect_uris,omitempty"`
	Secret      *string  `json:"client_secret,omitempty"`
}

// WriteJSON sends the bytes encoding/json's Encoder would, with their length.
func TestWriteJSON_SameBytesAsEncodingJSON(t *testing.T) {
	for _, v := range []any{
		tokenLike{AccessToken: "a.b.c", ExpiresIn: 3600, Scope: "openid email"},
		tokenLike{AccessToken: `<script>&"\` + "\u2028\x01é😀", URIs: []string{"https://a/?x=1&y=<2>"}},
		map[string]any{"error": "invalid_request", "z": 1.5, "a": []any{nil, true}},
		map[string]string{},
		[]string(nil),
	} {
		var want bytes.Buffer
		require.NoError(t, json.NewEncoder(&want).Encode(v))
		rec := httptest.NewRecorder()
		WriteJSON(rec, http.StatusCreated, v)
		assert.Equal(t, http.StatusCreated, rec.Code)
		assert.Equal(t, want.String(), rec.Body.String(), "%#v", v)
		assert.Equal(t, "application/json", rec.Header().Get("Content-Type"))
		assert.Equal(t, strconv.Itoa(want.Len()), rec.Header().Get("Content-Length"))
	}
}

// A value JSON cannot express is a bug: a 500, not half a body.
func TestWriteJSON_UnencodableValueIs500(t *testing.T) {
	rec := httptest.NewRecorder()
	WriteJSON(rec, http.StatusOK, map[string]any{"f": func() {}})
	assert.Equal(t, http.StatusInternalServerError, rec.Code)
	assert.NotContains(t, rec.Body.String(), `"f"`)
}
