package strview

import (
	"crypto/sha256"
	"testing"
)

func TestBytes_AreTheStringsBytes(t *testing.T) {
	for _, s := range []string{"", "a", "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM-and-more-than-32"} {
		if got := string(Bytes(s)); got != s {
			t.Fatalf("Bytes(%q) = %q", s, got)
		}
		if sha256.Sum256(Bytes(s)) != sha256.Sum256([]byte(s)) {
			t.Fatalf("digest of %q differs", s)
		}
	}
}

// A string is read without a copy: hashing it allocates nothing.
func TestBytes_DoNotAllocate(t *testing.T) {
	s := "a 43-byte token, longer than the stack copy"
	if n := testing.AllocsPerRun(100, func() { _ = sha256.Sum256(Bytes(s)) }); n != 0 {
		t.Fatalf("%v allocations", n)
	}
}
