package oauthproxy

import (
	"strconv"
	"strings"
	"time"
	"unsafe"

	"github.com/segmentio/asm/ascii"
	"github.com/segmentio/encoding/iso8601"
	"github.com/segmentio/encoding/json"
)

// The records a sign-in writes and reads several times each (client,
// transaction, code, grant, refresh token, used marker) are encoded and
// decoded without reflection: segmentio/encoding/json took ~35 µs of the
// proxy's CPU per sign-in doing it, these codecs ~27 µs and 65 fewer
// allocations (issue 16; BenchmarkRecordCodec per record). The fast encoder writes exactly
// the bytes segmentio writes, so stored records do not depend on which path
// wrote them; the fast decoder reads only that exact shape and says no to
// anything else, which segmentio then decodes: records written by earlier
// versions, by hand, or in a shape this file does not know.

// fastRecord is a record with a hand-written codec.
type fastRecord interface {
	// appendJSON appends the record as json.Append(b, r,
	// json.EscapeHTML|json.SortMapKeys) would; ok is false, with b as it
	// was, when it cannot (segmentio encodes the record then).
	appendJSON(b []byte) (out []byte, ok bool)
	// decodeJSON sets the record from b when b is in the shape appendJSON
	// writes, keeping nothing of b (adopt); false leaves the record
	// untouched.
	decodeJSON(b []byte) bool
}

// appendRecord appends the JSON encoding of v, as segmentio's json.Marshal
// writes it.
func appendRecord(b []byte, v any) ([]byte, error) {
	if r, ok := v.(fastRecord); ok {
		if out, ok := r.appendJSON(b); ok {
			return out, nil
		}
	}
	return json.Append(b, v, json.EscapeHTML|json.SortMapKeys) // what json.Marshal does
}

// decodeFast decodes b into v when v has a fast decoder that accepts b.
func decodeFast(b []byte, v any) bool {
	r, ok := v.(fastRecord)
	return ok && r.decodeJSON(b)
}

// appendString appends s as segmentio writes a string with EscapeHTML.
func appendString(b []byte, s string) []byte {
	if !verbatim(s) {
		// Escapes as encoding/json writes them, which are segmentio's
		// (TestRecordCodec_EncodesAsSegmentio, FuzzRecordCodec).
		return appendJSONString(b, s)
	}
	b = append(b, '"')
	b = append(b, s...)
	return append(b, '"')
}

// verbatim reports whether s is written as itself: printable ASCII without
// '"', '\\' or what HTML escaping rewrites. Vectorised scans, several times
// faster than one byte-wise pass over a 2 KB id_token.
func verbatim(s string) bool {
	return ascii.ValidPrintString(s) && strings.IndexByte(s, '"') < 0 && strings.IndexByte(s, '\\') < 0 &&
		strings.IndexByte(s, '<') < 0 && strings.IndexByte(s, '>') < 0 && strings.IndexByte(s, '&') < 0
}

// appendStrings appends a non-empty []string as a JSON array.
func appendStrings(b []byte, list []string) []byte {
	b = append(b, '[')
	for i, s := range list {
		if i > 0 {
			b = append(b, ',')
		}
		b = appendString(b, s)
	}
	return append(b, ']')
}

// appendTime appends t as segmentio writes a time.Time: RFC 3339 with
// nanoseconds, in t's own zone, without the year check time.MarshalJSON makes.
func appendTime(b []byte, t time.Time) []byte {
	b = append(b, '"')
	if _, offset := t.Zone(); offset == 0 {
		if out, ok := appendUTC(b, t.UTC()); ok {
			return append(out, '"')
		}
	}
	b = t.AppendFormat(b, time.RFC3339Nano)
	return append(b, '"')
}

// appendUTC appends t, a time in UTC, as t.AppendFormat(b, time.RFC3339Nano)
// does: the fraction without its trailing zeros, none when it is zero. ok is
// false for a year that is not four digits.
func appendUTC(b []byte, t time.Time) (out []byte, ok bool) {
	year, month, day := t.Date()
	if year < 0 || year > 9999 {
		return b, false
	}
	hour, minute, second := t.Clock()
	b = append(b,
		byte('0'+year/1000), byte('0'+year/100%10), byte('0'+year/10%10), byte('0'+year%10), '-',
		byte('0'+month/10), byte('0'+month%10), '-', byte('0'+day/10), byte('0'+day%10), 'T',
		byte('0'+hour/10), byte('0'+hour%10), ':', byte('0'+minute/10), byte('0'+minute%10), ':',
		byte('0'+second/10), byte('0'+second%10))
	if ns := t.Nanosecond(); ns != 0 {
		var frac [10]byte
		frac[0] = '.'
		for i := 9; i >= 1; i-- {
			frac[i] = byte('0' + ns%10)
			ns /= 10
		}
		n := 10
		for frac[n-1] == '0' {
			n--
		}
		b = append(b, frac[:n]...)
	}
	return append(b, 'Z'), true
}

