package providers_test

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"testing"
	"time"

	"github.com/oauthproxy-go/oauthproxy"
	"github.com/oauthproxy-go/oauthproxy/oauthproxytest"
	"github.com/oauthproxy-go/oauthproxy/providers"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// testTenant is the Entra tenant id of the fake's user.
const testTenant = "72f988bf-86f1-41af-91ab-2d7cd011db47"

// preset is one provider preset pointed at a fake shaped like its provider.
type preset struct {
	name string
	// idp adds the provider's quirks to the fake's options.
	idp func(*oauthproxytest.Options)
	// config applies the preset, pointed at idp.
	config func(t *testing.T, idp *oauthproxytest.Server, base oauthproxy.Config) oauthproxy.Config
}

// oidcPresets are the presets that verify id_tokens.
var oidcPresets = []preset{
	{
		name: "oidc",
		idp:  func(*oauthproxytest.Options) {},
		config: func(t *testing.T, idp *oauthproxytest.Server, base oauthproxy.Config) oauthproxy.Config {
			cfg, err := providers.OIDC(context.Background(), idp.Issuer(), base)
			require.NoError(t, err)
			return cfg
		},
	},
	{
		name: "google",
		idp:  func(o *oauthproxytest.Options) { o.GoogleOfflineAccess = true },
		config: func(t *testing.T, idp *oauthproxytest.Server, base oauthproxy.Config) oauthproxy.Config {
			m, err := providers.Discover(context.Background(), idp.Issuer(), nil)
			require.NoError(t, err)
			cfg, err := providers.GoogleOptions{Metadata: m}.Apply(base)
			require.NoError(t, err)
			return cfg
		},
	},
	{
		name: "entra",
		idp: func(o *oauthproxytest.Options) {
			o.EntraTenantID, o.AuthMethod = testTenant, oauthproxytest.AuthMethodPost
			o.RefreshTokenRequiresOfflineAccess = true
		},
		config: func(t *testing.T, idp *oauthproxytest.Server, base oauthproxy.Config) oauthproxy.Config {
			cfg, err := providers.EntraOptions{Tenant: testTenant, Authority: idp.URL()}.Apply(base)
			require.NoError(t, err)
			return cfg
		},
	},
}

// startPreset starts the fake with the preset's quirks plus opts, and a proxy
// configured by the preset.
func startPreset(t *testing.T, p preset, opts oauthproxytest.Options) (*oauthproxytest.Server, *proxy) {
	t.Helper()
	opts.IssueIDToken, opts.RequirePKCE = true, true
	p.idp(&opts)
	idp := newIdP(t, opts)
	return idp, startProxy(t, p.config(t, idp, baseConfig()))
}

// TestForgedIDTokenFailsLogin drives logins through the proxy whose upstream
// returns an id_token that OIDC Core §3.1.3.7 says to reject. Each must end at
// the client as an error redirect with state and iss and without a code, and
// leave no grant behind.
func TestForgedIDTokenFailsLogin(t *testing.T) {
	past := time.Now().Add(-2 * time.Hour)
	for _, forgery := range []struct {
		name string
		opts oauthproxytest.Options
	}{
		{"bad signature", oauthproxytest.Options{ForgeIDTokenSignature: true}},
		{"wrong audience", oauthproxytest.Options{IDTokenClaims: map[string]any{"aud": "another-client"}}},
		{"wrong issuer", oauthproxytest.Options{IDTokenClaims: map[string]any{"iss": "https://idp.example.com"}}},
		{"expired", oauthproxytest.Options{IDTokenClaims: map[string]any{"iat": past.Unix(), "exp": past.Add(time.Hour).Unix()}}},
		{"not yet valid", oauthproxytest.Options{IDTokenClaims: map[string]any{"nbf": time.Now().Add(time.Hour).Unix()}}},
		{"several audiences, no azp", oauthproxytest.Options{IDTokenClaims: map[string]any{"aud": []string{upstreamID, "another-client"}}}},
		{"azp of another client", oauthproxytest.Options{IDTokenClaims: map[string]any{"azp": "another-client"}}},
		{"no subject", oauthproxytest.Options{IDTokenClaims: map[string]any{"sub": nil}}},
	} {
		for _, p := range oidcPresets {
			t.Run(forgery.name+"/"+p.name, func(t *testing.T) {
				t.Parallel()
				idp, px := startPreset(t, p, forgery.opts)
				c := px.register()
				q := px.loginFails(c, oauthproxy.ErrCodeServerError)
				assert.NotContains(t, q.Get("error_description"), "id_token", "internal detail must not reach the client")
				assert.Equal(t, 1, idp.Stats().CodeExchanges, "the upstream code was redeemed and its tokens dropped")
			})
		}
	}
}

