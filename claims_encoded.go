package oauthproxy

import (
	"bytes"
	"fmt"
	"slices"
)

// A grant's identity claims are encoded once, when the grant is made, into
// the JSON object its access tokens carry, and stored that way: every token
// of the grant splices the object's members into its claims set instead of
// decoding a map from the stored grant and encoding it again (issue 16: the
// map was a seventh of the bytes a whole flow allocated). The stored form is
// the same JSON object encoding/json writes for a map, so grants stored by
// earlier versions read back unchanged.

// encodeIdentityClaims returns the JSON object of claims without the reserved
// ones (the proxy alone sets those, RFC 9068 §2.2), names sorted so tokens are
// deterministic, values escaped as the token encoder escapes them; nil when
// nothing is left.
func encodeIdentityClaims(claims map[string]any) ([]byte, error) {
	members, err := appendExtraClaims(make([]byte, 0, 256), claims)
	if err != nil || len(members) == 0 {
		return nil, err
	}
	members[0] = '{' // appendExtraClaims starts every member with a comma
	return append(members, '}'), nil
}

// appendExtraClaims appends ,"name":value for each claim of extra that is not
// reserved, in name order.
func appendExtraClaims(p []byte, extra map[string]any) ([]byte, error) {
	if len(extra) == 0 {
		return p, nil
	}
	names := make([]string, 0, len(extra))
	for name := range extra {
		if !reservedClaims[name] {
			names = append(names, name)
		}
	}
	slices.Sort(names) // deterministic tokens
	var err error
	for _, name := range names {
		p = append(p, ',')
		p = appendJSONString(p, name)
		p = append(p, ':')
		if p, err = appendJSONValue(p, extra[name]); err != nil {
			return p, fmt.Errorf("claim %q: %w", name, err)
		}
	}
	return p, nil
}

// objectMembers returns what stands between the braces of a stored claims
// object; ok is false when obj is not braced. The stored object is the
// proxy's own (sealed at rest), so its members are not parsed again.
func objectMembers(obj []byte) (members []byte, ok bool) {
	obj = bytes.TrimSpace(obj)
	if len(obj) < 2 || obj[0] != '{' || obj[len(obj)-1] != '}' {
		return nil, false
	}
	return bytes.TrimSpace(obj[1 : len(obj)-1]), true
}
