package upstream

import "strings"

// GrantedScopes splits the scope of the token response, the scope the upstream
// says it granted (RFC 6749 §5.1, §3.3). RFC 6749 delimits it with spaces;
// GitHub uses commas ("read:user,user:email"), so both separate. said is
// false when the response carried no scope: RFC 6749 §5.1 then means the
// granted scope is the one requested.
func (t *Token) GrantedScopes() (scopes []string, said bool) {
	scopes = strings.FieldsFunc(t.Scope, func(r rune) bool { return r == ' ' || r == ',' })
	return scopes, len(scopes) > 0
}
