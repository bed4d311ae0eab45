package oauthproxy

import (
	"encoding/base64"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// The id_token's payload is decoded in a reused buffer: the claims of one
// sign-in must not change when the next one's payload fills it.
func TestIDTokenClaims_OwnTheirValues(t *testing.T) {
	p := newInternalTestProxy(t)
	exp := `"exp":` + strconv.FormatInt(time.Now().Add(time.Hour).Unix(), 10) + `,`
	idToken := func(payload string) string {
		enc := base64.RawURLEncoding
		return enc.EncodeToString([]byte(`{"alg":"RS256"}`)) + "." + enc.EncodeToString([]byte(payload)) + ".sig"
	}
	aud := `"aud":"` + p.cfg.UpstreamClientID + `"`
	first, err := p.idTokenClaims(idToken(`{"sub":"alice-1234567890","email":"alice@example.com","n":12345678901234567890,` + exp + aud + `}`))
	require.NoError(t, err)
	_, err = p.idTokenClaims(idToken(`{"sub":"bob-zzzzzzzzzzzzz","email":"bob@example.comxxxx","n":99999999999999999999,` + exp + aud + `}`))
	require.NoError(t, err)
	require.Equal(t, "alice-1234567890", first["sub"])
	require.Equal(t, "alice@example.com", first["email"])
	require.Equal(t, "12345678901234567890", first["n"].(interface{ String() string }).String())

	for _, bad := range []string{"a.b", "a.b.c.d", "onlyone", idToken(`{"sub":"x"`)} {
		_, err := p.idTokenClaims(bad)
		require.Error(t, err, bad)
	}
}
