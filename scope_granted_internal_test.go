package oauthproxy

import (
	"testing"

	"github.com/oauthproxy-go/oauthproxy/internal/upstream"
	"github.com/stretchr/testify/assert"
)

func TestGrantedScopes(t *testing.T) {
	requested := []string{"openid", "email", "profile", "offline_access", "repo"}
	for _, tc := range []struct {
		name string
		tok  upstream.Token
		want []string
	}{
		{"no scope in the response: as requested", upstream.Token{}, requested},
		{"narrower", upstream.Token{Scope: "email repo"}, []string{"email", "repo"}},
		{"comma-separated (GitHub)", upstream.Token{Scope: "repo,email"}, []string{"email", "repo"}},
		{"wider grants nothing extra", upstream.Token{Scope: "email repo admin"}, []string{"email", "repo"}},
		{"Google's userinfo URLs", upstream.Token{Scope: "openid https://www.googleapis.com/auth/userinfo.email https://www.googleapis.com/auth/userinfo.profile"},
			[]string{"openid", "email", "profile"}},
		{"openid by its id_token, offline_access by its refresh token (Entra lists neither always)",
			upstream.Token{Scope: "email", IDToken: "idt", RefreshToken: "rt"}, []string{"openid", "email", "offline_access"}},
		{"neither without the token", upstream.Token{Scope: "email"}, []string{"email"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			assert.Equal(t, tc.want, grantedScopes(requested, &tc.tok))
		})
	}
}

func TestLimitToRegisteredScope(t *testing.T) {
	client := &clientRecord{Scope: "openid email"}
	got, oerr := limitToRegisteredScope(client, false, []string{"email"})
	assert.Nil(t, oerr)
	assert.Equal(t, []string{"email"}, got)

	_, oerr = limitToRegisteredScope(client, false, []string{"email", "profile"})
	if assert.NotNil(t, oerr) {
		assert.Equal(t, ErrCodeInvalidScope, oerr.Code)
		assert.False(t, oerr.NoRedirect, "a scope error goes back to the client")
	}

	got, oerr = limitToRegisteredScope(client, true, []string{"openid", "email", "profile"})
	assert.Nil(t, oerr)
	assert.Equal(t, []string{"openid", "email"}, got)

	got, oerr = limitToRegisteredScope(&clientRecord{}, false, []string{"anything"})
	assert.Nil(t, oerr)
	assert.Equal(t, []string{"anything"}, got, "no registered scope: Config.Scopes alone limits")
}