// rawVerbatim reports whether segmentio writes raw unchanged: it is one valid
// JSON value, with no blank between tokens and nothing its HTML escaping
// rewrites (<, >, & and U+2028/U+2029 inside strings; appendCompactEscapeHTML).
// Identity claims are stored that way (encodeIdentityClaims).
func rawVerbatim(raw []byte) bool {
	inString, escaped := false, false
	for i, c := range raw {
		switch {
		case !inString:
			switch c {
			case '"':
				inString = true
			case ' ', '\t', '\n', '\r':
				return false
			}
		case escaped:
			escaped = false
		case c == '\\':
			escaped = true
		case c == '"':
			inString = false
		case c == '<' || c == '>' || c == '&':
			return false
		case c == 0xE2 && i+2 < len(raw) && raw[i+1] == 0x80 && raw[i+2]&^1 == 0xA8:
			return false
		}
	}
	return json.Valid(raw)
}

// recordReader reads a record in the one shape appendJSON writes: no blanks,
// members in field order (any may be absent), strings of printable ASCII
// without escapes. Every read sets bad rather than guess, so that the caller
// leaves the record to segmentio.
//
// What it reads (strings, raw claims) are views of the caller's bytes, which
// are often the encrypting store's plaintext buffer, reused by its next read
// (storage.Encrypted.View): a decoder hands every one of them to adopt
// before the record is let out.
type recordReader struct {
	s       string // the record, a view of the caller's bytes
	i       int
	members int  // members read in the object being read
	plain   bool // s is printable ASCII without a backslash: no string needs checking
	bad     bool
}

func newRecordReader(b []byte) recordReader {
	s := unsafe.String(unsafe.SliceData(b), len(b))
	return recordReader{s: s, plain: ascii.ValidPrintString(s) && strings.IndexByte(s, '\\') < 0}
}

// adopt copies the strings *fields, the members of lists and *raw (nil when
// the record has none) out of the reader's bytes into one allocation of
// their own, where a copy each would cost a dozen. A string kept after its
// record keeps the record's other strings alive with it (a few KB at most).
func adopt(raw *json.RawMessage, fields []*string, lists ...[]string) {
	n := 0
	for _, f := range fields {
		n += len(*f)
	}
	for _, list := range lists {
		for _, s := range list {
			n += len(s)
		}
	}
	if raw != nil {
		n += len(*raw)
	}
	if n == 0 {
		return
	}
	buf := make([]byte, n)
	off := 0
	// buf is new and its string parts are never written again: the strings
	// can be views of it, as strings.Builder's are.
	own := func(s string) string {
		if len(s) == 0 {
			return ""
		}
		copy(buf[off:], s)
		off += len(s)
		return unsafe.String(&buf[off-len(s)], len(s))
	}
	for _, f := range fields {
		*f = own(*f)
	}
	for _, list := range lists {
		for i, s := range list {
			list[i] = own(s)
		}
	}
	if raw != nil && len(*raw) > 0 {
		copy(buf[off:], *raw)
		*raw = buf[off : off+len(*raw) : off+len(*raw)] // its own part: an append cannot reach the strings
	}
}

// open reads the '{' of an object.
func (r *recordReader) open() {
	if r.bad || r.i >= len(r.s) || r.s[r.i] != '{' {
		r.bad = true
		return
	}
	r.i++
	r.members = 0
}

// key reads `"name":` (after a ',' unless it is the object's first member)
// and reports whether it was there; when it was not, nothing is read.
func (r *recordReader) key(name string) bool {
	if r.bad {
		return false
	}
	j := r.i
	if r.members > 0 {
		if j >= len(r.s) || r.s[j] != ',' {
			return false
		}
		j++
	}
	end := j + len(name) + 3
	if end > len(r.s) || r.s[j] != '"' || r.s[j+1:end-2] != name || r.s[end-2] != '"' || r.s[end-1] != ':' {
		return false
	}
	r.i = end
	r.members++
	return true
}

// close reads the '}' ending an object, and reports whether everything read
// so far was in shape. members is the count of the enclosing object, for a
// nested one.
func (r *recordReader) close(members int) bool {
	if r.bad || r.i >= len(r.s) || r.s[r.i] != '}' {
		r.bad = true
		return false
	}
	r.i++
	r.members = members
	return true
}