// TestValidIDTokenControl is the control for TestForgedIDTokenFailsLogin: the
// same setup without a forgery signs in.
func TestValidIDTokenControl(t *testing.T) {
	for _, p := range oidcPresets {
		t.Run(p.name, func(t *testing.T) {
			_, px := startPreset(t, p, oauthproxytest.Options{})
			tok := px.login(px.register(), "")
			assert.Equal(t, oauthproxytest.DefaultUser.Subject, px.claims(tok.AccessToken).Subject)
		})
	}
}

// TestIDTokenSignatureAlgorithms hands the preset's extractor id_tokens that
// only a careless verifier accepts: unsigned, HMAC-signed, or with the JOSE
// header tampered with (RFC 8725 §2.1, §3.1).
func TestIDTokenSignatureAlgorithms(t *testing.T) {
	idp := newIdP(t, oauthproxytest.Options{IssueIDToken: true})
	cfg, err := providers.OIDC(context.Background(), idp.Issuer(), baseConfig())
	require.NoError(t, err)
	now := time.Now()
	claims := map[string]any{
		"iss": idp.Issuer(), "aud": upstreamID, "sub": "user-1",
		"iat": now.Unix(), "exp": now.Add(time.Hour).Unix(), "email": "user@example.com",
	}
	valid := idp.SignIDToken(claims)
	enc := base64.RawURLEncoding
	body, _ := json.Marshal(claims)
	segment := func(v any) string { b, _ := json.Marshal(v); return enc.EncodeToString(b) }
	hs256 := func(secret []byte) string {
		input := segment(map[string]string{"alg": "HS256", "typ": "JWT"}) + "." + enc.EncodeToString(body)
		mac := hmac.New(sha256.New, secret)
		mac.Write([]byte(input))
		return input + "." + enc.EncodeToString(mac.Sum(nil))
	}
	resp, err := cfg.HTTPClient.Get(idp.JWKSURL())
	require.NoError(t, err)
	jwks := make([]byte, 4096)
	n, _ := resp.Body.Read(jwks)
	resp.Body.Close()

	extract := func(idToken string) (map[string]any, error) {
		return cfg.ClaimsExtractor(context.Background(), &oauthproxy.UpstreamTokens{AccessToken: "at", IDToken: idToken})
	}
	got, err := extract(valid)
	require.NoError(t, err, "control")
	assert.Equal(t, "user-1", got["sub"])

	for name, tok := range map[string]string{
		"alg none":               segment(map[string]string{"alg": "none"}) + "." + enc.EncodeToString(body) + ".",
		"HS256 with a secret":    hs256([]byte("guessable")),
		"HS256 keyed with JWKS":  hs256(jwks[:n]),
		"payload swapped":        valid[:len(segment(nil))] + "." + enc.EncodeToString([]byte(`{"sub":"admin"}`)) + valid[len(valid)-10:],
		"signature of another":   valid[:lastDot(valid)] + idp.SignIDToken(map[string]any{"sub": "x"})[lastDot(valid):],
		"not a JWT":              "not-a-jwt",
		"at_hash of other token": idp.SignIDToken(withClaim(claims, "at_hash", "AAAAAAAAAAAAAAAAAAAAAA")),
	} {
		t.Run(name, func(t *testing.T) {
			_, err := extract(tok)
			require.Error(t, err)
		})
	}
}

