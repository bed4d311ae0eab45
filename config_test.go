package oauthproxy_test

// Config: what New refuses, the defaults it fills in (observed through
// behaviour, not internals), the generated-key warning, and the options that
// change how the flow runs, end to end over HTTP.

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/oauthproxy-go/oauthproxy"
	"github.com/oauthproxy-go/oauthproxy/internal/pkce"
	"github.com/oauthproxy-go/oauthproxy/oauthproxytest"
	"github.com/oauthproxy-go/oauthproxy/storage"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// validConfig is a minimal Config New accepts, with every key set.
func validConfig() oauthproxy.Config {
	return oauthproxy.Config{
		BaseURL:                       "https://mcp.example.com",
		UpstreamAuthorizationEndpoint: "https://idp.example.com/authorize",
		UpstreamTokenEndpoint:         "https://idp.example.com/token",
		UpstreamClientID:              "client",
		UpstreamClientSecret:          "secret",
		Scopes:                        []string{"read:user"},
		JWTSigningKey:                 testJWTKey,
		EncryptionKey:                 testEncKey,
		ConsentSigningKey:             testConsentKey,
		Logger:                        discardLogger(),
	}
}

func TestNew_AcceptsValidConfigs(t *testing.T) {
	tests := []struct {
		name   string
		mutate func(*oauthproxy.Config)
	}{
		{"minimal", func(*oauthproxy.Config) {}},
		{"trailing slash on BaseURL", func(c *oauthproxy.Config) { c.BaseURL += "/" }},
		{"BaseURL with a path", func(c *oauthproxy.Config) { c.BaseURL += "/auth" }},
		{"http on localhost", func(c *oauthproxy.Config) { c.BaseURL = "http://localhost:8080" }},
		{"http on 127.0.0.1", func(c *oauthproxy.Config) { c.BaseURL = "http://127.0.0.1:8080" }},
		{"http on [::1]", func(c *oauthproxy.Config) { c.BaseURL = "http://[::1]:8080" }},
		{"loopback upstream", func(c *oauthproxy.Config) {
			c.UpstreamAuthorizationEndpoint = "http://127.0.0.1:9999/authorize"
			c.UpstreamTokenEndpoint = "http://localhost:9999/token"
		}},
		{"no scopes", func(c *oauthproxy.Config) { c.Scopes = nil }},
		{"client_secret_post upstream", func(c *oauthproxy.Config) { c.UpstreamTokenEndpointAuthMethod = "client_secret_post" }},
		{"custom patterns", func(c *oauthproxy.Config) {
			c.AllowedRedirectURIPatterns = []string{"https://*.example.com/cb", "cursor://anysphere.cursor-retrieval/*", "http://127.0.0.1:*"}
		}},
		{"custom resource", func(c *oauthproxy.Config) { c.Resource = "https://api.example.com/mcp" }},
		{"custom redirect path", func(c *oauthproxy.Config) { c.RedirectPath = "/cb/github" }},
		{"long keys", func(c *oauthproxy.Config) {
			c.JWTSigningKey = []byte(strings.Repeat("j", 64))
			c.ConsentSigningKey = []byte(strings.Repeat("c", 64))
		}},
		{"encryption disabled without key", func(c *oauthproxy.Config) { c.EncryptionKey, c.DisableEncryption = nil, true }},
		{"all TTLs set", func(c *oauthproxy.Config) {
			c.AccessTokenTTL, c.RefreshTokenTTL, c.AuthorizationCodeTTL = time.Minute, time.Hour, time.Minute
			c.TransactionTTL, c.CleanupInterval = time.Minute, time.Second
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := validConfig()
			tt.mutate(&cfg)
			p, err := oauthproxy.New(cfg)
			require.NoError(t, err)
			p.Destroy()
		})
	}
}

