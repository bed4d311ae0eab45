package oauthproxy

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/oauthproxy-go/oauthproxy/internal/strview"
	"github.com/oauthproxy-go/oauthproxy/internal/upstream"
	segjson "github.com/segmentio/encoding/json"
)

// DefaultPassthroughClaims are the upstream claims copied into the proxy's
// access tokens by default: OIDC Core §5.1 standard claims that describe the
// user, nothing that grants access.
var DefaultPassthroughClaims = []string{
	"email", "email_verified", "name", "preferred_username",
	"given_name", "family_name", "picture", "locale",
}

// Limits on what upstream identity may add to the proxy's tokens: a claim's
// JSON encoding, and all of them together. Access tokens travel in every MCP
// request's headers, so they must stay small.
const (
	maxClaimSize  = 1 << 10
	maxClaimsSize = 4 << 10
)

// maxUserInfoSize caps the userinfo response read.
const maxUserInfoSize = 64 << 10

// identityClaims runs the configured ClaimsExtractor, or the default one, and
// keeps only what may pass into the proxy's tokens: the allow-listed claims
// (PassthroughClaims), none of the reserved ones, within the size limits.
func (p *Proxy) identityClaims(ctx context.Context, tok *upstream.Token) (map[string]any, error) {
	var claims map[string]any
	var err error
	if p.cfg.ClaimsExtractor != nil {
		claims, err = p.cfg.ClaimsExtractor(ctx, upstreamTokensFrom(tok))
	} else {
		claims, err = p.defaultClaims(ctx, tok)
	}
	if err != nil {
		return nil, err
	}
	sub, err := subjectOf(claims["sub"])
	if err != nil {
		return nil, err
	}
	out := p.limitClaims(claims)
	if sub != "" {
		out["sub"] = sub
	}
	return out, nil
}

// limitClaims applies the allow-list in its order, drops reserved claims
// (sub too: identityClaims adds it back, as a string) and skips any claim that
// would break the size limits.
func (p *Proxy) limitClaims(in map[string]any) map[string]any {
	out := make(map[string]any, len(p.cfg.PassthroughClaims)+1)
	total := 0
	var scratch []byte // the claim as the token will carry it, to measure
	for _, name := range p.cfg.PassthroughClaims {
		v, ok := in[name]
		if !ok || reservedClaims[name] {
			continue
		}
		b, err := appendJSONValue(scratch[:0], v)
		scratch = b
		if err != nil || len(b) > maxClaimSize || total+len(b) > maxClaimsSize {
			p.log.Warn("oauthproxy: upstream claim dropped (too large or not JSON)", "claim", name)
			continue
		}
		total += len(b)
		out[name] = v
	}
	return out
}

// defaultClaims reads identity from the id_token, or from the userinfo
// endpoint when there is no id_token subject.
func (p *Proxy) defaultClaims(ctx context.Context, tok *upstream.Token) (map[string]any, error) {
	claims := map[string]any{}
	if tok.IDToken != "" {
		idClaims, err := p.idTokenClaims(tok.IDToken)
		if err != nil {
			return nil, err
		}
		claims = idClaims
	}
	if _, ok := claims["sub"]; !ok && p.cfg.UpstreamUserInfoEndpoint != "" {
		info, err := p.userInfo(ctx, tok.AccessToken)
		if err != nil {
			return nil, err
		}
		claims = info
	}
	return claims, nil
}

// idTokenClaims reads the id_token the upstream token endpoint returned. It came
// straight from the token endpoint over TLS, which OIDC Core §3.1.3.7 (item 6)
// accepts in place of a signature check; the audience must still name the
// proxy's upstream client (item 3).
func (p *Proxy) idTokenClaims(idToken string) (map[string]any, error) {
	// Three parts: header.payload.signature (RFC 7519 §7.2), cut without
	// making the slice strings.Split would (issue 16).
	_, afterHeader, ok1 := strings.Cut(idToken, ".")
	encoded, signature, ok2 := strings.Cut(afterHeader, ".")
	if !ok1 || !ok2 || strings.Contains(signature, ".") {
		return nil, errors.New("oauthproxy: id_token is not a JWT")
	}
	// Decoded into a reused buffer: the claims are copied out of it.
	buf := recordBufs.Get()
	defer recordBufs.Put(buf)
	// The decoder only reads its source: the string's bytes, not a copy.
	payload, err := base64.RawURLEncoding.AppendDecode((*buf)[:0], strview.Bytes(encoded))
	*buf = payload
	if err != nil {
		return nil, fmt.Errorf("oauthproxy: id_token payload: %w", err)
	}
	// UseNumber: a numeric sub must keep its digits (S22); through float64,
	// ids above 2^53 would round and two users would share one.
	// segmentio/encoding/json decodes as encoding/json does, in a fraction
	// of the time (issue 16; the same decoding as internal/upstream's
	// decodeJSON, tested against encoding/json there).
	claims := make(map[string]any, 16) // not segmentio's 64 (see upstream.decodeJSON)
	rest, err := segjson.Parse(payload, &claims, segjson.UseNumber)
	if err != nil {
		return nil, fmt.Errorf("oauthproxy: id_token payload: %w", err)
	}
	if len(bytes.TrimLeft(rest, " \t\r\n")) != 0 {
		return nil, errors.New("oauthproxy: id_token payload has data after the claims")
	}
	switch aud := claims["aud"].(type) {
	case string:
		if aud != p.cfg.UpstreamClientID {
			return nil, errors.New("oauthproxy: id_token audience is not the upstream client")
		}
	case []any:
		if !slices.Contains(aud, any(p.cfg.UpstreamClientID)) {
			return nil, errors.New("oauthproxy: id_token audience is not the upstream client")
		}
	default:
		return nil, errors.New("oauthproxy: id_token has no audience")
	}
	// OIDC Core §3.1.3.7 items 2 and 9: the issuer, when known, and the
	// validity window, with a little leeway for clock skew.
	if p.cfg.UpstreamIssuer != "" && claims["iss"] != p.cfg.UpstreamIssuer {
		return nil, errors.New("oauthproxy: id_token issuer is not the upstream issuer")
	}
	now := p.cfg.Now()
	exp, ok := numericDateClaim(claims["exp"])
	if !ok || now.After(time.Unix(int64(exp), 0).Add(idTokenLeeway)) {
		return nil, errors.New("oauthproxy: id_token is expired or has no exp")
	}
	if nbf, ok := numericDateClaim(claims["nbf"]); ok && now.Add(idTokenLeeway).Before(time.Unix(int64(nbf), 0)) {
		return nil, errors.New("oauthproxy: id_token is not yet valid")
	}
	return claims, nil
}

