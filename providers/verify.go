package providers

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	"github.com/oauthproxy-go/oauthproxy"
)

// asymmetricAlgs are the id_token signature algorithms accepted: public-key
// ones only, so neither "none" nor an HMAC keyed with a public key can pass
// (RFC 8725 §3.1, §2.1).
var asymmetricAlgs = []string{
	oidc.RS256, oidc.RS384, oidc.RS512,
	oidc.ES256, oidc.ES384, oidc.ES512,
	oidc.PS256, oidc.PS384, oidc.PS512,
	oidc.EdDSA,
}

// idTokenOptions configure an idTokenVerifier.
type idTokenOptions struct {
	metadata *Metadata
	clientID string
	client   *http.Client
	now      func() time.Time
	// issuer, when set, replaces the exact comparison of iss with
	// metadata.Issuer, for issuers that depend on the user (Entra's tenant).
	issuer func(iss string, claims map[string]any) error
	// check adds a provider's own rules (Google's hd, Entra's tenants).
	check func(claims map[string]any) error
}

// idTokenVerifier is the ClaimsExtractor of OpenID providers.
type idTokenVerifier struct {
	opts     idTokenOptions
	verifier *oidc.IDTokenVerifier
}

func newIDTokenVerifier(opts idTokenOptions) *idTokenVerifier {
	algs := slices.DeleteFunc(slices.Clone(opts.metadata.IDTokenSigningAlgValuesSupported), func(a string) bool {
		return !slices.Contains(asymmetricAlgs, a)
	})
	if len(algs) == 0 {
		algs = []string{oidc.RS256} // OIDC Discovery §3: RS256 MUST be supported
	}
	// The key set caches keys and fetches again when it meets an unknown kid,
	// so provider key rotation needs nothing from us.
	keys := oidc.NewRemoteKeySet(oidc.ClientContext(context.Background(), opts.client), opts.metadata.JWKSURI)
	return &idTokenVerifier{
		opts: opts,
		verifier: oidc.NewVerifier(opts.metadata.Issuer, keys, &oidc.Config{
			ClientID:             opts.clientID,
			SupportedSigningAlgs: algs,
			SkipIssuerCheck:      opts.issuer != nil, // checked below instead
			Now:                  opts.now,
		}),
	}
}

// claims returns the identity in the upstream token set: the claims of the
// id_token once verified (OIDC Core §3.1.3.7), else those of the userinfo
// endpoint (OIDC Core §5.3). The proxy keeps only sub and the PassthroughClaims
// of what it returns.
func (v *idTokenVerifier) claims(ctx context.Context, t *oauthproxy.UpstreamTokens) (map[string]any, error) {
	if t.IDToken == "" {
		if v.opts.metadata.UserInfoEndpoint == "" {
			return nil, errors.New("providers: the provider returned no id_token (was the openid scope requested?) and has no userinfo endpoint")
		}
		return v.userInfo(ctx, t.AccessToken)
	}
	claims, err := v.verify(ctx, t)
	if err != nil {
		return nil, fmt.Errorf("providers: id_token rejected: %w", err)
	}
	return claims, nil
}

func (v *idTokenVerifier) verify(ctx context.Context, t *oauthproxy.UpstreamTokens) (map[string]any, error) {
	// Signature with an allowed algorithm and a published key, iss (unless
	// checked below), aud containing our client id, exp and nbf.
	tok, err := v.verifier.Verify(ctx, t.IDToken)
	if err != nil {
		return nil, err
	}
	var claims map[string]any
	if err := tok.Claims(&claims); err != nil {
		return nil, err
	}
	if v.opts.issuer != nil {
		if err := v.opts.issuer(tok.Issuer, claims); err != nil {
			return nil, err
		}
	}
	// OIDC Core §3.1.3.7 items 4 and 5: with several audiences the token must
	// say it was issued to us (azp); an azp naming someone else is refused.
	azp, hasAZP := claims["azp"]
	if len(tok.Audience) > 1 && !hasAZP {
		return nil, errors.New("id_token has several audiences and no azp")
	}
	if hasAZP && azp != v.opts.clientID {
		return nil, fmt.Errorf("id_token azp %v is not the upstream client", azp)
	}
	// OIDC Core §3.1.3.8: when present, at_hash binds the id_token to the
	// access token it came with.
	if tok.AccessTokenHash != "" {
		if err := tok.VerifyAccessToken(t.AccessToken); err != nil {
			return nil, err
		}
	}
	if sub, _ := claims["sub"].(string); sub == "" {
		return nil, errors.New("id_token has no sub")
	}
	if v.opts.check != nil {
		if err := v.opts.check(claims); err != nil {
			return nil, err
		}
	}
	return claims, nil
}

// userInfo reads the OIDC Core §5.3 userinfo endpoint with the access token.
func (v *idTokenVerifier) userInfo(ctx context.Context, accessToken string) (map[string]any, error) {
	var info map[string]any
	h := http.Header{"Authorization": {"Bearer " + accessToken}}
	if err := getJSON(ctx, v.opts.client, v.opts.metadata.UserInfoEndpoint, h, &info); err != nil {
		return nil, fmt.Errorf("providers: userinfo: %w", err)
	}
	// OIDC Core §5.3.2: sub is always returned, as a string.
	if sub, _ := info["sub"].(string); sub == "" {
		return nil, errors.New("providers: userinfo has no sub")
	}
	if v.opts.check != nil {
		if err := v.opts.check(info); err != nil {
			return nil, fmt.Errorf("providers: userinfo: %w", err)
		}
	}
	return info, nil
}

// compile-time check that claims is a ClaimsExtractor.
var _ oauthproxy.ClaimsExtractor = (*idTokenVerifier)(nil).claims
