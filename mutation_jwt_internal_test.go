package oauthproxy

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// Edges of the access-token code that mutation testing found unpinned
// (docs/mutation.md). Named TestIdentityClaims… and TestJWT… so
// scripts/mutate.sh's selection for the JWT group runs them.

// TestIdentityClaims_EmptyObjectAddsNothing: the shortest stored claims
// object, "{}", is an object: it issues a token without identity claims.
func TestIdentityClaims_EmptyObjectAddsNothing(t *testing.T) {
	ts, _ := newTestSigner(t)
	raw, _, err := ts.issue(&Claims{Subject: "u", ClientID: "c", Audience: jwtTestAudience, TokenID: "j", GrantID: "g",
		extraJSON: []byte(`{}`)}, time.Hour)
	require.NoError(t, err)
	back, err := ts.verify(raw, jwtTestAudience)
	require.NoError(t, err)
	assert.Empty(t, back.Extra)
	assert.Equal(t, "u", back.Subject)
}
