package displaytext

import (
	"testing"

	"github.com/stretchr/testify/assert"
)

// spoofers are the characters Unicode TR #36 names for visual spoofing, plus
// controls and line breaks: each must make a name unclean.
var spoofers = map[string]string{
	"LRE U+202A": "\u202A", "RLE U+202B": "\u202B", "PDF U+202C": "\u202C",
	"LRO U+202D": "\u202D", "RLO U+202E": "\u202E",
	"LRI U+2066": "\u2066", "RLI U+2067": "\u2067", "FSI U+2068": "\u2068", "PDI U+2069": "\u2069",
	"ALM U+061C": "\u061C", "LRM U+200E": "\u200E", "RLM U+200F": "\u200F",
	"ZWSP U+200B": "\u200B", "ZWNJ U+200C": "\u200C", "ZWJ U+200D": "\u200D",
	"WJ U+2060": "\u2060", "BOM U+FEFF": "\uFEFF", "soft hyphen U+00AD": "\u00AD",
	"NUL": "\x00", "BEL": "\a", "ESC": "\x1b", "DEL": "\x7f", "tab": "\t",
	"LF": "\n", "CR": "\r", "NEL U+0085": "\u0085",
	"LS U+2028": "\u2028", "PS U+2029": "\u2029",
	"invalid UTF-8": "\xff",
}

func TestIsClean_RefusesEverySpoofingCharacter(t *testing.T) {
	for name, c := range spoofers {
		t.Run(name, func(t *testing.T) {
			assert.False(t, IsClean("Acme"+c+"Tool"))
			assert.False(t, IsClean(c))
		})
	}
}

func TestIsClean_AcceptsOrdinaryNames(t *testing.T) {
	for _, s := range []string{
		"", "Claude", "VS Code", "Cursor <beta> & \"friends\"", "Ünïcode App",
		"תוכנה", "برنامج", "日本語のアプリ", "Émoji 🚀",
	} {
		assert.True(t, IsClean(s), "%q", s)
	}
}

func TestClean(t *testing.T) {
	for _, tt := range []struct{ in, want string }{
		{"Claude", "Claude"},
		{"Acme\u202Egnp.exe", "Acmegnp.exe"},
		{"Pay\u200Bpal", "Paypal"},
		{"\u2066Good App\u2069", "Good App"},
		{"Line one\nApproved by your administrator", "Line one Approved by your administrator"},
		{"a\u2028b\u2029c\u0085d\te\r\nf", "a b c d e f"},
		{"  padded\x00\x07 name  ", "padded name"},
		{"bad\xffbyte", "bad\uFFFDbyte"},
		{"\u200B\u200D", ""},
	} {
		got := Clean(tt.in)
		assert.Equal(t, tt.want, got, "Clean(%q)", tt.in)
		assert.True(t, IsClean(got), "Clean(%q) = %q is not clean", tt.in, got)
	}
}
