package oauthproxytest

import (
	"slices"
	"strings"
)

// validScope reports whether every scope token uses only the characters that
// RFC 6749 §3.3 allows (%x21 / %x23-5B / %x5D-7E).
func validScope(scope string) bool {
	for i := 0; i < len(scope); i++ {
		c := scope[i]
		if c == ' ' {
			continue
		}
		if c < 0x21 || c == 0x22 || c == 0x5C || c > 0x7E {
			return false
		}
	}
	return true
}

// normalizeScope collapses runs of spaces so scopes compare and echo cleanly.
func normalizeScope(scope string) string {
	return strings.Join(strings.Fields(scope), " ")
}

// hasScope reports whether the space-delimited scope holds token.
func hasScope(scope, token string) bool {
	for _, s := range strings.Fields(scope) {
		if s == token {
			return true
		}
	}
	return false
}

// scopeWithin reports whether every token of requested is in granted, the rule
// RFC 6749 §6 sets for narrowing a scope on refresh.
func scopeWithin(requested, granted string) bool {
	for _, s := range strings.Fields(requested) {
		if !hasScope(granted, s) {
			return false
		}
	}
	return true
}

// withoutScopes returns scope without the tokens in drop.
func withoutScopes(scope string, drop []string) string {
	kept := make([]string, 0, len(drop))
	for _, s := range strings.Fields(scope) {
		if !slices.Contains(drop, s) {
			kept = append(kept, s)
		}
	}
	return strings.Join(kept, " ")
}