func TestNew_Validation(t *testing.T) {
	short := []byte(strings.Repeat("k", 31))
	tests := []struct {
		name   string
		mutate func(*oauthproxy.Config)
		field  string // the error must name it
	}{
		{"missing BaseURL", func(c *oauthproxy.Config) { c.BaseURL = "" }, "BaseURL"},
		{"missing UpstreamAuthorizationEndpoint", func(c *oauthproxy.Config) { c.UpstreamAuthorizationEndpoint = "" }, "UpstreamAuthorizationEndpoint"},
		{"missing UpstreamTokenEndpoint", func(c *oauthproxy.Config) { c.UpstreamTokenEndpoint = "" }, "UpstreamTokenEndpoint"},
		{"missing UpstreamClientID", func(c *oauthproxy.Config) { c.UpstreamClientID = "" }, "UpstreamClientID"},
		{"missing UpstreamClientSecret", func(c *oauthproxy.Config) { c.UpstreamClientSecret = "" }, "UpstreamClientSecret"},

		{"relative BaseURL", func(c *oauthproxy.Config) { c.BaseURL = "/mcp" }, "BaseURL"},
		{"BaseURL without scheme", func(c *oauthproxy.Config) { c.BaseURL = "mcp.example.com" }, "BaseURL"},
		{"relative UpstreamAuthorizationEndpoint", func(c *oauthproxy.Config) { c.UpstreamAuthorizationEndpoint = "/authorize" }, "UpstreamAuthorizationEndpoint"},
		{"relative UpstreamTokenEndpoint", func(c *oauthproxy.Config) { c.UpstreamTokenEndpoint = "token" }, "UpstreamTokenEndpoint"},
		{"relative UpstreamUserInfoEndpoint", func(c *oauthproxy.Config) { c.UpstreamUserInfoEndpoint = "/user" }, "UpstreamUserInfoEndpoint"},
		{"relative Resource", func(c *oauthproxy.Config) { c.Resource = "/mcp" }, "Resource"},

		{"http BaseURL on a public host", func(c *oauthproxy.Config) { c.BaseURL = "http://mcp.example.com" }, "BaseURL"},
		{"http UpstreamAuthorizationEndpoint on a public host", func(c *oauthproxy.Config) {
			c.UpstreamAuthorizationEndpoint = "http://idp.example.com/authorize"
		}, "UpstreamAuthorizationEndpoint"},
		{"http UpstreamTokenEndpoint on a public host", func(c *oauthproxy.Config) { c.UpstreamTokenEndpoint = "http://idp.example.com/token" }, "UpstreamTokenEndpoint"},
		{"http UpstreamUserInfoEndpoint on a public host", func(c *oauthproxy.Config) {
			c.UpstreamUserInfoEndpoint = "http://api.example.com/user"
		}, "UpstreamUserInfoEndpoint"},
		{"http Resource on a public host", func(c *oauthproxy.Config) { c.Resource = "http://api.example.com/mcp" }, "Resource"},
		{"ftp BaseURL", func(c *oauthproxy.Config) { c.BaseURL = "ftp://mcp.example.com" }, "BaseURL"},
		{"BaseURL with userinfo", func(c *oauthproxy.Config) { c.BaseURL = "https://user:pw@mcp.example.com" }, "BaseURL"},
		{"BaseURL with a query", func(c *oauthproxy.Config) { c.BaseURL = "https://mcp.example.com?tenant=a" }, "BaseURL"},
		{"BaseURL with a fragment", func(c *oauthproxy.Config) { c.BaseURL = "https://mcp.example.com#x" }, "BaseURL"},
		{"upstream endpoint with userinfo", func(c *oauthproxy.Config) {
			c.UpstreamTokenEndpoint = "https://id:secret@idp.example.com/token"
		}, "UpstreamTokenEndpoint"},

		{"negative AccessTokenTTL", func(c *oauthproxy.Config) { c.AccessTokenTTL = -time.Second }, "AccessTokenTTL"},
		{"negative RefreshTokenTTL", func(c *oauthproxy.Config) { c.RefreshTokenTTL = -time.Second }, "RefreshTokenTTL"},
		{"negative AuthorizationCodeTTL", func(c *oauthproxy.Config) { c.AuthorizationCodeTTL = -time.Second }, "AuthorizationCodeTTL"},
		{"negative TransactionTTL", func(c *oauthproxy.Config) { c.TransactionTTL = -time.Second }, "TransactionTTL"},
		{"negative CleanupInterval", func(c *oauthproxy.Config) { c.CleanupInterval = -time.Second }, "CleanupInterval"},

		{"unknown UpstreamTokenEndpointAuthMethod", func(c *oauthproxy.Config) { c.UpstreamTokenEndpointAuthMethod = "private_key_jwt" }, "UpstreamTokenEndpointAuthMethod"},
		{"none as UpstreamTokenEndpointAuthMethod", func(c *oauthproxy.Config) { c.UpstreamTokenEndpointAuthMethod = "none" }, "UpstreamTokenEndpointAuthMethod"},

		{"short JWTSigningKey", func(c *oauthproxy.Config) { c.JWTSigningKey = short }, "JWTSigningKey"},
		{"short ConsentSigningKey", func(c *oauthproxy.Config) { c.ConsentSigningKey = short }, "ConsentSigningKey"},
		{"EncryptionKey of 16 bytes", func(c *oauthproxy.Config) { c.EncryptionKey = []byte(strings.Repeat("e", 16)) }, "EncryptionKey"},
		{"EncryptionKey of 31 bytes", func(c *oauthproxy.Config) { c.EncryptionKey = []byte(strings.Repeat("e", 31)) }, "EncryptionKey"},
		{"EncryptionKey of 64 bytes", func(c *oauthproxy.Config) { c.EncryptionKey = []byte(strings.Repeat("e", 64)) }, "EncryptionKey"},

		{"empty redirect pattern", func(c *oauthproxy.Config) { c.AllowedRedirectURIPatterns = []string{""} }, "AllowedRedirectURIPatterns"},
		{"redirect pattern with two host wildcards", func(c *oauthproxy.Config) {
			c.AllowedRedirectURIPatterns = []string{"https://*.*.example.com/cb"}
		}, "AllowedRedirectURIPatterns"},
		{"redirect pattern wildcard mid-label", func(c *oauthproxy.Config) {
			c.AllowedRedirectURIPatterns = []string{"https://app-*.example.com/cb"}
		}, "AllowedRedirectURIPatterns"},
		{"redirect pattern with a query", func(c *oauthproxy.Config) {
			c.AllowedRedirectURIPatterns = []string{"https://example.com/cb?x=1"}
		}, "AllowedRedirectURIPatterns"},
		{"redirect pattern without path on a public host", func(c *oauthproxy.Config) {
			c.AllowedRedirectURIPatterns = []string{"https://example.com"}
		}, "AllowedRedirectURIPatterns"},
		{"javascript redirect pattern", func(c *oauthproxy.Config) {
			c.AllowedRedirectURIPatterns = []string{"javascript:alert(1)"}
		}, "AllowedRedirectURIPatterns"},
		{"http redirect pattern on a public host", func(c *oauthproxy.Config) {
			c.AllowedRedirectURIPatterns = []string{"http://example.com/cb"}
		}, "AllowedRedirectURIPatterns"},
		{"one bad pattern among good ones", func(c *oauthproxy.Config) {
			c.AllowedRedirectURIPatterns = []string{"https://example.com/cb", "https://exa*mple.com/cb"}
		}, "AllowedRedirectURIPatterns"},

		{"scope with a space", func(c *oauthproxy.Config) { c.Scopes = []string{"read user"} }, "Scopes"},
		{"scope with a quote", func(c *oauthproxy.Config) { c.Scopes = []string{`read"user`} }, "Scopes"},
		{"scope with a backslash", func(c *oauthproxy.Config) { c.Scopes = []string{`read\user`} }, "Scopes"},
		{"empty scope", func(c *oauthproxy.Config) { c.Scopes = []string{"openid", ""} }, "Scopes"},
		{"non-ASCII scope", func(c *oauthproxy.Config) { c.Scopes = []string{"lesen:benutzer\u00e9"} }, "Scopes"},

		{"relative RedirectPath", func(c *oauthproxy.Config) { c.RedirectPath = "oauth/callback" }, "RedirectPath"},
		{"RedirectPath with a query", func(c *oauthproxy.Config) { c.RedirectPath = "/cb?x=1" }, "RedirectPath"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := validConfig()
			tt.mutate(&cfg)
			p, err := oauthproxy.New(cfg)
			if p != nil {
				p.Destroy()
			}
			require.Error(t, err)
			assert.Nil(t, p)
			assert.Contains(t, err.Error(), tt.field)
		})
	}
}

