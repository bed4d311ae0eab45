package oauthproxy_test

// RegisterClient and Authorize called directly, without HTTP.

import (
	"errors"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/oauthproxy-go/oauthproxy"
	"github.com/oauthproxy-go/oauthproxy/internal/pkce"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// ---------------------------------------------------------------------------
// RegisterClient

func TestMethods_RegisterClient_Public(t *testing.T) {
	d := newDirect(t)
	mark := d.store.mark()
	info, err := d.p.RegisterClient(d.ctx, &oauthproxy.ClientMetadata{
		RedirectURIs:            []string{clientRedirect},
		TokenEndpointAuthMethod: "none",
		ClientName:              "Public",
	})
	require.NoError(t, err)
	assert.NotEmpty(t, info.ClientID)
	assert.Empty(t, info.ClientSecret, "a public client gets no secret")
	assert.Nil(t, info.ClientSecretExpiresAt, "client_secret_expires_at only accompanies a secret")
	assert.Equal(t, "none", info.TokenEndpointAuthMethod)
	assert.Equal(t, d.clock.Now().Unix(), info.ClientIDIssuedAt)
	assert.Equal(t, []string{clientRedirect}, info.RedirectURIs)
	assert.Equal(t, "Public", info.ClientName)

	ops := d.store.since(mark)
	require.Len(t, ops, 1, "one record: the client")
	assert.Equal(t, "save", ops[0].Op)
	assert.True(t, strings.HasPrefix(ops[0].Key, "client:"), ops[0].Key)
}

func TestMethods_RegisterClient_Confidential(t *testing.T) {
	for _, method := range []string{"client_secret_basic", "client_secret_post"} {
		t.Run(method, func(t *testing.T) {
			d := newDirect(t)
			info, err := d.p.RegisterClient(d.ctx, &oauthproxy.ClientMetadata{
				RedirectURIs:            []string{clientRedirect},
				TokenEndpointAuthMethod: method,
			})
			require.NoError(t, err)
			assert.Equal(t, method, info.TokenEndpointAuthMethod)
			require.NotEmpty(t, info.ClientSecret, "a confidential client gets a secret")
			assert.GreaterOrEqual(t, len(info.ClientSecret), 43, "256 bits of randomness, base64url")
			require.NotNil(t, info.ClientSecretExpiresAt, "REQUIRED with a secret (RFC 7591 §3.2.1)")
			assert.Equal(t, int64(0), *info.ClientSecretExpiresAt)

			// Two registrations never share an id or a secret.
			other, err := d.p.RegisterClient(d.ctx, &oauthproxy.ClientMetadata{
				RedirectURIs: []string{clientRedirect}, TokenEndpointAuthMethod: method,
			})
			require.NoError(t, err)
			assert.NotEqual(t, info.ClientID, other.ClientID)
			assert.NotEqual(t, info.ClientSecret, other.ClientSecret)
		})
	}
}

func TestMethods_RegisterClient_Defaults(t *testing.T) {
	d := newDirect(t)
	md := &oauthproxy.ClientMetadata{RedirectURIs: []string{clientRedirect}}
	info, err := d.p.RegisterClient(d.ctx, md)
	require.NoError(t, err)
	assert.Equal(t, "client_secret_basic", info.TokenEndpointAuthMethod, "RFC 7591 §2 default")
	assert.NotEmpty(t, info.ClientSecret, "the default method is confidential")
	assert.Equal(t, []string{"authorization_code"}, info.GrantTypes, "RFC 7591 §2 default")
	assert.Equal(t, []string{"code"}, info.ResponseTypes, "RFC 7591 §2 default")
	assert.Empty(t, md.GrantTypes, "the caller's metadata is not modified")
	assert.Empty(t, md.TokenEndpointAuthMethod, "the caller's metadata is not modified")

	// Grant types are normalised: sorted, duplicates dropped.
	info, err = d.p.RegisterClient(d.ctx, &oauthproxy.ClientMetadata{
		RedirectURIs: []string{clientRedirect},
		GrantTypes:   []string{"refresh_token", "authorization_code", "refresh_token"},
	})
	require.NoError(t, err)
	assert.Equal(t, []string{"authorization_code", "refresh_token"}, info.GrantTypes)
}

func TestMethods_RegisterClient_LoopbackRedirectsAllowedByDefault(t *testing.T) {
	d := newDirect(t)
	for _, uri := range []string{
		"http://localhost/cb",
		"http://localhost:33418/any/path",
		"http://127.0.0.1:6274/oauth/callback",
		"http://[::1]:8080/cb",
	} {
		_, err := d.p.RegisterClient(d.ctx, &oauthproxy.ClientMetadata{
			RedirectURIs: []string{uri}, TokenEndpointAuthMethod: "none",
		})
		assert.NoError(t, err, uri)
	}
}

func TestMethods_RegisterClient_Invalid(t *testing.T) {
	d := newDirect(t)
	valid := func() *oauthproxy.ClientMetadata {
		return &oauthproxy.ClientMetadata{RedirectURIs: []string{clientRedirect}, TokenEndpointAuthMethod: "none"}
	}
	tooMany := make([]string, 11)
	for i := range tooMany {
		tooMany[i] = clientRedirect
	}
	const badURI, badMeta = oauthproxy.ErrCodeInvalidRedirectURI, oauthproxy.ErrCodeInvalidClientMetadata
	tests := []struct {
		name   string
		mutate func(*oauthproxy.ClientMetadata)
		code   string
	}{
		{"no redirect_uris", func(m *oauthproxy.ClientMetadata) { m.RedirectURIs = nil }, badURI},
		{"too many redirect_uris", func(m *oauthproxy.ClientMetadata) { m.RedirectURIs = tooMany }, badURI},
		{"empty redirect URI", func(m *oauthproxy.ClientMetadata) { m.RedirectURIs = []string{""} }, badURI},
		{"relative redirect URI", func(m *oauthproxy.ClientMetadata) { m.RedirectURIs = []string{"/cb"} }, badURI},
		{"userinfo", func(m *oauthproxy.ClientMetadata) { m.RedirectURIs = []string{"http://localhost:@evil.com/cb"} }, badURI},
		{"fragment", func(m *oauthproxy.ClientMetadata) { m.RedirectURIs = []string{"http://127.0.0.1/cb#frag"} }, badURI},
		{"javascript scheme", func(m *oauthproxy.ClientMetadata) { m.RedirectURIs = []string{"javascript:alert(1)"} }, badURI},
		{"data scheme", func(m *oauthproxy.ClientMetadata) { m.RedirectURIs = []string{"data:text/html,hi"} }, badURI},
		{"file scheme", func(m *oauthproxy.ClientMetadata) { m.RedirectURIs = []string{"file:///etc/passwd"} }, badURI},
		{"http on a public host", func(m *oauthproxy.ClientMetadata) { m.RedirectURIs = []string{"http://example.com/cb"} }, badURI},
		{"https not in the patterns", func(m *oauthproxy.ClientMetadata) { m.RedirectURIs = []string{"https://example.com/cb"} }, badURI},
		{"custom scheme not in the patterns", func(m *oauthproxy.ClientMetadata) {
			m.RedirectURIs = []string{"cursor://anysphere.cursor-retrieval/oauth/callback"}
		}, badURI},
		{"one good, one bad", func(m *oauthproxy.ClientMetadata) {
			m.RedirectURIs = []string{clientRedirect, "http://evil.example/cb"}
		}, badURI},
		{"unknown auth method", func(m *oauthproxy.ClientMetadata) { m.TokenEndpointAuthMethod = "private_key_jwt" }, badMeta},
		{"implicit grant", func(m *oauthproxy.ClientMetadata) { m.GrantTypes = []string{"implicit"} }, badMeta},
		{"client_credentials grant", func(m *oauthproxy.ClientMetadata) {
			m.GrantTypes = []string{"authorization_code", "client_credentials"}
		}, badMeta},
		{"refresh_token without authorization_code", func(m *oauthproxy.ClientMetadata) { m.GrantTypes = []string{"refresh_token"} }, badMeta},
		{"token response type", func(m *oauthproxy.ClientMetadata) { m.ResponseTypes = []string{"token"} }, badMeta},
		{"client_name too long", func(m *oauthproxy.ClientMetadata) { m.ClientName = strings.Repeat("n", 201) }, badMeta},
		{"client_name not UTF-8", func(m *oauthproxy.ClientMetadata) { m.ClientName = "bad\xff" }, badMeta},
		{"client_uri javascript", func(m *oauthproxy.ClientMetadata) { m.ClientURI = "javascript:alert(1)" }, badMeta},
		{"client_uri relative", func(m *oauthproxy.ClientMetadata) { m.ClientURI = "/about" }, badMeta},
		{"logo_uri plain http", func(m *oauthproxy.ClientMetadata) { m.LogoURI = "http://cdn.example.com/logo.png" }, badMeta},
		{"scope outside Scopes", func(m *oauthproxy.ClientMetadata) { m.Scope = "openid admin" }, badMeta},
		{"scope malformed", func(m *oauthproxy.ClientMetadata) { m.Scope = `open"id` }, badMeta},
		{"scope too long", func(m *oauthproxy.ClientMetadata) { m.Scope = strings.Repeat("openid ", 200) }, badMeta},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			md := valid()
			tt.mutate(md)
			mark := d.store.mark()
			info, err := d.p.RegisterClient(d.ctx, md)
			assert.Nil(t, info)
			oe := oauthErr(t, err)
			assert.Equal(t, tt.code, oe.Code, "%v", err)
			assert.Equal(t, http.StatusBadRequest, oe.Status)
			assert.NotEmpty(t, oe.Description)
			assert.True(t, errors.Is(err, &oauthproxy.Error{Code: tt.code}))
			d.store.unchanged(t, mark, "a refused registration stores nothing")
		})
	}
	t.Run("nil metadata", func(t *testing.T) {
		mark := d.store.mark()
		_, err := d.p.RegisterClient(d.ctx, nil)
		oe := oauthErr(t, err)
		assert.Equal(t, badMeta, oe.Code)
		assert.Equal(t, http.StatusBadRequest, oe.Status)
		d.store.unchanged(t, mark)
	})
}

