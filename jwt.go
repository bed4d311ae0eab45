package oauthproxy

import (
	"errors"
	"fmt"
	"time"

	"github.com/golang-jwt/jwt/v5"
	opcrypto "github.com/oauthproxy-go/oauthproxy/crypto"
)

// accessTokenType is the JWT "typ" header of the proxy's access tokens
// (RFC 9068 §2.1). It is the type marker that keeps an access token from being
// accepted anywhere else (RFC 8725 §3.11).
const accessTokenType = "at+jwt"

// signingMethod is pinned: verification accepts nothing else, so neither "none"
// nor an RS/HS confusion can get through (RFC 8725 §3.1).
var signingMethod = jwt.SigningMethodHS256

// reservedClaims can never be set by a ClaimsExtractor: they carry the token's
// meaning (RFC 9068 §2.2) and the proxy alone decides them.
var reservedClaims = map[string]bool{
	"iss": true, "aud": true, "exp": true, "iat": true, "nbf": true, "jti": true,
	"sub": true, "scope": true, "client_id": true, "typ": true, "gid": true,
	"auth_time": true, "acr": true, "amr": true, "cnf": true, "azp": true,
}

// Claims describe the caller of a protected request: what the proxy's access
// token says (RFC 9068 §2.2). RequireBearer puts them in the request context.
type Claims struct {
	Subject   string         // upstream user id
	ClientID  string         // the MCP client the token was issued to
	Scopes    []string       // granted scopes
	Audience  string         // the protected resource (RFC 8707)
	ExpiresAt time.Time      // expiry
	IssuedAt  time.Time      // issue time
	TokenID   string         // jti
	GrantID   string         // the grant the token belongs to
	Extra     map[string]any // identity claims from the ClaimsExtractor (email, name …)
}

// tokenSigner issues and verifies the proxy's access-token JWTs with a key
// ring: the first key signs, any key verifies, chosen by the header's kid.
type tokenSigner struct {
	key    []byte            // signing key
	kid    string            // its id
	keys   map[string][]byte // kid → verification key
	issuer string
	now    func() time.Time
	parser *jwt.Parser
}

func newTokenSigner(ring [][]byte, issuer string, now func() time.Time) *tokenSigner {
	keys := make(map[string][]byte, len(ring))
	for _, k := range ring {
		keys[opcrypto.KeyID(k)] = k
	}
	return &tokenSigner{
		key:    ring[0],
		kid:    opcrypto.KeyID(ring[0]),
		keys:   keys,
		issuer: issuer,
		now:    now,
		parser: jwt.NewParser(
			jwt.WithValidMethods([]string{signingMethod.Alg()}),
			jwt.WithIssuer(issuer),
			jwt.WithExpirationRequired(),
			jwt.WithIssuedAt(),
			jwt.WithTimeFunc(now),
		),
	}
}

// issue signs an access token for c, valid for ttl.
func (t *tokenSigner) issue(c *Claims, ttl time.Duration) (string, time.Time, error) {
	now := t.now().Truncate(time.Second)
	exp := now.Add(ttl)
	claims := jwt.MapClaims{}
	for k, v := range c.Extra {
		if !reservedClaims[k] {
			claims[k] = v
		}
	}
	claims["iss"] = t.issuer
	claims["aud"] = c.Audience
	claims["client_id"] = c.ClientID
	claims["iat"] = now.Unix()
	claims["exp"] = exp.Unix()
	claims["jti"] = c.TokenID
	claims["gid"] = c.GrantID
	if c.Subject != "" {
		claims["sub"] = c.Subject
	}
	if len(c.Scopes) > 0 {
		claims["scope"] = joinScope(c.Scopes)
	}
	tok := jwt.NewWithClaims(signingMethod, claims)
	tok.Header["typ"] = accessTokenType
	tok.Header["kid"] = t.kid
	signed, err := tok.SignedString(t.key)
	if err != nil {
		return "", time.Time{}, fmt.Errorf("oauthproxy: signing access token: %w", err)
	}
	return signed, exp, nil
}

// verify checks signature, algorithm, type, issuer, audience and expiry, and
// returns the claims. Errors wrap ErrInvalidToken or ErrTokenExpired.
func (t *tokenSigner) verify(raw, audience string) (*Claims, error) {
	claims := jwt.MapClaims{}
	_, err := t.parser.ParseWithClaims(raw, claims, func(tok *jwt.Token) (any, error) {
		if typ, _ := tok.Header["typ"].(string); typ != accessTokenType {
			return nil, errors.New("not an access token")
		}
		kid, _ := tok.Header["kid"].(string)
		key, ok := t.keys[kid]
		if !ok {
			return nil, errors.New("unknown key id")
		}
		return key, nil
	})
	if err != nil {
		if errors.Is(err, jwt.ErrTokenExpired) {
			return nil, fmt.Errorf("%w: %w", ErrTokenExpired, err)
		}
		return nil, fmt.Errorf("%w: %w", ErrInvalidToken, err)
	}
	return claimsFromJWT(claims, audience)
}

// claimsFromJWT checks the audience and the required private claims, then
// converts to Claims.
func claimsFromJWT(m jwt.MapClaims, audience string) (*Claims, error) {
	aud, err := m.GetAudience()
	if err != nil || len(aud) != 1 || aud[0] != audience {
		// RFC 8707 §2 / RFC 9068 §4: the token must be meant for this resource.
		return nil, fmt.Errorf("%w: audience mismatch", ErrInvalidToken)
	}
	c := &Claims{Audience: aud[0]}
	var ok bool
	if c.ClientID, ok = m["client_id"].(string); !ok || c.ClientID == "" {
		return nil, fmt.Errorf("%w: missing client_id", ErrInvalidToken)
	}
	if c.GrantID, ok = m["gid"].(string); !ok || c.GrantID == "" {
		return nil, fmt.Errorf("%w: missing grant id", ErrInvalidToken)
	}
	c.Subject, _ = m["sub"].(string)
	c.TokenID, _ = m["jti"].(string)
	if scope, _ := m["scope"].(string); scope != "" {
		c.Scopes, _ = parseScope(scope)
	}
	if exp, err := m.GetExpirationTime(); err == nil && exp != nil {
		c.ExpiresAt = exp.Time
	}
	if iat, err := m.GetIssuedAt(); err == nil && iat != nil {
		c.IssuedAt = iat.Time
	}
	for k, v := range m {
		if !reservedClaims[k] {
			if c.Extra == nil {
				c.Extra = map[string]any{}
			}
			c.Extra[k] = v
		}
	}
	return c, nil
}
