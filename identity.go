package oauthproxy

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"

	"github.com/oauthproxy-go/oauthproxy/internal/upstream"
)

// profileClaims are the identity claims the default extractor keeps: OIDC
// Core §5.1 standard claims that describe the user, nothing that grants access.
var profileClaims = []string{
	"sub", "email", "email_verified", "name", "preferred_username",
	"given_name", "family_name", "picture", "locale",
}

// maxUserInfoSize caps the userinfo response read.
const maxUserInfoSize = 64 << 10

// identityClaims runs the configured ClaimsExtractor, or the default one.
func (p *Proxy) identityClaims(ctx context.Context, tok *upstream.Token) (map[string]any, error) {
	if p.cfg.ClaimsExtractor != nil {
		return p.cfg.ClaimsExtractor(ctx, upstreamTokensFrom(tok))
	}
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
	return pick(claims, profileClaims), nil
}

// idTokenClaims reads the id_token the upstream token endpoint returned. It came
// straight from the token endpoint over TLS, which OIDC Core §3.1.3.7 (item 6)
// accepts in place of a signature check; the audience must still name the
// proxy's upstream client (item 3).
func (p *Proxy) idTokenClaims(idToken string) (map[string]any, error) {
	parts := strings.Split(idToken, ".")
	if len(parts) != 3 {
		return nil, errors.New("oauthproxy: id_token is not a JWT")
	}
	payload, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		return nil, fmt.Errorf("oauthproxy: id_token payload: %w", err)
	}
	var claims map[string]any
	if err := json.Unmarshal(payload, &claims); err != nil {
		return nil, fmt.Errorf("oauthproxy: id_token payload: %w", err)
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
	return claims, nil
}

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
		switch id := info["id"].(type) {
		case json.Number:
			info["sub"] = id.String()
		case string:
			info["sub"] = id
		}
	}
	if _, ok := info["preferred_username"]; !ok {
		if login, ok := info["login"].(string); ok {
			info["preferred_username"] = login
		}
	}
	if n, ok := info["sub"].(json.Number); ok {
		info["sub"] = n.String()
	}
	return info, nil
}

// pick keeps only the named claims.
func pick(m map[string]any, names []string) map[string]any {
	out := make(map[string]any, len(names))
	for _, n := range names {
		if v, ok := m[n]; ok {
			out[n] = v
		}
	}
	return out
}

// withoutReserved drops the claims only the proxy may set (sub is kept: it is
// the identity the grant carries separately).
func withoutReserved(m map[string]any) map[string]any {
	out := make(map[string]any, len(m))
	for k, v := range m {
		if !reservedClaims[k] {
			out[k] = v
		}
	}
	return out
}
