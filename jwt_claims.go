package oauthproxy

// The claims set of the proxy's access tokens, read without reflection: the
// fixed claims into fields, identity claims into Extra exactly as
// encoding/json would decode them.

import (
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"
)

// payloadClaims is the decoded JWT claims set. Once decoded it is read-only:
// the cache shares it between requests.
type payloadClaims struct {
	issuer, audience     string // what iss and aud must be
	issOK                bool   // iss is issuer
	audCount, audMatches int    // aud's values, and how many are audience
	sub, clientID, gid   string
	jti, scope           string
	exp, iat, nbf        float64 // 0 when absent, as RFC 7519 NumericDates go
	seen                 uint16  // registered claims present, to refuse duplicates
	extra                map[string]any
	scalarExtras         bool // no extra claim is an object or array, so a copy of extra shares nothing mutable
}

// Registered claims the decoder has a slot for.
const (
	seenIss = 1 << iota
	seenSub
	seenAud
	seenExp
	seenIat
	seenNbf
	seenJTI
	seenScope
	seenClientID
	seenGID
)

var (
	errPayload = errors.New("payload is not a valid claims set")
	errClaim   = errors.New("a registered claim has the wrong type")
)

// decode reads the claims set (RFC 7519 §4): a JSON object whose registered
// claims must have their registered types, whose other reserved claims are
// dropped, and whose remaining claims become Extra with the values
// encoding/json would give them. It accepts only valid JSON and refuses a
// repeated claim name.
func (c *payloadClaims) decode(s string) error {
	c.scalarExtras = true
	d := jsonReader{s: s}
	d.space()
	if !d.consume('{') {
		return errPayload
	}
	d.space()
	if d.consume('}') {
		return d.end()
	}
	for {
		d.space()
		name, ok := d.string()
		if !ok {
			return errPayload
		}
		d.space()
		if !d.consume(':') {
			return errPayload
		}
		d.space()
		if err := c.claim(&d, name); err != nil {
			return err
		}
		d.space()
		if d.consume(',') {
			continue
		}
		if d.consume('}') {
			return d.end()
		}
		return errPayload
	}
}

// claim reads the value of the claim called name.
func (c *payloadClaims) claim(d *jsonReader, name string) error {
	var bit uint16
	var str *string
	var num *float64
	switch name {
	case "iss":
		bit = seenIss
	case "aud":
		bit = seenAud
	case "sub":
		bit, str = seenSub, &c.sub
	case "jti":
		bit, str = seenJTI, &c.jti
	case "scope":
		bit, str = seenScope, &c.scope
	case "client_id":
		bit, str = seenClientID, &c.clientID
	case "gid":
		bit, str = seenGID, &c.gid
	case "exp":
		bit, num = seenExp, &c.exp
	case "iat":
		bit, num = seenIat, &c.iat
	case "nbf":
		bit, num = seenNbf, &c.nbf
	}
	if bit != 0 {
		if c.seen&bit != 0 {
			return fmt.Errorf("%w: %s is repeated", errPayload, name)
		}
		c.seen |= bit
	}
	switch {
	case bit == seenIss:
		v, ok := d.string()
		if !ok {
			return fmt.Errorf("%w: iss", errClaim)
		}
		c.issOK = v == c.issuer
	case bit == seenAud:
		return c.readAudience(d)
	case str != nil:
		v, ok := d.string()
		if !ok {
			return fmt.Errorf("%w: %s", errClaim, name)
		}
		*str = v
	case num != nil:
		f, ok := d.float()
		if !ok {
			return fmt.Errorf("%w: %s", errClaim, name)
		}
		*num = f
	case reservedClaims[name]:
		// Reserved but not read (typ, auth_time, acr, …): checked, dropped.
		if _, ok := d.value(); !ok {
			return errPayload
		}
	default:
		v, ok := d.value()
		if !ok {
			return errPayload
		}
		switch v.(type) {
		case map[string]any, []any:
			c.scalarExtras = false
		}
		if c.extra == nil {
			c.extra = make(map[string]any, 8)
		} else if _, dup := c.extra[name]; dup {
			return fmt.Errorf("%w: %s is repeated", errPayload, name)
		}
		c.extra[name] = v
	}
	return nil
}