// done reports whether the record ended right after its object.
func (r *recordReader) done() bool {
	return !r.bad && r.i == len(r.s)
}

// str reads a string without escapes, of printable ASCII.
func (r *recordReader) str() string {
	if r.bad || r.i >= len(r.s) || r.s[r.i] != '"' {
		r.bad = true
		return ""
	}
	start := r.i + 1
	n := strings.IndexByte(r.s[start:], '"')
	if n < 0 {
		r.bad = true
		return ""
	}
	s := r.s[start : start+n]
	if !r.plain && (!ascii.ValidPrintString(s) || strings.IndexByte(s, '\\') >= 0) {
		r.bad = true // an escape, a control or a non-ASCII byte
		return ""
	}
	r.i = start + n + 1
	return s
}

// strs reads a non-empty array of strings (segmentio reads [] as an empty,
// non-nil slice; that is left to it).
func (r *recordReader) strs() []string {
	if r.bad || r.i >= len(r.s) || r.s[r.i] != '[' {
		r.bad = true
		return nil
	}
	r.i++
	// Count the members first so the slice is made once at its size.
	n := 1
	for j := r.i; j < len(r.s) && r.s[j] != ']'; j++ {
		if r.s[j] == ',' {
			n++
		}
	}
	list := make([]string, 0, n)
	for {
		list = append(list, r.str())
		if r.bad || r.i >= len(r.s) {
			r.bad = true
			return nil
		}
		if r.s[r.i] == ']' {
			r.i++
			return list
		}
		if r.s[r.i] != ',' {
			r.bad = true
			return nil
		}
		r.i++
	}
}

// list reads a []string that is not omitempty: null is nil and [] empty,
// as segmentio reads them.
func (r *recordReader) list() []string {
	switch {
	case r.bad:
		return nil
	case strings.HasPrefix(r.s[r.i:], "null"):
		r.i += 4
		return nil
	case strings.HasPrefix(r.s[r.i:], "[]"):
		r.i += 2
		return []string{}
	}
	return r.strs()
}

// time reads a time as segmentio does (decodeTime): the text up to the next
// quote, parsed by iso8601.Parse.
func (r *recordReader) time() time.Time {
	s := r.str()
	if r.bad {
		return time.Time{}
	}
	t, err := iso8601.Parse(s)
	if err != nil {
		r.bad = true
	}
	return t
}

// int64 reads an integer: 0 or one without a leading zero, at most 18 digits
// so that it cannot overflow.
func (r *recordReader) int64() int64 {
	if r.bad {
		return 0
	}
	j := r.i
	if j < len(r.s) && r.s[j] == '-' {
		j++
	}
	start := j
	for j < len(r.s) && r.s[j] >= '0' && r.s[j] <= '9' {
		j++
	}
	digits := r.s[start:j]
	if len(digits) == 0 || len(digits) > 18 || (digits[0] == '0' && (len(digits) > 1 || start > r.i)) {
		r.bad = true
		return 0
	}
	n, err := strconv.ParseInt(r.s[r.i:j], 10, 64)
	if err != nil {
		r.bad = true
		return 0
	}
	r.i = j
	return n
}

// trueLiteral reads the literal true: omitempty writes a bool only when it is.
func (r *recordReader) trueLiteral() bool {
	if r.bad || !strings.HasPrefix(r.s[r.i:], "true") {
		r.bad = true
		return false
	}
	r.i += 4
	return true
}

// object reads a JSON object as segmentio reads a json.RawMessage: the bytes
// of the value (a view, for adopt).
func (r *recordReader) object() json.RawMessage {
	if r.bad || r.i >= len(r.s) || r.s[r.i] != '{' {
		r.bad = true
		return nil
	}
	end := objectEnd(r.s, r.i)
	if end < 0 {
		r.bad = true
		return nil
	}
	raw := unsafe.Slice(unsafe.StringData(r.s[r.i:]), end-r.i)
	if !json.Valid(raw) {
		r.bad = true
		return nil
	}
	r.i = end
	return raw
}

// objectEnd returns the index just past the object starting at s[start], or
// -1. It only matches braces outside strings; json.Valid checks the rest.
func objectEnd(s string, start int) int {
	depth, inString, escaped := 0, false, false
	for i := start; i < len(s); i++ {
		c := s[i]
		switch {
		case inString:
			switch {
			case escaped:
				escaped = false
			case c == '\\':
				escaped = true
			case c == '"':
				inString = false
			}
		case c == '"':
			inString = true
		case c == '{' || c == '[':
			depth++
		case c == '}' || c == ']':
			depth--
			if depth == 0 {
				return i + 1
			}
		}
	}
	return -1
}
