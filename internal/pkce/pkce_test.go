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

// TestValidVerifierLengthBounds pins both ends of RFC 7636 §4.1's 43 to 128
// characters.
func TestValidVerifierLengthBounds(t *testing.T) {
	for n, want := range map[int]bool{42: false, 43: true, 128: true, 129: false} {
		assert.Equal(t, want, ValidVerifier(strings.Repeat("a", n)), "%d characters", n)
	}
}

// TestValidVerifierCharacterSet checks each edge of the unreserved ranges
// (RFC 7636 §4.1) and the characters just outside them.
func TestValidVerifierCharacterSet(t *testing.T) {
	base := strings.Repeat("a", 42)
	for _, c := range "AZaz09-._~" {
		assert.True(t, ValidVerifier(base+string(c)), "%q is unreserved", c)
	}
	for _, c := range "@[`{/:!+= %\x7f\x00" {
		assert.False(t, ValidVerifier(base+string(c)), "%q is not unreserved", c)
	}
	assert.False(t, ValidVerifier(base+"é"), "non-ASCII")
}
