// Package displaytext decides whether text a client chose about itself (its
// client_name) may be shown to a person, and cleans text stored before that
// rule existed (SECURITY.md S21).
//
// Unicode TR #36 §2 (visual spoofing): bidirectional controls reorder what
// follows them, so "Acme\u202Egnp.exe" shows as "Acmeexe.png"; zero-width and
// other invisible format characters make two different names look the same;
// control characters and line breaks let a name fake a second line of the
// consent page. A client's name never needs any of them.
package displaytext

import (
	"strings"
	"unicode"
	"unicode/utf8"
)

// refused reports whether r must not appear in display text: every control
// character (category Cc, which includes \t, \n, \r and U+0085 NEL), every
// format character (Cf: the bidi embeddings, overrides and isolates U+202A–202E
// and U+2066–2069, the marks U+200E, U+200F and U+061C, the zero-width
// U+200B–200D, U+2060 and U+FEFF, soft hyphen, …) and the line and paragraph
// separators U+2028 and U+2029 (Zl, Zp).
func refused(r rune) bool {
	return unicode.In(r, unicode.Cc, unicode.Cf, unicode.Zl, unicode.Zp)
}

// IsClean reports whether s is valid UTF-8 without a refused character.
func IsClean(s string) bool {
	if !utf8.ValidString(s) {
		return false
	}
	return strings.IndexFunc(s, refused) < 0
}

// Clean returns s as it may be shown: invalid UTF-8 becomes U+FFFD, format
// characters are dropped, control characters and line breaks become spaces,
// and runs of white space collapse to one space with none at either end.
// Clean(s) == s for text that IsClean and has no stray white space.
func Clean(s string) string {
	s = strings.ToValidUTF8(s, "\uFFFD")
	s = strings.Map(func(r rune) rune {
		switch {
		case unicode.Is(unicode.Cf, r):
			return -1
		case refused(r):
			return ' '
		}
		return r
	}, s)
	return strings.Join(strings.Fields(s), " ")
}