func TestNew_RedirectPathValidation(t *testing.T) {
	// RedirectPath becomes a route of Handler: New must refuse one it cannot
	// serve (an unclean path, a path taken by another endpoint) with an error
	// naming the field, not panic in http.ServeMux.
	tests := []struct{ name, path string }{
		{"the authorization endpoint", "/oauth/authorize"},
		{"the consent page", "/oauth/consent"},
		{"the authorization server metadata", "/.well-known/oauth-authorization-server"},
		{"the protected resource metadata", "/.well-known/oauth-protected-resource"},
		{"the protected resource metadata of /mcp", "/.well-known/oauth-protected-resource/mcp"},
		{"an empty segment", "/oauth//callback"},
		{"a dot-dot segment", "/oauth/../callback"},
		{"a dot segment", "/oauth/./callback"},
		{"a control character", "/oauth/callback\t"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := validConfig()
			cfg.RedirectPath = tt.path
			var (
				p   *oauthproxy.Proxy
				err error
			)
			require.NotPanics(t, func() { p, err = oauthproxy.New(cfg) })
			if p != nil {
				p.Destroy()
			}
			require.Error(t, err, "RedirectPath %q", tt.path)
			assert.Contains(t, err.Error(), "RedirectPath")
		})
	}
}

func TestNew_CopiesTheConfig(t *testing.T) {
	// New keeps its own copy: changing the caller's slices and maps afterwards
	// changes nothing (and cannot race with requests being served).
	scopes := []string{"openid", "email", "profile"}
	extra := map[string]string{"access_type": "offline"}
	d := newDirect(t, withConfig(func(c *oauthproxy.Config) {
		c.DisableConsent = true
		c.Scopes = scopes
		c.ExtraAuthorizationParams = extra
	}))
	scopes[0] = "admin"
	extra["access_type"] = "online"
	extra["prompt"] = "none"

	c := d.register("none")
	req := authRequest(c, pkce.Challenge(pkce.GenerateVerifier()))
	req.Scope = ""
	res, err := d.p.Authorize(d.ctx, req)
	require.NoError(t, err)
	q := mustQuery(t, res.RedirectURL)
	assert.Equal(t, "openid email profile", q.Get("scope"))
	assert.Equal(t, "offline", q.Get("access_type"))
	assert.Empty(t, q.Get("prompt"))
	assert.Equal(t, []string{"openid", "email", "profile"}, d.p.GetAuthorizationServerMetadata().ScopesSupported)
}

func mustQuery(t *testing.T, raw string) url.Values {
	t.Helper()
	u, err := url.Parse(raw)
	require.NoError(t, err)
	return u.Query()
}

func TestNew_ReportsEveryProblemAtOnce(t *testing.T) {
	_, err := oauthproxy.New(oauthproxy.Config{Logger: discardLogger(), AccessTokenTTL: -1})
	require.Error(t, err)
	for _, field := range []string{"BaseURL", "UpstreamAuthorizationEndpoint", "UpstreamTokenEndpoint",
		"UpstreamClientID", "UpstreamClientSecret", "AccessTokenTTL"} {
		assert.Contains(t, err.Error(), field)
	}
}

// persistentStore is an in-memory store that claims to outlive the process,
// as a Redis or SQL backend does.
type persistentStore struct{ storage.TokenStorage }

func (persistentStore) Persistent() bool { return true }

func TestNew_PersistentStorageNeedsConfiguredKeys(t *testing.T) {
	tests := []struct {
		name    string
		mutate  func(*oauthproxy.Config)
		missing []string // key names the error must mention; none means New succeeds
	}{
		{"all keys set", func(*oauthproxy.Config) {}, nil},
		{"no keys", func(c *oauthproxy.Config) { c.JWTSigningKey, c.EncryptionKey, c.ConsentSigningKey = nil, nil, nil },
			[]string{"JWTSigningKey", "EncryptionKey", "ConsentSigningKey"}},
		{"no JWT key", func(c *oauthproxy.Config) { c.JWTSigningKey = nil }, []string{"JWTSigningKey"}},
		{"no encryption key", func(c *oauthproxy.Config) { c.EncryptionKey = nil }, []string{"EncryptionKey"}},
		{"encryption disabled", func(c *oauthproxy.Config) { c.EncryptionKey, c.DisableEncryption = nil, true }, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := validConfig()
			cfg.TokenStorage = persistentStore{storage.NewMemory()}
			tt.mutate(&cfg)
			p, err := oauthproxy.New(cfg)
			if len(tt.missing) == 0 {
				require.NoError(t, err)
				p.Destroy()
				return
			}
			if p != nil {
				p.Destroy()
			}
			require.Error(t, err, "S15: generated keys are refused for persistent storage")
			for _, name := range tt.missing {
				assert.Contains(t, err.Error(), name)
			}
		})
	}
}