// readAudience reads aud: one string or an array of strings (RFC 7519
// §4.1.3), counting the values and those that name the expected audience.
func (c *payloadClaims) readAudience(d *jsonReader) error {
	one := func() error {
		v, ok := d.string()
		if !ok {
			return fmt.Errorf("%w: aud", errClaim)
		}
		c.audCount++
		if v == c.audience {
			c.audMatches++
		}
		return nil
	}
	if !d.consume('[') {
		return one()
	}
	d.space()
	if d.consume(']') {
		return nil
	}
	for {
		d.space()
		if err := one(); err != nil {
			return err
		}
		d.space()
		if d.consume(',') {
			continue
		}
		if d.consume(']') {
			return nil
		}
		return errPayload
	}
}

// check validates the decoded claims the way RFC 7519 §4.1 and RFC 9068 §4
// say, at now, and returns the caller's own copy of them.
func (c *payloadClaims) check(now time.Time) (*Claims, error) {
	// exp is required (RFC 8725 §3.10, S07); 0 counts as absent, as in
	// golang-jwt. An expired token is reported as such even if another check
	// would also fail.
	exp, ok := numericDate(c.exp)
	if !ok || c.exp == 0 {
		return nil, fmt.Errorf("%w: exp is missing or invalid", ErrInvalidToken)
	}
	if !now.Before(exp) {
		return nil, fmt.Errorf("%w: expired at %s", ErrTokenExpired, exp.UTC().Format(time.RFC3339))
	}
	if nbf, ok := numericDate(c.nbf); !ok || now.Before(nbf) {
		return nil, fmt.Errorf("%w: not valid yet", ErrInvalidToken)
	}
	iat, ok := numericDate(c.iat)
	if !ok || now.Before(iat) {
		return nil, fmt.Errorf("%w: issued in the future", ErrInvalidToken)
	}
	if !c.issOK || c.issuer == "" {
		return nil, fmt.Errorf("%w: issuer mismatch", ErrInvalidToken)
	}
	if c.audCount != 1 || c.audMatches != 1 {
		// RFC 8707 §2 / RFC 9068 §4: the token must be meant for this resource.
		return nil, fmt.Errorf("%w: audience mismatch", ErrInvalidToken)
	}
	if c.clientID == "" {
		return nil, fmt.Errorf("%w: missing client_id", ErrInvalidToken)
	}
	if c.gid == "" {
		return nil, fmt.Errorf("%w: missing grant id", ErrInvalidToken)
	}
	// One allocation for the claims and their scopes.
	h := &claimsHolder{}
	h.Claims = Claims{
		Subject:   c.sub,
		ClientID:  c.clientID,
		Scopes:    tokenScopes(c.scope, h.scopes[:0]),
		Audience:  c.audience,
		ExpiresAt: exp,
		TokenID:   c.jti,
		GrantID:   c.gid,
		// Every caller gets its own map; the values are scalars (or, when
		// not, c is not shared).
		Extra: maps.Clone(c.extra),
	}
	if c.iat != 0 {
		h.IssuedAt = iat
	}
	return &h.Claims, nil
}

// claimsHolder places a token's usual handful of scopes next to its Claims.
type claimsHolder struct {
	Claims
	scopes [4]string
}

// numericDate converts seconds since the epoch (RFC 7519 §2) to a time,
// truncated to the second; 0 is the zero time (absent). Dates past year
// 33000 or before 1970 are refused.
func numericDate(sec float64) (time.Time, bool) {
	if sec == 0 {
		return time.Time{}, true
	}
	if sec < 0 || sec > 1e12 {
		return time.Time{}, false
	}
	return time.Unix(int64(math.Floor(sec)), 0), true
}

