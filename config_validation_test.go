package oauthproxy_test

// Config: what New refuses and the generated-key warning.

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/oauthproxy-go/oauthproxy"
	"github.com/oauthproxy-go/oauthproxy/internal/pkce"
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
		{"none as UpstreamTokenEndpointAuthMethod with a secret", func(c *oauthproxy.Config) { c.UpstreamTokenEndpointAuthMethod = "none" }, "UpstreamClientSecret"},

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