func TestNew_GeneratedKeysWarnOnce(t *testing.T) {
	tests := []struct {
		name   string
		mutate func(*oauthproxy.Config)
		keys   []string // named in the one warning; none means no warning
	}{
		{"all keys set", func(*oauthproxy.Config) {}, nil},
		{"all keys set, encryption disabled", func(c *oauthproxy.Config) { c.EncryptionKey, c.DisableEncryption = nil, true }, nil},
		{"no keys", func(c *oauthproxy.Config) { c.JWTSigningKey, c.EncryptionKey, c.ConsentSigningKey = nil, nil, nil },
			[]string{"JWTSigningKey", "EncryptionKey", "ConsentSigningKey"}},
		{"no keys, encryption disabled", func(c *oauthproxy.Config) {
			c.JWTSigningKey, c.EncryptionKey, c.ConsentSigningKey, c.DisableEncryption = nil, nil, nil, true
		}, []string{"JWTSigningKey", "ConsentSigningKey"}},
		{"only the JWT key missing", func(c *oauthproxy.Config) { c.JWTSigningKey = nil }, []string{"JWTSigningKey"}},
		{"only the consent key missing", func(c *oauthproxy.Config) { c.ConsentSigningKey = nil }, []string{"ConsentSigningKey"}},
	}
	all := []string{"JWTSigningKey", "EncryptionKey", "ConsentSigningKey"}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			logger, buf := newCapturingLogger()
			cfg := validConfig()
			cfg.Logger = logger
			tt.mutate(&cfg)
			p, err := oauthproxy.New(cfg)
			require.NoError(t, err)
			p.Destroy()

			warns := buf.linesAt("WARN")
			if len(tt.keys) == 0 {
				assert.Empty(t, warns, "no warning when every key is configured")
				return
			}
			require.Len(t, warns, 1, "one warning line: %q", buf.lines())
			for _, k := range all {
				if contains(tt.keys, k) {
					assert.Contains(t, warns[0], k)
				} else {
					assert.NotContains(t, warns[0], k)
				}
			}
		})
	}
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

func TestNew_GeneratedKeysWork(t *testing.T) {
	// With every key generated the proxy still runs a whole flow.
	e := newEnv(t, withConfig(func(c *oauthproxy.Config) {
		c.JWTSigningKey, c.EncryptionKey, c.ConsentSigningKey = nil, nil, nil
	}))
	c := e.register("none")
	code, verifier := e.code(c)
	tok := e.exchange(c, code, verifier)
	require.Equal(t, http.StatusOK, tok.Status, "%v", tok.Body)
	resp, _ := e.callMCP(tok.str("access_token"))
	assert.Equal(t, http.StatusOK, resp.StatusCode)
}

// ---------------------------------------------------------------------------
// Defaults, observed

func TestDefaults_RedirectPathServed(t *testing.T) {
	e := newEnv(t)
	// Served: a callback without state is a 400 error page, not a 404.
	resp, err := http.Get(e.srv.URL + "/oauth/callback")
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, http.StatusBadRequest, resp.StatusCode)

	c := e.register("none")
	e.code(c)
	assert.Equal(t, e.srv.URL+"/oauth/callback", e.idp.LastAuthorizeQuery().Get("redirect_uri"))
}

func TestDefaults_Resource(t *testing.T) {
	e := newEnv(t)
	assert.Equal(t, e.srv.URL+"/mcp", e.proxy.GetProtectedResourceMetadata().Resource)
	resp, err := http.Get(e.srv.URL + "/.well-known/oauth-protected-resource/mcp")
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, http.StatusOK, resp.StatusCode)

	c := e.register("none")
	code, verifier := e.code(c)
	tok := e.exchange(c, code, verifier)
	require.Equal(t, http.StatusOK, tok.Status)
	assert.Equal(t, []any{e.srv.URL + "/mcp"}, audience(t, tok.str("access_token")))
}

// jwtClaims reads a JWT's claims without verifying it.
func jwtClaims(t *testing.T, token string) jwt.MapClaims {
	t.Helper()
	claims := jwt.MapClaims{}
	_, _, err := jwt.NewParser().ParseUnverified(token, claims)
	require.NoError(t, err)
	return claims
}

// audience returns aud as a list, whatever its JSON form.
func audience(t *testing.T, token string) []any {
	switch aud := jwtClaims(t, token)["aud"].(type) {
	case string:
		return []any{aud}
	case []any:
		return aud
	default:
		return nil
	}
}

func TestDefaults_TTLs(t *testing.T) {
	d := newDirect(t)
	c := d.register("none")

	t.Run("AccessTokenTTL 1h", func(t *testing.T) {
		issued := d.clock.Now()
		tok := d.tokens(c)
		assert.Equal(t, int64(3600), tok.ExpiresIn)
		claims := jwtClaims(t, tok.AccessToken)
		assert.Equal(t, float64(issued.Add(time.Hour).Unix()), claims["exp"])
	})
	t.Run("AuthorizationCodeTTL 5 min", func(t *testing.T) {
		code1, v1 := d.login(c)
		code2, v2 := d.login(c)
		d.clock.Advance(5*time.Minute - time.Second)
		_, err := d.p.ExchangeAuthorizationCode(d.ctx, codeRequest(c, code1, v1))
		require.NoError(t, err)
		d.clock.Advance(time.Second)
		_, err = d.p.ExchangeAuthorizationCode(d.ctx, codeRequest(c, code2, v2))
		assert.Equal(t, oauthproxy.ErrCodeInvalidGrant, oauthErr(t, err).Code)
	})
	t.Run("TransactionTTL 10 min", func(t *testing.T) {
		challenge := pkce.Challenge(pkce.GenerateVerifier())
		r1, err := d.p.Authorize(d.ctx, authRequest(c, challenge))
		require.NoError(t, err)
		r2, err := d.p.Authorize(d.ctx, authRequest(c, challenge))
		require.NoError(t, err)
		d.clock.Advance(10*time.Minute - time.Second)
		_, err = d.p.ConsentPage(d.ctx, r1.TransactionID, "")
		require.NoError(t, err)
		d.clock.Advance(time.Second)
		_, err = d.p.ConsentPage(d.ctx, r2.TransactionID, "")
		assert.True(t, oauthErr(t, err).NoRedirect, "the transaction expired")
	})
	t.Run("RefreshTokenTTL 30 days", func(t *testing.T) {
		d := newDirect(t)
		c := d.register("none")
		t1 := d.tokens(c)
		t2 := d.tokens(c)
		d.clock.Advance(30*24*time.Hour - time.Minute)
		_, err := d.refresh(c, t1.RefreshToken)
		require.NoError(t, err, "valid just before 30 days")
		d.clock.Advance(time.Minute)
		_, err = d.refresh(c, t2.RefreshToken)
		assert.Equal(t, oauthproxy.ErrCodeInvalidGrant, oauthErr(t, err).Code)
	})
}