// ---------------------------------------------------------------------------
// Authorize

func TestMethods_Authorize_ConsentOn_ReturnsConsentURL(t *testing.T) {
	d := newDirect(t)
	c := d.register("none")
	mark := d.store.mark()
	res, err := d.p.Authorize(d.ctx, authRequest(c, pkce.Challenge(pkce.GenerateVerifier())))
	require.NoError(t, err)
	require.NotEmpty(t, res.TransactionID)
	assert.Equal(t, directBaseURL+"/oauth/consent?txn="+url.QueryEscape(res.TransactionID), res.RedirectURL)
	assert.Empty(t, res.BrowserBinding, "the binding is set at consent, not before")
	ops := d.store.since(mark)
	require.Len(t, ops, 1, "one record: the transaction")
	assert.True(t, strings.HasPrefix(ops[0].Key, "txn:"))
	assert.NotContains(t, ops[0].Key, res.TransactionID, "the transaction id is stored by hash (S15)")
	assert.Zero(t, d.idp.Stats().Authorizations, "nothing happened upstream yet")
}

func TestMethods_Authorize_ConsentOff_UpstreamURL(t *testing.T) {
	d := newDirect(t, withConfig(func(c *oauthproxy.Config) {
		c.DisableConsent = true
		c.ExtraAuthorizationParams = map[string]string{
			"access_type": "offline",
			"prompt":      "consent",
			// Extras never override what the proxy itself must send.
			"client_id":    "evil",
			"redirect_uri": "https://evil.example/cb",
			"state":        "attacker",
		}
	}))
	c := d.register("none")
	clientChallenge := pkce.Challenge(pkce.GenerateVerifier())
	res, err := d.p.Authorize(d.ctx, authRequest(c, clientChallenge))
	require.NoError(t, err)
	require.NotEmpty(t, res.BrowserBinding, "the redirect goes straight upstream: bind the browser now (S09)")

	u, err := url.Parse(res.RedirectURL)
	require.NoError(t, err)
	assert.Equal(t, d.idp.AuthorizationEndpoint(), u.Scheme+"://"+u.Host+u.Path)
	q := u.Query()
	assert.Equal(t, "code", q.Get("response_type"))
	assert.Equal(t, "upstream-client", q.Get("client_id"), "the proxy's own upstream client")
	assert.Equal(t, directBaseURL+"/oauth/callback", q.Get("redirect_uri"))
	assert.Equal(t, res.TransactionID, q.Get("state"))
	assert.Equal(t, "S256", q.Get("code_challenge_method"))
	assert.True(t, pkce.ValidChallenge(q.Get("code_challenge")), "an S256 challenge")
	assert.NotEqual(t, clientChallenge, q.Get("code_challenge"), "the proxy runs its own PKCE upstream")
	assert.Equal(t, "openid email", q.Get("scope"))
	assert.Equal(t, "offline", q.Get("access_type"))
	assert.Equal(t, "consent", q.Get("prompt"))
	for k, vs := range q {
		assert.Len(t, vs, 1, "parameter %s sent once", k)
	}

	// A second request gets a fresh transaction and a fresh challenge.
	res2, err := d.p.Authorize(d.ctx, authRequest(c, clientChallenge))
	require.NoError(t, err)
	u2, _ := url.Parse(res2.RedirectURL)
	assert.NotEqual(t, res.TransactionID, res2.TransactionID)
	assert.NotEqual(t, q.Get("code_challenge"), u2.Query().Get("code_challenge"))
	assert.NotEqual(t, res.BrowserBinding, res2.BrowserBinding)

	// The upstream accepts the URL and verifies the proxy's own verifier.
	upCode, state := d.upstreamLogin(res.RedirectURL)
	cb, err := d.p.HandleCallback(d.ctx, &oauthproxy.CallbackRequest{Code: upCode, State: state, BrowserBinding: res.BrowserBinding})
	require.NoError(t, err)
	loc, _ := url.Parse(cb.RedirectURL)
	assert.NotEmpty(t, loc.Query().Get("code"), loc.Query().Get("error_description"))
	assert.Equal(t, 1, d.idp.Stats().CodeExchanges)
	assert.Equal(t, pkce.Challenge(d.idp.LastTokenRequest().Get("code_verifier")), q.Get("code_challenge"))
}