// tokenScopes splits the scope claim (RFC 9068 §2.2.3, RFC 6749 §3.3) into
// buf, dropping duplicates; a malformed scope gives none, as parseScope would.
func tokenScopes(scope string, buf []string) []string {
	out := buf[:0]
	for scope != "" {
		f, rest, _ := strings.Cut(scope, " ")
		scope = rest
		if f == "" {
			continue
		}
		if !validScopeToken(f) {
			return nil
		}
		if !slices.Contains(out, f) {
			out = append(out, f)
		}
	}
	if len(out) == 0 {
		return nil
	}
	return out
}

// jsonReader decodes JSON (RFC 8259) from a string without reflection.
// Strings without escapes are returned as slices of the input; anything
// unusual (escapes, non-ASCII, nested values) is handed to encoding/json, so
// values come out exactly as json.Unmarshal into an any would give them.
type jsonReader struct {
	s string
	i int
}

func (d *jsonReader) space() {
	for d.i < len(d.s) {
		switch d.s[d.i] {
		case ' ', '\t', '\n', '\r':
			d.i++
		default:
			return
		}
	}
}

func (d *jsonReader) consume(c byte) bool {
	if d.i < len(d.s) && d.s[d.i] == c {
		d.i++
		return true
	}
	return false
}

// end accepts only trailing whitespace.
func (d *jsonReader) end() error {
	d.space()
	if d.i != len(d.s) {
		return errPayload
	}
	return nil
}

// string reads a JSON string.
func (d *jsonReader) string() (string, bool) {
	if !d.consume('"') {
		return "", false
	}
	start := d.i
	d.i += plainPrefix(d.s[d.i:])
	if d.i < len(d.s) && d.s[d.i] == '"' {
		d.i++
		return d.s[start : d.i-1], true
	}
	// An escape, a control character or non-ASCII: find the end and let
	// encoding/json decode (and validate) the literal (RFC 8259 §7).
	for d.i < len(d.s) {
		switch c := d.s[d.i]; {
		case c == '"':
			d.i++
			var v string
			if json.Unmarshal([]byte(d.s[start-1:d.i]), &v) != nil {
				return "", false
			}
			return v, true
		case c == '\\':
			d.i += 2 // the escaped byte cannot end the string
		case c < 0x20:
			return "", false // control characters must be escaped
		default:
			d.i++
		}
	}
	return "", false
}

// plainPrefix returns the length of s's prefix of plainStringByte bytes,
// eight at a time while it can.
func plainPrefix(s string) int {
	const ones, highs = 0x0101010101010101, 0x8080808080808080
	i := 0
	for ; i+8 <= len(s); i += 8 {
		x := uint64(s[i]) | uint64(s[i+1])<<8 | uint64(s[i+2])<<16 | uint64(s[i+3])<<24 |
			uint64(s[i+4])<<32 | uint64(s[i+5])<<40 | uint64(s[i+6])<<48 | uint64(s[i+7])<<56
		// A byte below 0x20, from 0x80, '"' or '\' (the zero-byte tests of
		// Hacker's Delight §6-1).
		if ((x-ones*0x20)&^x|x|zeroByteIn(x^(ones*'"'))|zeroByteIn(x^(ones*'\\')))&highs != 0 {
			break
		}
	}
	for i < len(s) && plainStringByte[s[i]] {
		i++
	}
	return i
}

// encodesAsItself reports whether every byte of s is one json.Marshal writes
// as itself: a plainStringByte other than '<', '>' and '&', which it escapes
// for HTML. One pass, eight bytes at a time (issue 16: every claim of every
// token; strings.ContainsAny made a set and walked s again).
func encodesAsItself(s string) bool {
	const ones, highs = 0x0101010101010101, 0x8080808080808080
	i := 0
	for ; i+8 <= len(s); i += 8 {
		x := uint64(s[i]) | uint64(s[i+1])<<8 | uint64(s[i+2])<<16 | uint64(s[i+3])<<24 |
			uint64(s[i+4])<<32 | uint64(s[i+5])<<40 | uint64(s[i+6])<<48 | uint64(s[i+7])<<56
		if ((x-ones*0x20)&^x|x|zeroByteIn(x^(ones*'"'))|zeroByteIn(x^(ones*'\\'))|
			zeroByteIn(x^(ones*'<'))|zeroByteIn(x^(ones*'>'))|zeroByteIn(x^(ones*'&')))&highs != 0 {
			break
		}
	}
	for ; i < len(s); i++ {
		if c := s[i]; !plainStringByte[c] || c == '<' || c == '>' || c == '&' {
			return false
		}
	}
	return true
}