func TestDefaults_UpstreamAuthMethodIsBasic(t *testing.T) {
	e := newEnv(t, withIdP(func(o *oauthproxytest.Options) { o.AuthMethod = oauthproxytest.AuthMethodBasic }))
	c := e.register("none")
	e.code(c)
	assert.Equal(t, oauthproxytest.AuthMethodBasic, e.idp.LastTokenAuthMethod())
	assert.Empty(t, e.idp.LastTokenRequest().Get("client_secret"), "the secret is not also in the body")
}

func TestDefaults_ProviderNameAndScopes(t *testing.T) {
	d := newDirect(t)
	c := d.register("none")
	req := authRequest(c, pkce.Challenge(pkce.GenerateVerifier()))
	req.Scope = ""
	res, err := d.p.Authorize(d.ctx, req)
	require.NoError(t, err)
	page, err := d.p.ConsentPage(d.ctx, res.TransactionID, "")
	require.NoError(t, err)
	u, _ := url.Parse(d.idp.URL())
	assert.Equal(t, u.Hostname(), page.ProviderName)
	assert.Equal(t, []string{"openid", "email", "profile"}, page.Scopes, "no scope requested: the configured set")

	named := newDirect(t, withConfig(func(c *oauthproxy.Config) { c.ProviderName = "GitHub" }))
	nc := named.register("none")
	res, err = named.p.Authorize(named.ctx, authRequest(nc, pkce.Challenge(pkce.GenerateVerifier())))
	require.NoError(t, err)
	page, err = named.p.ConsentPage(named.ctx, res.TransactionID, "")
	require.NoError(t, err)
	assert.Equal(t, "GitHub", page.ProviderName)
}

func TestDefaults_CustomPatternsReplaceLoopback(t *testing.T) {
	d := newDirect(t, withConfig(func(c *oauthproxy.Config) {
		c.AllowedRedirectURIPatterns = []string{"https://*.example.com/cb", "cursor://anysphere.cursor-retrieval/*"}
	}))
	for _, tt := range []struct {
		uri string
		ok  bool
	}{
		{"https://app.example.com/cb", true},
		{"cursor://anysphere.cursor-retrieval/oauth/user-x/callback", true},
		{"https://example.com/cb", false},
		{"https://a.b.example.com/cb", false},
		{"https://app.example.com/other", false},
		{"vscode://vscode.github-authentication/did-authenticate", false},
		{"http://127.0.0.1:3000/cb", false},
	} {
		_, err := d.p.RegisterClient(context.Background(), &oauthproxy.ClientMetadata{
			RedirectURIs: []string{tt.uri}, TokenEndpointAuthMethod: "none",
		})
		if tt.ok {
			assert.NoError(t, err, tt.uri)
		} else {
			assert.Equal(t, oauthproxy.ErrCodeInvalidRedirectURI, oauthErr(t, err).Code, tt.uri)
		}
	}
}

func TestConfig_AccessTokenTTL(t *testing.T) {
	d := newDirect(t, withConfig(func(c *oauthproxy.Config) { c.AccessTokenTTL = 10 * time.Minute }))
	c := d.register("none")
	issued := d.clock.Now()
	tok := d.tokens(c)
	assert.Equal(t, int64(600), tok.ExpiresIn)
	claims := jwtClaims(t, tok.AccessToken)
	assert.Equal(t, float64(issued.Unix()), claims["iat"])
	assert.Equal(t, float64(issued.Add(10*time.Minute).Unix()), claims["exp"])
	assert.Equal(t, float64(600), claims["exp"].(float64)-claims["iat"].(float64))

	// Not tied to the upstream's one hour.
	up, err := d.p.LoadUpstreamTokens(d.ctx, tok.AccessToken)
	require.NoError(t, err)
	assert.WithinDuration(t, issued.Add(time.Hour), up.Expiry, time.Second)

	d.clock.Advance(10*time.Minute - time.Second)
	_, err = d.p.VerifyAccessToken(d.ctx, tok.AccessToken)
	require.NoError(t, err)
	refreshed, err := d.refresh(c, tok.RefreshToken)
	require.NoError(t, err)
	assert.Equal(t, int64(600), refreshed.ExpiresIn, "refreshed tokens get the same TTL")

	d.clock.Advance(time.Second)
	_, err = d.p.VerifyAccessToken(d.ctx, tok.AccessToken)
	assert.ErrorIs(t, err, oauthproxy.ErrTokenExpired)
	_, err = d.p.VerifyAccessToken(d.ctx, refreshed.AccessToken)
	assert.NoError(t, err)
}

func TestConfig_ExpiresInIsTheConfiguredTTL(t *testing.T) {
	// JWT times have whole seconds; expires_in must still say the configured
	// TTL, whatever the sub-second part of the clock when the token is issued.
	for _, frac := range []time.Duration{0, 400 * time.Millisecond, 600 * time.Millisecond, 999 * time.Millisecond} {
		t.Run(frac.String(), func(t *testing.T) {
			d := newDirect(t)
			d.clock.Advance(frac)
			c := d.register("none")
			tok := d.tokens(c)
			assert.Equal(t, int64(3600), tok.ExpiresIn)
			claims := jwtClaims(t, tok.AccessToken)
			assert.Equal(t, float64(3600), claims["exp"].(float64)-claims["iat"].(float64))
			next, err := d.refresh(c, tok.RefreshToken)
			require.NoError(t, err)
			assert.Equal(t, int64(3600), next.ExpiresIn)
		})
	}
}

// ---------------------------------------------------------------------------
// Configuration variants, end to end over HTTP