func lastDot(s string) int {
	for i := len(s) - 1; i >= 0; i-- {
		if s[i] == '.' {
			return i
		}
	}
	return -1
}

func withClaim(m map[string]any, k string, v any) map[string]any {
	out := make(map[string]any, len(m)+1)
	for kk, vv := range m {
		out[kk] = vv
	}
	out[k] = v
	return out
}

// TestReservedClaimsCannotBeOverridden: whatever an extractor returns, and
// even when PassthroughClaims names them, the claims that say what a token is
// and grants (iss, aud, exp, scope, client_id, …) come from the proxy alone.
func TestReservedClaimsCannotBeOverridden(t *testing.T) {
	hostile := map[string]any{
		"iss": "https://evil.example.com", "aud": "https://evil.example.com/mcp",
		"scope": "admin", "scp": "admin", "client_id": "evil-client", "azp": "evil-client",
		"exp": float64(4102444800), "iat": float64(1), "nbf": float64(4102444800), "jti": "fixed",
		"typ": "refresh", "gid": "someone-elses-grant", "cnf": map[string]any{"jkt": "x"},
	}
	reserved := []string{"iss", "aud", "exp", "iat", "nbf", "jti", "scope", "client_id", "typ", "gid", "cnf", "azp"}

	check := func(t *testing.T, px *proxy, c client, tok oauthproxy.TokenResponse) {
		t.Helper()
		pl := payload(t, tok.AccessToken)
		assert.Equal(t, px.url, pl["iss"])
		assert.Equal(t, px.url+"/mcp", pl["aud"])
		assert.Equal(t, "openid profile email", pl["scope"])
		assert.Equal(t, c.id, pl["client_id"])
		assert.NotEqual(t, "fixed", pl["jti"])
		assert.NotContains(t, pl, "cnf")
		assert.NotContains(t, pl, "azp")
		assert.NotContains(t, pl, "nbf")
		exp := time.Unix(int64(pl["exp"].(float64)), 0)
		assert.WithinDuration(t, time.Now().Add(oauthproxy.DefaultAccessTokenTTL), exp, time.Minute)
		claims := px.claims(tok.AccessToken)
		assert.Equal(t, []string{"openid", "profile", "email"}, claims.Scopes)
		assert.Equal(t, c.id, claims.ClientID)
		assert.Equal(t, "user@example.com", claims.Extra["email"], "identity claims still pass")
		assert.NotContains(t, claims.Extra, "scp", "not on the allow-list")
	}

	t.Run("extractor wrapping a preset", func(t *testing.T) {
		idp := newIdP(t, oauthproxytest.Options{IssueIDToken: true})
		base := baseConfig()
		base.PassthroughClaims = append([]string{"email"}, reserved...)
		cfg, err := providers.OIDC(context.Background(), idp.Issuer(), base)
		require.NoError(t, err)
		verified := cfg.ClaimsExtractor
		cfg.ClaimsExtractor = func(ctx context.Context, t *oauthproxy.UpstreamTokens) (map[string]any, error) {
			claims, err := verified(ctx, t)
			if err != nil {
				return nil, err
			}
			for k, v := range hostile {
				claims[k] = v
			}
			return claims, nil
		}
		px := startProxy(t, cfg)
		c := px.register()
		check(t, px, c, px.login(c, ""))
	})

	t.Run("signed by the provider", func(t *testing.T) {
		// A provider's id_token may carry such claims for its own purposes;
		// verified or not, they describe the upstream token, not ours.
		h := withClaim(hostile, "aud", upstreamID) // keep it verifiable
		delete(h, "iss")
		delete(h, "exp")
		delete(h, "iat")
		delete(h, "nbf")
		delete(h, "azp")
		idp := newIdP(t, oauthproxytest.Options{IssueIDToken: true, IDTokenClaims: h})
		base := baseConfig()
		base.PassthroughClaims = append([]string{"email"}, reserved...)
		cfg, err := providers.OIDC(context.Background(), idp.Issuer(), base)
		require.NoError(t, err)
		px := startProxy(t, cfg)
		c := px.register()
		check(t, px, c, px.login(c, ""))
	})
}