func TestMethods_Authorize_ForwardPKCE_ForwardsClientChallenge(t *testing.T) {
	d := newDirect(t, withConfig(func(c *oauthproxy.Config) {
		c.DisableConsent = true
		c.ForwardPKCE = true
	}))
	c := d.register("none")
	verifier := pkce.GenerateVerifier()
	res, err := d.p.Authorize(d.ctx, authRequest(c, pkce.Challenge(verifier)))
	require.NoError(t, err)
	u, err := url.Parse(res.RedirectURL)
	require.NoError(t, err)
	assert.Equal(t, pkce.Challenge(verifier), u.Query().Get("code_challenge"))
	assert.Equal(t, "S256", u.Query().Get("code_challenge_method"))

	// The callback does not redeem the upstream code: the client's verifier is needed.
	upCode, state := d.upstreamLogin(res.RedirectURL)
	cb, err := d.p.HandleCallback(d.ctx, &oauthproxy.CallbackRequest{Code: upCode, State: state, BrowserBinding: res.BrowserBinding})
	require.NoError(t, err)
	assert.Zero(t, d.idp.Stats().CodeExchanges)
	loc, _ := url.Parse(cb.RedirectURL)
	code := loc.Query().Get("code")
	require.NotEmpty(t, code)

	// A wrong verifier is refused by the proxy, changes nothing and never reaches upstream.
	mark := d.store.mark()
	_, err = d.p.ExchangeAuthorizationCode(d.ctx, codeRequest(c, code, pkce.GenerateVerifier()))
	assert.Equal(t, oauthproxy.ErrCodeInvalidGrant, oauthErr(t, err).Code)
	d.store.unchanged(t, mark)
	assert.Nil(t, d.idp.LastTokenRequest(), "the upstream was not called")

	tok, err := d.p.ExchangeAuthorizationCode(d.ctx, codeRequest(c, code, verifier))
	require.NoError(t, err)
	assert.NotEmpty(t, tok.AccessToken)
	assert.Equal(t, 1, d.idp.Stats().CodeExchanges)
	assert.Equal(t, verifier, d.idp.LastTokenRequest().Get("code_verifier"), "the upstream checked the client's own verifier")
	claims, err := d.p.VerifyAccessToken(d.ctx, tok.AccessToken)
	require.NoError(t, err)
	assert.Equal(t, "user-1", claims.Subject)
}

