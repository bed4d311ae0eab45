package redirecturi

import (
	"testing"
)

// FuzzValidate checks that Parse, ParsePattern and Equal never panic, that nothing the default
// patterns admit has a non-loopback host or userinfo (SECURITY.md S01), and that Equal is
// reflexive on valid URIs. The seed corpus is in testdata/fuzz/FuzzValidate.
func FuzzValidate(f *testing.F) {
	defaults := DefaultPatterns()
	f.Fuzz(func(t *testing.T, raw string) {
		_, _ = ParsePattern(raw)
		u, err := Parse(raw)
		if err != nil {
			if Equal(raw, raw) {
				t.Fatalf("Equal accepted %q, which Parse refuses: %v", raw, err)
			}
			return
		}
		if !Equal(raw, raw) {
			t.Fatalf("Equal(%q, itself) is false", raw)
		}
		if !Allowed(u, defaults) {
			return
		}
		if u.User != nil {
			t.Fatalf("default patterns admitted userinfo in %q", raw)
		}
		if !IsLoopbackHost(u.Hostname()) {
			t.Fatalf("default patterns admitted non-loopback host %q in %q", u.Hostname(), raw)
		}
		if u.Scheme != "http" || u.Fragment != "" {
			t.Fatalf("default patterns admitted %q", raw)
		}
	})
}