func TestFlow_ForwardPKCE(t *testing.T) {
	for _, consent := range []bool{true, false} {
		t.Run(map[bool]string{true: "consent", false: "no consent"}[consent], func(t *testing.T) {
			e := newEnv(t, withConfig(func(c *oauthproxy.Config) {
				c.ForwardPKCE = true
				c.DisableConsent = !consent
			}), withIdP(func(o *oauthproxytest.Options) { o.RequirePKCE = true }))
			c := e.register("none")
			code, verifier := e.code(c)
			assert.Equal(t, pkce.Challenge(verifier), e.idp.LastAuthorizeQuery().Get("code_challenge"),
				"the upstream sees the client's own challenge")
			assert.Zero(t, e.idp.Stats().CodeExchanges, "the upstream code waits for the client's verifier")

			bad := e.exchange(c, code, pkce.GenerateVerifier())
			assert.Equal(t, http.StatusBadRequest, bad.Status)
			assert.Equal(t, "invalid_grant", bad.str("error"))
			assert.Zero(t, e.idp.Stats().CodeExchanges)

			tok := e.exchange(c, code, verifier)
			require.Equal(t, http.StatusOK, tok.Status, "%v", tok.Body)
			assert.Equal(t, 1, e.idp.Stats().CodeExchanges)
			assert.Equal(t, verifier, e.idp.LastTokenRequest().Get("code_verifier"))
			resp, claims := e.callMCP(tok.str("access_token"))
			require.Equal(t, http.StatusOK, resp.StatusCode)
			assert.Equal(t, "user-1", claims["Subject"])

			ref := e.refresh(c, tok.str("refresh_token"))
			require.Equal(t, http.StatusOK, ref.Status, "%v", ref.Body)
		})
	}
}

func TestFlow_BaseURLWithPath(t *testing.T) {
	s := newSite(t, "/auth")
	base := s.srv.URL + "/auth"
	assert.Equal(t, base, s.meta.Issuer)
	assert.Equal(t, base+"/oauth/authorize", s.meta.AuthorizationEndpoint)
	assert.Equal(t, base+"/oauth/token", s.meta.TokenEndpoint)
	assert.Equal(t, base+"/oauth/register", s.meta.RegistrationEndpoint)

	prm := s.proxy.GetProtectedResourceMetadata()
	assert.Equal(t, base+"/mcp", prm.Resource)
	resp, err := s.http.Get(s.srv.URL + "/.well-known/oauth-protected-resource/auth/mcp")
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, http.StatusOK, resp.StatusCode, "RFC 9728 §3.1 location")
	assert.Equal(t, s.srv.URL+"/.well-known/oauth-protected-resource/auth/mcp", s.proxy.ProtectedResourceMetadataURL())

	// The endpoints live under the path, not at the root.
	resp, err = s.http.Get(s.srv.URL + "/oauth/authorize")
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, http.StatusNotFound, resp.StatusCode)

	for _, auth := range []string{"none", "client_secret_basic"} {
		t.Run(auth, func(t *testing.T) {
			c := s.register(auth)
			verifier := pkce.GenerateVerifier()
			q := url.Values{
				"response_type": {"code"}, "client_id": {c.ID}, "redirect_uri": {clientRedirect},
				"scope": {"openid email"}, "state": {"st"},
				"code_challenge": {pkce.Challenge(verifier)}, "code_challenge_method": {"S256"},
			}
			loc, consent := walkBrowser(t, cookieBrowser(t), s.meta.AuthorizationEndpoint+"?"+q.Encode(), "approve")
			assert.True(t, consent)
			require.Empty(t, loc.Query().Get("error"), loc.Query().Get("error_description"))
			assert.Equal(t, base, loc.Query().Get("iss"))
			assert.Equal(t, "st", loc.Query().Get("state"))
			assert.Equal(t, base+"/oauth/callback", s.idp.LastAuthorizeQuery().Get("redirect_uri"))

			tok := s.token(c, url.Values{"grant_type": {"authorization_code"}, "code": {loc.Query().Get("code")},
				"redirect_uri": {clientRedirect}, "code_verifier": {verifier}})
			require.Equal(t, http.StatusOK, tok.Status, "%v", tok.Body)
			status, claims := s.callResource(tok.str("access_token"))
			require.Equal(t, http.StatusOK, status)
			assert.Equal(t, "user-1", claims["Subject"])
			assert.Equal(t, base+"/mcp", claims["Audience"])

			ref := s.token(c, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {tok.str("refresh_token")}})
			require.Equal(t, http.StatusOK, ref.Status, "%v", ref.Body)
			status, _ = s.callResource(ref.str("access_token"))
			assert.Equal(t, http.StatusOK, status)
		})
	}

	status, _ := s.callResource("")
	assert.Equal(t, http.StatusUnauthorized, status)
}

func TestFlow_CustomRedirectPath(t *testing.T) {
	e := newEnv(t, withConfig(func(c *oauthproxy.Config) { c.RedirectPath = "/cb/github" }))
	c := e.register("none")
	code, verifier := e.code(c)
	assert.Equal(t, e.srv.URL+"/cb/github", e.idp.LastAuthorizeQuery().Get("redirect_uri"))
	assert.Equal(t, e.srv.URL+"/cb/github", e.idp.LastTokenRequest().Get("redirect_uri"))
	tok := e.exchange(c, code, verifier)
	require.Equal(t, http.StatusOK, tok.Status, "%v", tok.Body)

	// The default path is not served when another is configured.
	resp, err := http.Get(e.srv.URL + "/oauth/callback?state=x&code=y")
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, http.StatusNotFound, resp.StatusCode)
}

