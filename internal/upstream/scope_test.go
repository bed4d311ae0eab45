package upstream

import (
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestToken_GrantedScopes(t *testing.T) {
	for _, tt := range []struct {
		scope string
		want  []string
		said  bool
	}{
		{"", nil, false},
		{"   ", nil, false},
		{",", nil, false},
		{"openid email", []string{"openid", "email"}, true},
		{"read:user,user:email", []string{"read:user", "user:email"}, true}, // GitHub
		{"read:user, repo  gist", []string{"read:user", "repo", "gist"}, true},
	} {
		got, said := (&Token{Scope: tt.scope}).GrantedScopes()
		if tt.said {
			assert.Equal(t, tt.want, got, "%q", tt.scope)
		} else {
			assert.Empty(t, got, "%q", tt.scope)
		}
		assert.Equal(t, tt.said, said, "%q", tt.scope)
	}
}
