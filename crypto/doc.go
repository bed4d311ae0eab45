// Package crypto holds the proxy's symmetric key handling: key generation, key
// derivation and the versioned AES-256-GCM sealing used for values at rest (SECURITY.md
// S15, RFC 9700 §4.14).
//
// It depends only on the standard library so that every backend can use it without
// pulling in extra modules.
package crypto