func TestFlow_UpstreamTokenEndpointAuthMethod(t *testing.T) {
	tests := []struct {
		name       string
		proxy, idp string
		ok         bool
	}{
		{"basic against basic", "", oauthproxytest.AuthMethodBasic, true},
		{"post against post", oauthproxy.AuthMethodClientSecretPost, oauthproxytest.AuthMethodPost, true},
		{"basic against post", oauthproxy.AuthMethodClientSecretBasic, oauthproxytest.AuthMethodPost, false},
		{"post against basic", oauthproxy.AuthMethodClientSecretPost, oauthproxytest.AuthMethodBasic, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t,
				withConfig(func(c *oauthproxy.Config) { c.UpstreamTokenEndpointAuthMethod = tt.proxy }),
				withIdP(func(o *oauthproxytest.Options) { o.AuthMethod = tt.idp }))
			c := e.register("none")
			verifier := pkce.GenerateVerifier()
			loc := e.login(e.browser(), authorizeParams(c, pkce.Challenge(verifier)))
			want := tt.proxy
			if want == "" {
				want = oauthproxy.AuthMethodClientSecretBasic
			}
			assert.Equal(t, want, e.idp.LastTokenAuthMethod(), "the proxy authenticated as configured")
			if tt.ok {
				require.Empty(t, loc.Query().Get("error"), loc.Query().Get("error_description"))
				tok := e.exchange(c, loc.Query().Get("code"), verifier)
				require.Equal(t, http.StatusOK, tok.Status, "%v", tok.Body)
				return
			}
			// A misconfigured upstream client is reported to the client as a
			// redirected error, without the upstream's secret.
			assert.Equal(t, clientRedirect, loc.Scheme+"://"+loc.Host+loc.Path)
			assert.NotEmpty(t, loc.Query().Get("error"))
			assert.Empty(t, loc.Query().Get("code"))
			assert.Equal(t, "client-state-123", loc.Query().Get("state"))
			assert.Equal(t, e.srv.URL, loc.Query().Get("iss"))
			assert.NotContains(t, loc.String(), "upstream-secret")
			assert.Zero(t, e.idp.Stats().CodeExchanges)
		})
	}
}

func TestFlow_GitHubStyleUpstream(t *testing.T) {
	// Form-encoded token responses without expires_in, like GitHub's.
	e := newEnv(t, withIdP(func(o *oauthproxytest.Options) {
		o.FormEncodedTokenResponse = true
		o.OmitExpiresIn = true
	}))
	c := e.register("none")
	code, verifier := e.code(c)
	tok := e.exchange(c, code, verifier)
	require.Equal(t, http.StatusOK, tok.Status, "%v", tok.Body)
	assert.Equal(t, float64(3600), tok.Body["expires_in"], "the proxy's own TTL, whatever the upstream says")
	resp, claims := e.callMCP(tok.str("access_token"))
	require.Equal(t, http.StatusOK, resp.StatusCode)
	assert.Equal(t, "user-1", claims["Subject"])

	up, err := e.proxy.LoadUpstreamTokens(context.Background(), tok.str("access_token"))
	require.NoError(t, err)
	assert.NotEmpty(t, up.AccessToken)
	assert.NotEmpty(t, up.RefreshToken)
	assert.True(t, up.Expiry.IsZero(), "no expires_in: no expiry")

	ref := e.refresh(c, tok.str("refresh_token"))
	require.Equal(t, http.StatusOK, ref.Status, "%v", ref.Body)
	resp, _ = e.callMCP(ref.str("access_token"))
	assert.Equal(t, http.StatusOK, resp.StatusCode)
	assert.Zero(t, e.idp.Stats().Refreshes, "a token without expiry is not refreshed upstream")
}

func TestFlow_RefreshUpstreamOnlyWhenExpired(t *testing.T) {
	const upstreamTTL = 10 * time.Minute
	tests := []struct {
		name    string
		advance time.Duration
		refresh bool
	}{
		{"fresh", 0, false},
		{"well before expiry", 5 * time.Minute, false},
		{"within the one-minute leeway", upstreamTTL - 30*time.Second, true},
		{"expired", upstreamTTL + time.Second, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			clock := newStepClock()
			e := newEnv(t,
				withConfig(func(c *oauthproxy.Config) { c.Now = clock.Now }),
				withIdP(func(o *oauthproxytest.Options) { o.Now, o.AccessTokenTTL = clock.Now, upstreamTTL }))
			c := e.register("none")
			code, verifier := e.code(c)
			tok := e.exchange(c, code, verifier)
			require.Equal(t, http.StatusOK, tok.Status)
			before, err := e.proxy.LoadUpstreamTokens(context.Background(), tok.str("access_token"))
			require.NoError(t, err)

			clock.Advance(tt.advance)
			ref := e.refresh(c, tok.str("refresh_token"))
			require.Equal(t, http.StatusOK, ref.Status, "%v", ref.Body)
			after, err := e.proxy.LoadUpstreamTokens(context.Background(), ref.str("access_token"))
			require.NoError(t, err)
			if tt.refresh {
				assert.Equal(t, 1, e.idp.Stats().Refreshes)
				assert.NotEqual(t, before.AccessToken, after.AccessToken, "a new upstream access token")
				assert.WithinDuration(t, clock.Now().Add(upstreamTTL), after.Expiry, time.Second)
			} else {
				assert.Zero(t, e.idp.Stats().Refreshes, "a fresh upstream token is not refreshed")
				assert.Equal(t, before.AccessToken, after.AccessToken)
			}
			resp, _ := e.callMCP(ref.str("access_token"))
			assert.Equal(t, http.StatusOK, resp.StatusCode)
		})
	}
}