// numericDateClaim reads an RFC 7519 §2 NumericDate decoded with UseNumber.
func numericDateClaim(v any) (float64, bool) {
	n, ok := v.(json.Number)
	if !ok {
		return 0, false
	}
	f, err := n.Float64()
	return f, err == nil
}

// idTokenLeeway tolerates clock skew between the proxy and the upstream.
const idTokenLeeway = 2 * time.Minute

// userInfo calls UpstreamUserInfoEndpoint (OIDC Core §5.3, or GitHub's /user)
// and normalises the identity: GitHub's numeric id becomes sub, login becomes
// preferred_username.
func (p *Proxy) userInfo(ctx context.Context, accessToken string) (map[string]any, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, p.cfg.UpstreamUserInfoEndpoint, nil)
	if err != nil {
		return nil, fmt.Errorf("oauthproxy: userinfo request: %w", err)
	}
	req.Header.Set("Authorization", "Bearer "+accessToken)
	req.Header.Set("Accept", "application/json")
	resp, err := p.cfg.HTTPClient.Do(req)
	if err != nil {
		return nil, fmt.Errorf("oauthproxy: userinfo: %w", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("oauthproxy: userinfo: HTTP %d", resp.StatusCode)
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxUserInfoSize+1))
	if err != nil {
		return nil, fmt.Errorf("oauthproxy: userinfo: %w", err)
	}
	if len(body) > maxUserInfoSize {
		return nil, errors.New("oauthproxy: userinfo response too large")
	}
	var info map[string]any
	dec := json.NewDecoder(strings.NewReader(string(body)))
	dec.UseNumber()
	if err := dec.Decode(&info); err != nil {
		return nil, fmt.Errorf("oauthproxy: userinfo: %w", err)
	}
	if _, ok := info["sub"]; !ok {
		// GitHub's numeric id, still a json.Number: subjectOf keeps its digits.
		if id, ok := info["id"]; ok {
			info["sub"] = id
		}
	}
	if _, ok := info["preferred_username"]; !ok {
		if login, ok := info["login"].(string); ok {
			info["preferred_username"] = login
		}
	}
	return info, nil
}

// maxSafeFloatInteger is 2^53: from there on, float64 cannot tell n from n+1.
const maxSafeFloatInteger = 1 << 53

// subjectOf returns the user's identifier from a "sub" claim as an exact
// string (S22), or "" when there is none. OIDC Core §2 makes sub a string, but
// some upstreams (GitHub's numeric user id) and some ClaimsExtractors give a
// number: it is kept as exactly the decimal integer it was, and refused when
// that is not certain: a fraction or an exponent (1.5, 1.0, 1e3), -0, or a
// float64 whose magnitude is 2^53 or more, where two ids round to one number
// and two users would become one.
func subjectOf(v any) (string, error) {
	var sub string
	switch v := v.(type) {
	case nil:
		return "", nil
	case string:
		sub = v
	case json.Number:
		if !decimalInteger(string(v)) {
			return "", errors.New("oauthproxy: upstream sub is a number that is not a plain integer")
		}
		sub = string(v)
	case float64:
		if v != math.Trunc(v) || math.Abs(v) >= maxSafeFloatInteger || (v == 0 && math.Signbit(v)) {
			return "", errors.New("oauthproxy: upstream sub is a number that float64 cannot hold exactly; decode it with json.Decoder.UseNumber")
		}
		sub = strconv.FormatInt(int64(v), 10)
	case int:
		sub = strconv.Itoa(v)
	case int64:
		sub = strconv.FormatInt(v, 10)
	case uint64:
		sub = strconv.FormatUint(v, 10)
	default:
		return "", fmt.Errorf("oauthproxy: upstream sub is a %T, not a string or an integer", v)
	}
	if len(sub) > maxClaimSize {
		return "", fmt.Errorf("oauthproxy: upstream sub is longer than %d bytes", maxClaimSize)
	}
	return sub, nil
}

// decimalInteger reports whether s is an integer as JSON writes one, without
// a fraction, an exponent or a minus zero: -?(0|[1-9][0-9]*), not "-0".
func decimalInteger(s string) bool {
	digits := strings.TrimPrefix(s, "-")
	if digits == "" || (digits[0] == '0' && len(s) > 1) {
		return false // "", "-", leading zeros, "-0"
	}
	for i := 0; i < len(digits); i++ {
		if digits[i] < '0' || digits[i] > '9' {
			return false
		}
	}
	return true
}
