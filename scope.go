package oauthproxy

import "strings"

// validScopeToken reports whether s is a scope-token (RFC 6749 §3.3):
// 1*( %x21 / %x23-5B / %x5D-7E ).
func validScopeToken(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < 0x21 || c > 0x7e || c == '"' || c == '\\' {
			return false
		}
	}
	return true
}

// parseScope splits a space-delimited scope parameter (RFC 6749 §3.3), dropping
// duplicates and keeping order. ok is false when a token is malformed.
func parseScope(raw string) (scopes []string, ok bool) {
	seen := map[string]bool{}
	for _, s := range strings.Split(raw, " ") {
		if s == "" {
			continue
		}
		if !validScopeToken(s) {
			return nil, false
		}
		if !seen[s] {
			seen[s] = true
			scopes = append(scopes, s)
		}
	}
	return scopes, true
}

// joinScope renders scopes as the space-delimited wire form.
func joinScope(scopes []string) string { return strings.Join(scopes, " ") }

// subsetOf reports whether every scope in want is in have.
func subsetOf(want, have []string) bool {
	set := make(map[string]bool, len(have))
	for _, s := range have {
		set[s] = true
	}
	for _, s := range want {
		if !set[s] {
			return false
		}
	}
	return true
}

// checkScope parses a requested scope and enforces the configured allow-list.
// An empty request means the configured default set.
func (p *Proxy) checkScope(raw string) ([]string, *Error) {
	scopes, ok := parseScope(raw)
	if !ok {
		return nil, newError(ErrCodeInvalidScope, "scope is malformed")
	}
	if len(scopes) == 0 {
		return append([]string(nil), p.cfg.Scopes...), nil
	}
	if len(p.cfg.Scopes) > 0 {
		for _, s := range scopes {
			if !p.cfg.scopeSet[s] {
				// Never quote the requested scope back (S21): it is the
				// client's input and may be markup.
				return nil, newError(ErrCodeInvalidScope, "scope names a scope this server does not offer")
			}
		}
	}
	return scopes, nil
}