func TestFlow_RefreshUpstreamKeepsRefreshTokenWhenOmitted(t *testing.T) {
	const upstreamTTL = 10 * time.Minute
	for _, rotate := range []bool{false, true} {
		name := map[bool]string{false: "omitted on refresh", true: "rotated on refresh"}[rotate]
		t.Run(name, func(t *testing.T) {
			clock := newStepClock()
			e := newEnv(t,
				withConfig(func(c *oauthproxy.Config) { c.Now = clock.Now }),
				withIdP(func(o *oauthproxytest.Options) {
					o.Now, o.AccessTokenTTL = clock.Now, upstreamTTL
					o.OmitRefreshTokenOnRefresh = !rotate
					o.RotateRefreshTokens = rotate
				}))
			c := e.register("none")
			code, verifier := e.code(c)
			tok := e.exchange(c, code, verifier)
			require.Equal(t, http.StatusOK, tok.Status)
			first, err := e.proxy.LoadUpstreamTokens(context.Background(), tok.str("access_token"))
			require.NoError(t, err)

			rt := tok.str("refresh_token")
			prev := first
			for i := 1; i <= 2; i++ {
				clock.Advance(upstreamTTL + time.Second)
				ref := e.refresh(c, rt)
				require.Equal(t, http.StatusOK, ref.Status, "refresh %d: %v", i, ref.Body)
				assert.Equal(t, i, e.idp.Stats().Refreshes)
				up, err := e.proxy.LoadUpstreamTokens(context.Background(), ref.str("access_token"))
				require.NoError(t, err)
				assert.NotEqual(t, prev.AccessToken, up.AccessToken)
				if rotate {
					assert.NotEqual(t, prev.RefreshToken, up.RefreshToken, "the rotated upstream refresh token is kept")
				} else {
					assert.Equal(t, first.RefreshToken, up.RefreshToken, "the old upstream refresh token is kept")
				}
				resp, _ := e.callMCP(ref.str("access_token"))
				assert.Equal(t, http.StatusOK, resp.StatusCode)
				rt, prev = ref.str("refresh_token"), up
			}
		})
	}
}

func TestFlow_LoadUpstreamTokensRefreshesOnDemand(t *testing.T) {
	// A tool handler asking for the upstream token after it expired gets a
	// fresh one; concurrent callers share one upstream refresh, which matters
	// for providers that rotate refresh tokens.
	const upstreamTTL = 10 * time.Minute
	clock := newStepClock()
	e := newEnv(t,
		withConfig(func(c *oauthproxy.Config) { c.Now = clock.Now }),
		withIdP(func(o *oauthproxytest.Options) {
			o.Now, o.AccessTokenTTL, o.RotateRefreshTokens = clock.Now, upstreamTTL, true
		}))
	c := e.register("none")
	code, verifier := e.code(c)
	tok := e.exchange(c, code, verifier)
	require.Equal(t, http.StatusOK, tok.Status)
	access := tok.str("access_token")
	before, err := e.proxy.LoadUpstreamTokens(context.Background(), access)
	require.NoError(t, err)

	clock.Advance(upstreamTTL + time.Second)
	const callers = 8
	got := make([]*oauthproxy.UpstreamTokens, callers)
	errs := make([]error, callers)
	var wg sync.WaitGroup
	for i := range callers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			got[i], errs[i] = e.proxy.LoadUpstreamTokens(context.Background(), access)
		}()
	}
	wg.Wait()
	for i := range callers {
		require.NoError(t, errs[i])
		assert.NotEqual(t, before.AccessToken, got[i].AccessToken, "a fresh upstream token")
		assert.Equal(t, got[0].AccessToken, got[i].AccessToken, "one refresh, shared")
	}
	assert.Equal(t, 1, e.idp.Stats().Refreshes)
	assert.Zero(t, e.idp.Stats().FailedTokenRequests)

	// The refreshed set is kept: the next call does not refresh again, and the
	// proxy's refresh token still works with the rotated upstream one.
	again, err := e.proxy.LoadUpstreamTokens(context.Background(), access)
	require.NoError(t, err)
	assert.Equal(t, got[0].AccessToken, again.AccessToken)
	ref := e.refresh(c, tok.str("refresh_token"))
	require.Equal(t, http.StatusOK, ref.Status, "%v", ref.Body)
	assert.Equal(t, 1, e.idp.Stats().Refreshes)
}

func TestFlow_UserInfoWithoutIDToken(t *testing.T) {
	tests := []struct {
		name string
		user oauthproxytest.User
	}{
		{"OIDC-style subject", oauthproxytest.DefaultUser},
		{"GitHub-style numeric id", oauthproxytest.User{Subject: "583231", Name: "The Octocat", Email: "octocat@example.com", Login: "octocat"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := newSite(t, "",
				withIdP(func(o *oauthproxytest.Options) { o.IssueIDToken = false; o.User = tt.user }),
				withConfig(func(c *oauthproxy.Config) { c.UpstreamUserInfoEndpoint = idpUserInfo }))
			c := s.register("none")
			verifier := pkce.GenerateVerifier()
			q := url.Values{
				"response_type": {"code"}, "client_id": {c.ID}, "redirect_uri": {clientRedirect},
				"scope": {"openid email"}, "state": {"st"},
				"code_challenge": {pkce.Challenge(verifier)}, "code_challenge_method": {"S256"},
			}
			loc, _ := walkBrowser(t, cookieBrowser(t), s.meta.AuthorizationEndpoint+"?"+q.Encode(), "approve")
			require.Empty(t, loc.Query().Get("error"), loc.Query().Get("error_description"))
			assert.Equal(t, 1, s.idp.Stats().UserInfoRequests, "identity from userinfo")

			tok := s.token(c, url.Values{"grant_type": {"authorization_code"}, "code": {loc.Query().Get("code")},
				"redirect_uri": {clientRedirect}, "code_verifier": {verifier}})
			require.Equal(t, http.StatusOK, tok.Status, "%v", tok.Body)
			up, err := s.proxy.LoadUpstreamTokens(context.Background(), tok.str("access_token"))
			require.NoError(t, err)
			assert.Empty(t, up.IDToken, "the upstream issued no id_token")

			status, claims := s.callResource(tok.str("access_token"))
			require.Equal(t, http.StatusOK, status)
			assert.Equal(t, tt.user.Subject, claims["Subject"], "sub from userinfo")
			extra, _ := claims["Extra"].(map[string]any)
			assert.Equal(t, tt.user.Email, extra["email"])
			assert.Equal(t, tt.user.Login, extra["preferred_username"])
			assert.NotContains(t, extra, "login", "only profile claims are kept")
		})
	}
}