// zeroByteIn has the high bit of a byte set where that byte of x is zero
// (with &highs: whether x has a zero byte; Hacker's Delight §6-1).
func zeroByteIn(x uint64) uint64 { return (x - 0x0101010101010101) &^ x }

// plainStringByte marks the bytes a JSON string holds as themselves: printable
// ASCII other than the quote and the backslash.
var plainStringByte = func() (t [256]bool) {
	for c := 0x20; c < 0x80; c++ {
		t[c] = c != '"' && c != '\\'
	}
	return t
}()

// number reads a JSON number and returns its text (RFC 8259 §6).
func (d *jsonReader) number() (string, bool) {
	start := d.i
	d.consume('-')
	switch {
	case d.consume('0'):
	case d.digits() == 0:
		return "", false
	}
	if d.consume('.') && d.digits() == 0 {
		return "", false
	}
	if d.consume('e') || d.consume('E') {
		if !d.consume('+') {
			d.consume('-')
		}
		if d.digits() == 0 {
			return "", false
		}
	}
	return d.s[start:d.i], true
}

// float reads a JSON number as encoding/json reads it into an any.
func (d *jsonReader) float() (float64, bool) {
	lit, ok := d.number()
	if !ok {
		return 0, false
	}
	f, err := strconv.ParseFloat(lit, 64)
	return f, err == nil
}

func (d *jsonReader) digits() int {
	start := d.i
	for d.i < len(d.s) && d.s[d.i] >= '0' && d.s[d.i] <= '9' {
		d.i++
	}
	return d.i - start
}

// value reads any JSON value as encoding/json decodes it into an any.
func (d *jsonReader) value() (any, bool) {
	if d.i >= len(d.s) {
		return nil, false
	}
	switch c := d.s[d.i]; {
	case c == '"':
		return d.string()
	case c == '-' || (c >= '0' && c <= '9'):
		return d.float()
	case strings.HasPrefix(d.s[d.i:], "true"):
		d.i += 4
		return true, true
	case strings.HasPrefix(d.s[d.i:], "false"):
		d.i += 5
		return false, true
	case strings.HasPrefix(d.s[d.i:], "null"):
		d.i += 4
		return nil, true
	case c == '{' || c == '[':
		// Objects and arrays are rare in access tokens: encoding/json reads
		// exactly one value, and its offset says where the value ended.
		dec := json.NewDecoder(strings.NewReader(d.s[d.i:]))
		var v any
		if err := dec.Decode(&v); err != nil {
			return nil, false
		}
		d.i += int(dec.InputOffset())
		return v, true
	}
	return nil, false
}

// appendJSONString appends s as a JSON string.
func appendJSONString(dst []byte, s string) []byte {
	if encodesAsItself(s) {
		dst = append(dst, '"')
		dst = append(dst, s...)
		return append(dst, '"')
	}
	b, _ := json.Marshal(s) // escapes and UTF-8 repair as encoding/json does them
	return append(dst, b...)
}

// appendJSONValue appends an identity claim value.
func appendJSONValue(dst []byte, v any) ([]byte, error) {
	switch v := v.(type) {
	case string:
		return appendJSONString(dst, v), nil
	case bool:
		return strconv.AppendBool(dst, v), nil
	case nil:
		return append(dst, "null"...), nil
	}
	b, err := json.Marshal(v)
	if err != nil {
		return dst, err
	}
	return append(dst, b...), nil
}
