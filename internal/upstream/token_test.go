package upstream

import (
	"bytes"
	"encoding/json"
	"fmt"
	"log/slog"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func jsonNumber(s string) json.Number { return json.Number(s) }

func TestToken_Expired(t *testing.T) {
	tests := []struct {
		name   string
		expiry time.Time
		now    time.Time
		leeway time.Duration
		want   bool
	}{
		{"no expiry", time.Time{}, testNow, time.Hour, false},
		{"well before", testNow.Add(time.Hour), testNow, 0, false},
		{"exactly at expiry", testNow, testNow, 0, true},
		{"after", testNow.Add(-time.Second), testNow, 0, true},
		{"within leeway", testNow.Add(30 * time.Second), testNow, time.Minute, true},
		{"outside leeway", testNow.Add(2 * time.Minute), testNow, time.Minute, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tok := &Token{AccessToken: "at", Expiry: tt.expiry}
			assert.Equal(t, tt.want, tok.Expired(tt.now, tt.leeway))
		})
	}
}

func TestToken_JSON(t *testing.T) {
	tests := []struct {
		name     string
		tok      Token
		wantJSON string
	}{
		{
			name:     "no expiry is omitted",
			tok:      Token{AccessToken: "at", TokenType: "bearer"},
			wantJSON: `{"access_token":"at","token_type":"bearer"}`,
		},
		{
			name: "all fields",
			tok: Token{AccessToken: "at", TokenType: "Bearer", RefreshToken: "rt", IDToken: "idt", Scope: "a b",
				ExpiresIn: 60, Expiry: testNow.Add(time.Minute), Extra: map[string]any{"hd": "example.com"}},
			wantJSON: `{"access_token":"at","token_type":"Bearer","refresh_token":"rt","id_token":"idt","scope":"a b",` +
				`"expires_in":60,"expiry":"2026-03-01T12:01:00Z","extra":{"hd":"example.com"}}`,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			raw, err := json.Marshal(tt.tok)
			require.NoError(t, err)
			assert.JSONEq(t, tt.wantJSON, string(raw))

			var back Token
			require.NoError(t, json.Unmarshal(raw, &back))
			assert.Equal(t, tt.tok, back)
		})
	}
}

func TestToken_FormattingHidesSecrets(t *testing.T) {
	tok := &Token{AccessToken: "SECRET-at", RefreshToken: "SECRET-rt", IDToken: "SECRET-idt", TokenType: "Bearer",
		Scope: "read:user", Expiry: testNow, Extra: map[string]any{"x": "SECRET-extra"}}

	var buf bytes.Buffer
	slog.New(slog.NewJSONHandler(&buf, nil)).Info("token", "tok", tok)
	for _, out := range []string{fmt.Sprint(tok), fmt.Sprintf("%+v", tok), buf.String()} {
		assert.NotContains(t, out, "SECRET")
		assert.Contains(t, out, "read:user")
	}
}