func TestMethods_Authorize_Accepts(t *testing.T) {
	d := newDirect(t, withConfig(func(c *oauthproxy.Config) { c.DisableConsent = true }))
	c := d.register("none")
	challenge := pkce.Challenge(pkce.GenerateVerifier())
	tests := []struct {
		name   string
		mutate func(*oauthproxy.AuthorizationRequest)
		scope  string // scope sent upstream
	}{
		{"as registered", func(*oauthproxy.AuthorizationRequest) {}, "openid email"},
		{"loopback port differs (RFC 8252 §7.3)", func(r *oauthproxy.AuthorizationRequest) {
			r.RedirectURI = "http://127.0.0.1:49152/client/callback"
		}, "openid email"},
		{"redirect_uri omitted, one registered", func(r *oauthproxy.AuthorizationRequest) { r.RedirectURI = "" }, "openid email"},
		{"resource names this server", func(r *oauthproxy.AuthorizationRequest) { r.Resource = directBaseURL + "/mcp" }, "openid email"},
		{"no scope: the configured set", func(r *oauthproxy.AuthorizationRequest) { r.Scope = "" }, "openid email profile"},
		{"duplicate scopes collapse", func(r *oauthproxy.AuthorizationRequest) { r.Scope = "email email  openid" }, "email openid"},
		{"no state", func(r *oauthproxy.AuthorizationRequest) { r.State = "" }, "openid email"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req := authRequest(c, challenge)
			tt.mutate(req)
			res, err := d.p.Authorize(d.ctx, req)
			require.NoError(t, err)
			u, err := url.Parse(res.RedirectURL)
			require.NoError(t, err)
			assert.Equal(t, tt.scope, u.Query().Get("scope"))
		})
	}
}

