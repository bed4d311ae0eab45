package pkce

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestChallengeMatchesRFC7636AppendixB(t *testing.T) {
	// RFC 7636 Appendix B example.
	verifier := "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"
	assert.Equal(t, "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM", Challenge(verifier))
	assert.True(t, Verify(verifier, "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"))
}

func TestVerifyRejects(t *testing.T) {
	v := GenerateVerifier()
	c := Challenge(v)
	assert.True(t, Verify(v, c))
	assert.False(t, Verify(GenerateVerifier(), c), "other verifier")
	assert.False(t, Verify(v, v), "plain method: verifier as its own challenge")
	assert.False(t, Verify("short", Challenge("short")), "verifier below 43 chars")
	assert.False(t, Verify(strings.Repeat("a", 129), Challenge(strings.Repeat("a", 129))), "verifier above 128 chars")
	assert.False(t, Verify(v+"!", Challenge(v+"!")), "character outside the unreserved set")
}

func TestValidChallenge(t *testing.T) {
	assert.True(t, ValidChallenge(Challenge(GenerateVerifier())))
	assert.False(t, ValidChallenge(""))
	assert.False(t, ValidChallenge(strings.Repeat("a", 42)))
	assert.False(t, ValidChallenge(strings.Repeat("+", 43)))
}

func TestGenerateVerifierIsValidAndUnique(t *testing.T) {
	a, b := GenerateVerifier(), GenerateVerifier()
	assert.True(t, ValidVerifier(a))
	assert.NotEqual(t, a, b)
}
