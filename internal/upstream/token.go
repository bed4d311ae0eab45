package upstream

import (
	"fmt"
	"log/slog"
	"time"
)

// Token is the upstream provider's token response (RFC 6749 §5.1), in a form that can be
// stored as JSON. It holds secrets: String and LogValue leave them out.
type Token struct {
	AccessToken  string `json:"access_token"`
	TokenType    string `json:"token_type,omitempty"`
	RefreshToken string `json:"refresh_token,omitempty"`
	IDToken      string `json:"id_token,omitempty"` // OpenID Connect Core §3.1.3.3
	Scope        string `json:"scope,omitempty"`
	ExpiresIn    int64  `json:"expires_in,omitempty"`
	// Expiry is when the access token expires; zero when the upstream sent no expires_in.
	// omitzero, not omitempty: omitempty never omits a struct such as time.Time.
	Expiry time.Time `json:"expiry,omitzero"`
	// Extra holds the response's other fields, for claims hooks. Never log it.
	Extra map[string]any `json:"extra,omitempty"`
}

// Expired reports whether the access token has expired at now, or will within leeway.
// A token without an expiry never expires here.
func (t *Token) Expired(now time.Time, leeway time.Duration) bool {
	if t.Expiry.IsZero() {
		return false
	}
	return !now.Add(leeway).Before(t.Expiry)
}

// String describes the token without its secrets, so %v cannot leak them.
func (t *Token) String() string {
	return fmt.Sprintf("upstream.Token{type=%s scope=%q expiry=%s refresh_token=%t id_token=%t}",
		t.TokenType, t.Scope, t.Expiry.Format(time.RFC3339), t.RefreshToken != "", t.IDToken != "")
}

// LogValue implements slog.LogValuer with the same redacted view as String.
func (t *Token) LogValue() slog.Value {
	return slog.GroupValue(
		slog.String("token_type", t.TokenType),
		slog.String("scope", t.Scope),
		slog.Time("expiry", t.Expiry),
		slog.Bool("refresh_token", t.RefreshToken != ""),
		slog.Bool("id_token", t.IDToken != ""),
	)
}
