package oauthproxy

import (
	"math/rand/v2"
	"strings"
	"testing"
)

// encodesAsItself must say exactly what the two checks it replaces said, for
// every byte at every position of the eight-byte blocks and the tail.
func TestEncodesAsItself_AsPlainPrefixAndNoHTMLByte(t *testing.T) {
	want := func(s string) bool { return plainPrefix(s) == len(s) && !strings.ContainsAny(s, "<>&") }
	for n := 0; n <= 19; n++ {
		for pos := 0; pos < n; pos++ {
			for c := 0; c < 256; c++ {
				b := []byte(strings.Repeat("a", n))
				b[pos] = byte(c)
				if s := string(b); encodesAsItself(s) != want(s) {
					t.Fatalf("%q: got %v", s, encodesAsItself(s))
				}
			}
		}
	}
	rng := rand.New(rand.NewPCG(3, 4))
	alphabet := "abcXYZ019-_.:/ <>&\"\\\x00\x1f\x7f\x80\xff"
	for range 20000 {
		b := make([]byte, rng.IntN(40))
		for i := range b {
			b[i] = alphabet[rng.IntN(len(alphabet))]
		}
		if s := string(b); encodesAsItself(s) != want(s) {
			t.Fatalf("%q: got %v", s, encodesAsItself(s))
		}
	}
}
