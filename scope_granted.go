package oauthproxy

import (
	"slices"

	"github.com/oauthproxy-go/oauthproxy/internal/upstream"
)

// Scope limits decided once and applied on use (SECURITY.md S22, RFC 6749 §3.3):
// a client's registered scope bounds what it may request, and the upstream's
// granted scope bounds what the proxy's tokens say.

// intersectScopes returns the scopes of want that are also in have, in want's
// order.
func intersectScopes(want, have []string) []string {
	out := make([]string, 0, len(want))
	for _, s := range want {
		if slices.Contains(have, s) {
			out = append(out, s)
		}
	}
	return out
}

// limitToRegisteredScope applies the client's registered scope (RFC 7591 §2)
// to an /authorize request that already passed checkScope: a client that
// registered a scope may request nothing outside it (invalid_scope, which may
// be redirected: it is not about client_id or redirect_uri), and when it
// requests nothing it gets the default set narrowed to its registered scope.
// A client that registered no scope is limited by Config.Scopes alone.
func limitToRegisteredScope(client *clientRecord, requestedNothing bool, scopes []string) ([]string, *Error) {
	registered, ok := parseScope(client.Scope)
	if !ok || len(registered) == 0 {
		// Registration validated the scope; a record that fails to parse
		// (a Client ID Metadata Document's, checked by the cimd package)
		// limits nothing more than Config.Scopes already does.
		return scopes, nil
	}
	if requestedNothing {
		narrowed := intersectScopes(scopes, registered)
		if len(narrowed) == 0 && len(scopes) > 0 {
			// RFC 6749 §3.3: with no usable default, fail rather than send
			// the upstream a request without scope, which its own default
			// would fill.
			return nil, newError(ErrCodeInvalidScope, "scope is required: this client registered none of the default scopes")
		}
		return narrowed, nil
	}
	if !subsetOf(scopes, registered) {
		return nil, newError(ErrCodeInvalidScope, "scope exceeds the scope this client registered")
	}
	return scopes, nil
}

// grantedScopeAliases are other names upstreams give a requested scope in
// the scope they grant: Google answers "email" and "profile" with its
// userinfo URLs.
var grantedScopeAliases = map[string][]string{
	"email":   {"https://www.googleapis.com/auth/userinfo.email"},
	"profile": {"https://www.googleapis.com/auth/userinfo.profile"},
}

// grantedScopes narrows requested to what the upstream granted, when its token
// response says (RFC 6749 §5.1: scope is returned when it differs from the
// request; absent, the grant is what was requested). A scope counts as
// granted when the upstream lists it or an alias of it, and for the two
// OpenID Connect scopes that ask for a kind of token rather than an API
// permission, when that token came back: "openid" with an id_token (OpenID
// Connect Core §3.1.3.3), "offline_access" with a refresh token (§11;
// Microsoft Entra ID never lists it).
func grantedScopes(requested []string, tok *upstream.Token) []string {
	granted, said := tok.GrantedScopes()
	if !said {
		return requested
	}
	out := make([]string, 0, len(requested))
	for _, s := range requested {
		ok := slices.Contains(granted, s) ||
			slices.ContainsFunc(grantedScopeAliases[s], func(alias string) bool { return slices.Contains(granted, alias) }) ||
			(s == "openid" && tok.IDToken != "") ||
			(s == "offline_access" && tok.RefreshToken != "")
		if ok {
			out = append(out, s)
		}
	}
	return out
}
