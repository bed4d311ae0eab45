package upstream

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestToken_FormattingSaysWhichSecretsArePresent: the redacted views tell
// whether a refresh token and an ID token are there, without showing them.
func TestToken_FormattingSaysWhichSecretsArePresent(t *testing.T) {
	for _, tc := range []struct {
		tok          *Token
		refresh, idt bool
	}{
		{&Token{AccessToken: "at", RefreshToken: "rt", IDToken: "idt"}, true, true},
		{&Token{AccessToken: "at"}, false, false},
		{&Token{AccessToken: "at", RefreshToken: "rt"}, true, false},
	} {
		assert.Contains(t, tc.tok.String(), fmt.Sprintf("refresh_token=%t id_token=%t", tc.refresh, tc.idt))
		var buf bytes.Buffer
		slog.New(slog.NewJSONHandler(&buf, nil)).Info("t", "tok", tc.tok)
		var logged struct{ Tok map[string]any }
		require.NoError(t, json.Unmarshal(buf.Bytes(), &logged))
		assert.Equal(t, tc.refresh, logged.Tok["refresh_token"])
		assert.Equal(t, tc.idt, logged.Tok["id_token"])
	}
}

// TestClient_SuccessIsEvery2xx: a token in any 2xx answer is a success
// (RFC 9110 §15.3); the same body with 300 is not.
func TestClient_SuccessIsEvery2xx(t *testing.T) {
	const body = `{"access_token":"at"}`
	for _, status := range []int{200, 201, 299} {
		srv, _ := tokenServer(t, status, "application/json", body)
		tok, err := testClient(srv.URL).ExchangeCode(context.Background(), testCode, "", "", testNow)
		require.NoError(t, err, "HTTP %d", status)
		assert.Equal(t, "at", tok.AccessToken)
	}
	srv, _ := tokenServer(t, 300, "application/json", body)
	_, err := testClient(srv.URL).ExchangeCode(context.Background(), testCode, "", "", testNow)
	var upErr *Error
	require.ErrorAs(t, err, &upErr)
	assert.Equal(t, 300, upErr.StatusCode)
}

// TestParseExpiresIn_Edges pins both ends of the accepted range, written as
// an integer and as a float with a zero fraction.
func TestParseExpiresIn_Edges(t *testing.T) {
	for in, want := range map[string]int64{"0": 0, "0.0": 0, "9223372036": 9223372036, "9223372036.0": 9223372036} {
		got, err := parseExpiresIn(json.Number(in))
		require.NoError(t, err, in)
		assert.Equal(t, want, got, in)
	}
	for _, in := range []string{"-1", "-1.0", "9223372037", "9223372037.0"} {
		_, err := parseExpiresIn(json.Number(in))
		assert.ErrorIs(t, err, errMalformed, in)
	}
}

// TestClient_Revoke: RFC 7009 §2.1's form with the hint when there is one;
// 200 is success (§2.2) and any other status an *Error naming only it.
func TestClient_Revoke(t *testing.T) {
	srv, seen := tokenServer(t, http.StatusOK, "", "")
	require.NoError(t, testClient("").Revoke(context.Background(), srv.URL, "rt", "refresh_token"))
	req := received(t, seen)
	assert.Equal(t, "rt", req.form.Get("token"))
	assert.Equal(t, "refresh_token", req.form.Get("token_type_hint"))

	srv, seen = tokenServer(t, http.StatusOK, "", "")
	require.NoError(t, testClient("").Revoke(context.Background(), srv.URL, "at", ""))
	assert.NotContains(t, received(t, seen).form, "token_type_hint")

	srv, _ = tokenServer(t, http.StatusServiceUnavailable, "", "")
	err := testClient("").Revoke(context.Background(), srv.URL, "SECRET", "")
	var upErr *Error
	require.ErrorAs(t, err, &upErr)
	assert.Equal(t, http.StatusServiceUnavailable, upErr.StatusCode)
	assert.NotContains(t, err.Error(), "SECRET")

	srv.Close()
	err = testClient("").Revoke(context.Background(), srv.URL, "SECRET", "")
	require.ErrorContains(t, err, "upstream: revocation request")
	assert.NotContains(t, err.Error(), "SECRET")
}

// TestError_Message: an HTTP failure without an OAuth error names the
// status; an OAuth error names its code and description when there is one.
func TestError_Message(t *testing.T) {
	assert.Equal(t, "upstream: token endpoint returned HTTP 502 without an OAuth error", (&Error{StatusCode: 502}).Error())
	assert.Equal(t, "upstream: invalid_grant", (&Error{Code: "invalid_grant", StatusCode: 400}).Error())
	assert.Equal(t, "upstream: invalid_grant: code expired", (&Error{Code: "invalid_grant", Description: "code expired"}).Error())
}
