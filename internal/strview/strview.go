// Package strview lends a string's bytes to a function that only reads them
// (a hash, a decoder), without the copy a []byte(s) conversion makes: for
// more than 32 bytes that copy is a heap allocation even when it does not
// escape (issue 16: every token, code and key hashed in a sign-in is 43
// bytes or more).
package strview

import "unsafe"

// Bytes returns s's bytes. They must never be written: a string's bytes may
// be in read-only memory, and other strings may share them.
func Bytes(s string) []byte {
	return unsafe.Slice(unsafe.StringData(s), len(s))
}