func TestMethods_Authorize_Errors(t *testing.T) {
	d := newDirect(t)
	c := d.register("none")
	two, err := d.p.RegisterClient(d.ctx, &oauthproxy.ClientMetadata{
		RedirectURIs:            []string{clientRedirect, "http://localhost:9/other"},
		TokenEndpointAuthMethod: "none",
	})
	require.NoError(t, err)
	challenge := pkce.Challenge(pkce.GenerateVerifier())
	tests := []struct {
		name       string
		mutate     func(*oauthproxy.AuthorizationRequest)
		code       string
		status     int
		noRedirect bool
	}{
		// 400, not 401: no client authentication was attempted; the error is shown as a page.
		{"unknown client", func(r *oauthproxy.AuthorizationRequest) { r.ClientID = "no-such-client" },
			oauthproxy.ErrCodeInvalidClient, http.StatusBadRequest, true},
		{"missing client_id", func(r *oauthproxy.AuthorizationRequest) { r.ClientID = "" },
			oauthproxy.ErrCodeInvalidClient, http.StatusBadRequest, true},
		{"redirect_uri not registered", func(r *oauthproxy.AuthorizationRequest) { r.RedirectURI = "http://127.0.0.1:9/elsewhere" },
			oauthproxy.ErrCodeInvalidRequest, http.StatusBadRequest, true},
		{"redirect_uri on another loopback name", func(r *oauthproxy.AuthorizationRequest) { r.RedirectURI = "http://localhost:9/client/callback" },
			oauthproxy.ErrCodeInvalidRequest, http.StatusBadRequest, true},
		{"redirect_uri to an attacker", func(r *oauthproxy.AuthorizationRequest) { r.RedirectURI = "https://evil.example/client/callback" },
			oauthproxy.ErrCodeInvalidRequest, http.StatusBadRequest, true},
		{"redirect_uri with a fragment", func(r *oauthproxy.AuthorizationRequest) { r.RedirectURI = clientRedirect + "#x" },
			oauthproxy.ErrCodeInvalidRequest, http.StatusBadRequest, true},
		{"redirect_uri with userinfo", func(r *oauthproxy.AuthorizationRequest) { r.RedirectURI = "http://127.0.0.1:@evil.com/client/callback" },
			oauthproxy.ErrCodeInvalidRequest, http.StatusBadRequest, true},
		{"redirect_uri omitted, two registered", func(r *oauthproxy.AuthorizationRequest) { r.ClientID, r.RedirectURI = two.ClientID, "" },
			oauthproxy.ErrCodeInvalidRequest, http.StatusBadRequest, true},
		{"response_type token", func(r *oauthproxy.AuthorizationRequest) { r.ResponseType = "token" },
			oauthproxy.ErrCodeUnsupportedResponseType, http.StatusBadRequest, false},
		{"response_type missing", func(r *oauthproxy.AuthorizationRequest) { r.ResponseType = "" },
			oauthproxy.ErrCodeUnsupportedResponseType, http.StatusBadRequest, false},
		{"no code_challenge", func(r *oauthproxy.AuthorizationRequest) { r.CodeChallenge, r.CodeChallengeMethod = "", "" },
			oauthproxy.ErrCodeInvalidRequest, http.StatusBadRequest, false},
		{"plain PKCE", func(r *oauthproxy.AuthorizationRequest) { r.CodeChallengeMethod = "plain" },
			oauthproxy.ErrCodeInvalidRequest, http.StatusBadRequest, false},
		{"PKCE method missing", func(r *oauthproxy.AuthorizationRequest) { r.CodeChallengeMethod = "" },
			oauthproxy.ErrCodeInvalidRequest, http.StatusBadRequest, false},
		{"malformed challenge", func(r *oauthproxy.AuthorizationRequest) { r.CodeChallenge = "too-short" },
			oauthproxy.ErrCodeInvalidRequest, http.StatusBadRequest, false},
		{"scope outside Scopes", func(r *oauthproxy.AuthorizationRequest) { r.Scope = "openid admin" },
			oauthproxy.ErrCodeInvalidScope, http.StatusBadRequest, false},
		{"scope malformed", func(r *oauthproxy.AuthorizationRequest) { r.Scope = `open"id` },
			oauthproxy.ErrCodeInvalidScope, http.StatusBadRequest, false},
		{"resource of another server", func(r *oauthproxy.AuthorizationRequest) { r.Resource = "https://evil.example/mcp" },
			oauthproxy.ErrCodeInvalidTarget, http.StatusBadRequest, false},
		{"resource not exactly ours", func(r *oauthproxy.AuthorizationRequest) { r.Resource = directBaseURL + "/mcp/" },
			oauthproxy.ErrCodeInvalidTarget, http.StatusBadRequest, false},
		{"resource is the issuer", func(r *oauthproxy.AuthorizationRequest) { r.Resource = directBaseURL },
			oauthproxy.ErrCodeInvalidTarget, http.StatusBadRequest, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req := authRequest(c, challenge)
			tt.mutate(req)
			mark := d.store.mark()
			res, err := d.p.Authorize(d.ctx, req)
			assert.Nil(t, res)
			oe := oauthErr(t, err)
			assert.Equal(t, tt.code, oe.Code, "%v", err)
			assert.Equal(t, tt.status, oe.Status)
			assert.Equal(t, tt.noRedirect, oe.NoRedirect, "NoRedirect")
			d.store.unchanged(t, mark, "a refused authorization request stores nothing")
			if !oe.NoRedirect {
				// Handler sends redirectable errors to the client's redirect
				// URI with state and iss (RFC 6749 §4.1.2.1, RFC 9207).
				w := httptest.NewRecorder()
				d.p.Handler().ServeHTTP(w, httptest.NewRequest(http.MethodGet, "/oauth/authorize?"+authorizeQuery(req).Encode(), nil))
				require.Equal(t, http.StatusFound, w.Code)
				u, err := url.Parse(w.Header().Get("Location"))
				require.NoError(t, err)
				assert.Equal(t, "127.0.0.1:9", u.Host)
				assert.Equal(t, tt.code, u.Query().Get("error"))
				assert.Equal(t, "client-state-123", u.Query().Get("state"))
				assert.Equal(t, directBaseURL, u.Query().Get("iss"))
			}
		})
	}
	assert.Zero(t, d.idp.Stats().Authorizations)
}

// authorizeQuery is req as the query of GET /oauth/authorize.
func authorizeQuery(req *oauthproxy.AuthorizationRequest) url.Values {
	q := url.Values{}
	for k, v := range map[string]string{
		"response_type": req.ResponseType, "client_id": req.ClientID, "redirect_uri": req.RedirectURI,
		"scope": req.Scope, "state": req.State, "code_challenge": req.CodeChallenge,
		"code_challenge_method": req.CodeChallengeMethod, "resource": req.Resource,
	} {
		if v != "" {
			q.Set(k, v)
		}
	}
	return q
}
