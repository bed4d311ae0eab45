package tokenverify

import (
	"errors"
	"slices"
	"strings"

	"github.com/golang-jwt/jwt/v5"
	"github.com/oauthproxy-go/oauthproxy"
)

// reservedClaims carry a token's meaning (RFC 9068 §2.2); the proxy never
// lets an upstream claim take one, and they never reach Claims.Extra.
var reservedClaims = map[string]bool{
	"iss": true, "aud": true, "exp": true, "iat": true, "nbf": true, "jti": true,
	"sub": true, "scope": true, "client_id": true, "typ": true, "gid": true,
	"auth_time": true, "acr": true, "amr": true, "cnf": true, "azp": true,
}

// claimsOf turns the claims golang-jwt has validated into the proxy's
// Claims, so handlers read them the same way on either side (with
// oauthproxy.ClaimsFromContext or mcpauth.ClaimsFromRequest).
func claimsOf(m jwt.MapClaims, resource string) (*oauthproxy.Claims, error) {
	str := func(name string) (string, error) {
		v, ok := m[name]
		if !ok {
			return "", nil
		}
		s, ok := v.(string)
		if !ok {
			return "", errors.New(name + " is not a string")
		}
		return s, nil
	}
	var c oauthproxy.Claims
	var errs []error
	for name, dst := range map[string]*string{
		"sub": &c.Subject, "client_id": &c.ClientID, "jti": &c.TokenID, "gid": &c.GrantID,
	} {
		s, err := str(name)
		errs = append(errs, err)
		*dst = s
	}
	scope, err := str("scope")
	errs = append(errs, err)
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	if c.ClientID == "" {
		return nil, errors.New("client_id is missing") // RFC 9068 §2.2
	}
	for s := range strings.FieldsSeq(scope) {
		if !slices.Contains(c.Scopes, s) {
			c.Scopes = append(c.Scopes, s)
		}
	}
	c.Audience = resource // the parser checked that aud names it
	exp, _ := m.GetExpirationTime()
	c.ExpiresAt = exp.Time
	if iat, _ := m.GetIssuedAt(); iat != nil {
		c.IssuedAt = iat.Time
	}
	for name, v := range m {
		if !reservedClaims[name] {
			if c.Extra == nil {
				c.Extra = map[string]any{}
			}
			c.Extra[name] = v
		}
	}
	return &c, nil
}
