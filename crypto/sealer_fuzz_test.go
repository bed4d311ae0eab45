package crypto

import (
	"bytes"
	"testing"
)

// fuzzKey is a fixed, public test key, so the committed seed corpus in
// testdata/fuzz/FuzzOpen holds values that really open.
var fuzzKey = func() []byte {
	k := make([]byte, KeySize)
	for i := range k {
		k[i] = byte(i)
	}
	return k
}()

// FuzzOpen checks that Open never panics on any input and that whatever opens
// survives a fresh seal/open round trip.
func FuzzOpen(f *testing.F) {
	s, err := NewSealer(fuzzKey)
	if err != nil {
		f.Fatal(err)
	}
	valid, err := s.Seal([]byte("upstream token"), []byte("grant:1"))
	if err != nil {
		f.Fatal(err)
	}
	f.Add(valid, []byte("grant:1"))
	f.Add(valid[:len(valid)-1], []byte("grant:1"))
	f.Add([]byte{}, []byte{})

	f.Fuzz(func(t *testing.T, sealed, ad []byte) {
		pt, err := s.Open(sealed, ad)
		if err != nil {
			if pt != nil {
				t.Fatalf("Open returned plaintext with error %v", err)
			}
			return
		}
		resealed, err := s.Seal(pt, ad)
		if err != nil {
			t.Fatalf("Seal: %v", err)
		}
		again, err := s.Open(resealed, ad)
		if err != nil {
			t.Fatalf("Open after re-seal: %v", err)
		}
		if !bytes.Equal(pt, again) {
			t.Fatalf("round trip changed plaintext: %q != %q", pt, again)
		}
	})
}
