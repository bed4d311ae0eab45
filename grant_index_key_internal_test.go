package oauthproxy

import (
	"crypto/sha256"
	"encoding/base64"
	"testing"

	"github.com/stretchr/testify/require"
)

// Index entries written by earlier versions must still be found: the key is
// the namespace, the base64url SHA-256 of the owner, ":" and the grant id.
func TestIndexKey_KeepsTheStoredLayout(t *testing.T) {
	for _, owner := range []string{"", "110169484474386276334", "client-é:1"} {
		sum := sha256.Sum256([]byte(owner))
		digest := base64.RawURLEncoding.EncodeToString(sum[:])
		require.Equal(t, nsGrantsBySubject+digest+":", subjectGrantsPrefix(owner))
		require.Equal(t, nsGrantsByClient+digest+":", clientGrantsPrefix(owner))
		require.Equal(t, nsGrantsBySubject+digest+":g-1", indexKey(nsGrantsBySubject, owner, "g-1"))
	}
}
