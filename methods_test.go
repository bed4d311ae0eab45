package oauthproxy_test

// Each documented method of *Proxy called directly, without HTTP (DESIGN.md:
// "Each documented method is usable without HTTP"). Refused requests must
// leave the storage untouched (S14).

import (
	"errors"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

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
				// Redirectable errors render on the client's redirect URI with state and iss.
				u, err := url.Parse(d.p.ErrorRedirectURL(clientRedirect, req.State, oe))
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

// ---------------------------------------------------------------------------
// ConsentPage and HandleConsent

func TestMethods_Consent_Approve(t *testing.T) {
	d := newDirect(t)
	c := d.register("none")
	res, err := d.p.Authorize(d.ctx, authRequest(c, pkce.Challenge(pkce.GenerateVerifier())))
	require.NoError(t, err)

	mark := d.store.mark()
	page, err := d.p.ConsentPage(d.ctx, res.TransactionID, "")
	require.NoError(t, err)
	d.store.unchanged(t, mark, "showing the page changes nothing")
	assert.Equal(t, res.TransactionID, page.TransactionID)
	assert.Equal(t, c.ClientID, page.ClientID)
	assert.Equal(t, "Test <Client>", page.ClientName, "raw: the template escapes it")
	assert.Equal(t, "127.0.0.1:9", page.RedirectHost)
	assert.Equal(t, []string{"openid", "email"}, page.Scopes)
	assert.Equal(t, "127.0.0.1", page.ProviderName, "default: the upstream's host")
	require.NotEmpty(t, page.CSRFToken)
	require.NotEmpty(t, page.CSRFCookie)

	// A repeated GET (prefetch, reload) with the cookie keeps the same token.
	again, err := d.p.ConsentPage(d.ctx, res.TransactionID, page.CSRFCookie)
	require.NoError(t, err)
	assert.Equal(t, page.CSRFCookie, again.CSRFCookie)
	assert.Equal(t, page.CSRFToken, again.CSRFToken)

	dec, err := d.p.HandleConsent(d.ctx, &oauthproxy.ConsentDecision{
		TransactionID: res.TransactionID, Approve: true, CSRFToken: page.CSRFToken, CSRFCookie: page.CSRFCookie,
	})
	require.NoError(t, err)
	require.NotEmpty(t, dec.BrowserBinding)
	u, err := url.Parse(dec.RedirectURL)
	require.NoError(t, err)
	assert.Equal(t, d.idp.AuthorizationEndpoint(), u.Scheme+"://"+u.Host+u.Path)
	assert.Equal(t, res.TransactionID, u.Query().Get("state"))
	assert.Equal(t, "upstream-client", u.Query().Get("client_id"))
	assert.Equal(t, directBaseURL+"/oauth/callback", u.Query().Get("redirect_uri"))

	// The approved transaction completes.
	upCode, state := d.upstreamLogin(dec.RedirectURL)
	cb, err := d.p.HandleCallback(d.ctx, &oauthproxy.CallbackRequest{Code: upCode, State: state, BrowserBinding: dec.BrowserBinding})
	require.NoError(t, err)
	loc, _ := url.Parse(cb.RedirectURL)
	assert.NotEmpty(t, loc.Query().Get("code"))
}

func TestMethods_Consent_Deny(t *testing.T) {
	d := newDirect(t)
	c := d.register("none")
	res, err := d.p.Authorize(d.ctx, authRequest(c, pkce.Challenge(pkce.GenerateVerifier())))
	require.NoError(t, err)
	page, err := d.p.ConsentPage(d.ctx, res.TransactionID, "")
	require.NoError(t, err)

	dec, err := d.p.HandleConsent(d.ctx, &oauthproxy.ConsentDecision{
		TransactionID: res.TransactionID, Approve: false, CSRFToken: page.CSRFToken, CSRFCookie: page.CSRFCookie,
	})
	require.NoError(t, err)
	assert.Empty(t, dec.BrowserBinding)
	u, err := url.Parse(dec.RedirectURL)
	require.NoError(t, err)
	assert.Equal(t, clientRedirect, u.Scheme+"://"+u.Host+u.Path)
	assert.Equal(t, "access_denied", u.Query().Get("error"))
	assert.Equal(t, "client-state-123", u.Query().Get("state"))
	assert.Equal(t, directBaseURL, u.Query().Get("iss"))
	assert.Empty(t, u.Query().Get("code"))

	// The denied transaction is over.
	_, err = d.p.ConsentPage(d.ctx, res.TransactionID, page.CSRFCookie)
	assert.True(t, oauthErr(t, err).NoRedirect)
	_, err = d.p.HandleConsent(d.ctx, &oauthproxy.ConsentDecision{
		TransactionID: res.TransactionID, Approve: true, CSRFToken: page.CSRFToken, CSRFCookie: page.CSRFCookie,
	})
	assert.True(t, oauthErr(t, err).NoRedirect)
	assert.Zero(t, d.idp.Stats().Authorizations)
}

func TestMethods_Consent_Refused(t *testing.T) {
	d := newDirect(t)
	c := d.register("none")
	res, err := d.p.Authorize(d.ctx, authRequest(c, pkce.Challenge(pkce.GenerateVerifier())))
	require.NoError(t, err)
	page, err := d.p.ConsentPage(d.ctx, res.TransactionID, "")
	require.NoError(t, err)
	other, err := d.p.Authorize(d.ctx, authRequest(c, pkce.Challenge(pkce.GenerateVerifier())))
	require.NoError(t, err)
	otherPage, err := d.p.ConsentPage(d.ctx, other.TransactionID, page.CSRFCookie)
	require.NoError(t, err)

	tests := []struct {
		name string
		d    oauthproxy.ConsentDecision
		code string
	}{
		{"no transaction", oauthproxy.ConsentDecision{CSRFToken: page.CSRFToken, CSRFCookie: page.CSRFCookie}, oauthproxy.ErrCodeInvalidRequest},
		{"no CSRF token", oauthproxy.ConsentDecision{TransactionID: res.TransactionID, CSRFCookie: page.CSRFCookie}, oauthproxy.ErrCodeAccessDenied},
		{"no CSRF cookie", oauthproxy.ConsentDecision{TransactionID: res.TransactionID, CSRFToken: page.CSRFToken}, oauthproxy.ErrCodeAccessDenied},
		{"token of another cookie", oauthproxy.ConsentDecision{TransactionID: res.TransactionID, CSRFToken: page.CSRFToken, CSRFCookie: "another-browser"}, oauthproxy.ErrCodeAccessDenied},
		{"token of another transaction", oauthproxy.ConsentDecision{TransactionID: res.TransactionID, CSRFToken: otherPage.CSRFToken, CSRFCookie: page.CSRFCookie}, oauthproxy.ErrCodeAccessDenied},
		{"forged token", oauthproxy.ConsentDecision{TransactionID: res.TransactionID, CSRFToken: "forged", CSRFCookie: page.CSRFCookie}, oauthproxy.ErrCodeAccessDenied},
		{"unknown transaction", oauthproxy.ConsentDecision{TransactionID: "unknown", CSRFToken: page.CSRFToken, CSRFCookie: page.CSRFCookie}, oauthproxy.ErrCodeAccessDenied},
	}
	for _, tt := range tests {
		for _, approve := range []bool{true, false} {
			t.Run(tt.name+map[bool]string{true: "/approve", false: "/deny"}[approve], func(t *testing.T) {
				dec := tt.d
				dec.Approve = approve
				mark := d.store.mark()
				got, err := d.p.HandleConsent(d.ctx, &dec)
				assert.Nil(t, got)
				oe := oauthErr(t, err)
				assert.Equal(t, tt.code, oe.Code)
				assert.True(t, oe.NoRedirect, "a refused consent POST is shown, never redirected")
				d.store.unchanged(t, mark)
			})
		}
	}
	// After all that, the real decision still works.
	dec, err := d.p.HandleConsent(d.ctx, &oauthproxy.ConsentDecision{
		TransactionID: res.TransactionID, Approve: true, CSRFToken: page.CSRFToken, CSRFCookie: page.CSRFCookie,
	})
	require.NoError(t, err)
	assert.NotEmpty(t, dec.BrowserBinding)

	t.Run("ConsentPage of an unknown transaction", func(t *testing.T) {
		_, err := d.p.ConsentPage(d.ctx, "unknown", "")
		oe := oauthErr(t, err)
		assert.Equal(t, oauthproxy.ErrCodeInvalidRequest, oe.Code)
		assert.True(t, oe.NoRedirect)
		_, err = d.p.ConsentPage(d.ctx, "", "")
		assert.True(t, oauthErr(t, err).NoRedirect)
	})
}

// ---------------------------------------------------------------------------
// HandleCallback

func TestMethods_HandleCallback(t *testing.T) {
	d := newDirect(t)
	c := d.register("none")
	verifier := pkce.GenerateVerifier()
	txn, upstreamURL, binding := d.toUpstream(authRequest(c, pkce.Challenge(verifier)))
	upCode, state := d.upstreamLogin(upstreamURL)
	require.Equal(t, txn, state)
	_, _, otherBinding := d.toUpstream(authRequest(c, pkce.Challenge(verifier)))

	refused := []struct {
		name string
		req  oauthproxy.CallbackRequest
		code string
	}{
		{"no state", oauthproxy.CallbackRequest{Code: upCode, BrowserBinding: binding}, oauthproxy.ErrCodeInvalidRequest},
		{"no binding cookie", oauthproxy.CallbackRequest{Code: upCode, State: state}, oauthproxy.ErrCodeAccessDenied},
		{"another transaction's binding", oauthproxy.CallbackRequest{Code: upCode, State: state, BrowserBinding: otherBinding}, oauthproxy.ErrCodeAccessDenied},
		{"forged binding", oauthproxy.CallbackRequest{Code: upCode, State: state, BrowserBinding: "forged"}, oauthproxy.ErrCodeAccessDenied},
		{"unknown state", oauthproxy.CallbackRequest{Code: upCode, State: "unknown", BrowserBinding: binding}, oauthproxy.ErrCodeAccessDenied},
	}
	for _, tt := range refused {
		t.Run(tt.name, func(t *testing.T) {
			req := tt.req
			mark := d.store.mark()
			res, err := d.p.HandleCallback(d.ctx, &req)
			assert.Nil(t, res)
			oe := oauthErr(t, err)
			assert.Equal(t, tt.code, oe.Code)
			assert.True(t, oe.NoRedirect)
			d.store.unchanged(t, mark, "a refused callback consumes nothing")
		})
	}
	assert.Zero(t, d.idp.Stats().CodeExchanges, "refused callbacks never redeem the upstream code")

	mark := d.store.mark()
	res, err := d.p.HandleCallback(d.ctx, &oauthproxy.CallbackRequest{Code: upCode, State: state, BrowserBinding: binding})
	require.NoError(t, err)
	loc, err := url.Parse(res.RedirectURL)
	require.NoError(t, err)
	assert.Equal(t, clientRedirect, loc.Scheme+"://"+loc.Host+loc.Path)
	code := loc.Query().Get("code")
	assert.GreaterOrEqual(t, len(code), 43, "256-bit code")
	assert.Equal(t, "client-state-123", loc.Query().Get("state"))
	assert.Equal(t, directBaseURL, loc.Query().Get("iss"), "RFC 9207")
	assert.Equal(t, 1, d.idp.Stats().CodeExchanges)
	assert.Equal(t, directBaseURL+"/oauth/callback", d.idp.LastTokenRequest().Get("redirect_uri"))
	var took, saved []string
	for _, op := range d.store.since(mark) {
		switch op.Op {
		case "take":
			took = append(took, op.Key)
		case "save":
			saved = append(saved, strings.SplitN(op.Key, ":", 2)[0])
		}
	}
	require.Len(t, took, 1)
	assert.True(t, strings.HasPrefix(took[0], "txn:"), "the transaction is consumed")
	assert.ElementsMatch(t, []string{"grant", "code"}, saved)
	for _, op := range d.store.since(mark) {
		assert.NotContains(t, op.Key, code, "codes are stored by hash")
	}

	// The callback is single use.
	mark = d.store.mark()
	_, err = d.p.HandleCallback(d.ctx, &oauthproxy.CallbackRequest{Code: upCode, State: state, BrowserBinding: binding})
	oe := oauthErr(t, err)
	assert.Equal(t, oauthproxy.ErrCodeInvalidRequest, oe.Code)
	assert.True(t, oe.NoRedirect)
	d.store.unchanged(t, mark)

	// The code it issued works with the client's verifier.
	tok, err := d.p.ExchangeAuthorizationCode(d.ctx, codeRequest(c, code, verifier))
	require.NoError(t, err)
	assert.NotEmpty(t, tok.AccessToken)
}

func TestMethods_HandleCallback_UpstreamErrors(t *testing.T) {
	tests := []struct {
		name      string
		req       func(upCode string) oauthproxy.CallbackRequest
		wantError string
		wantDesc  string
	}{
		{"upstream denied", func(string) oauthproxy.CallbackRequest {
			return oauthproxy.CallbackRequest{Error: "access_denied", ErrorDescription: "the user said \"no\"\n"}
		}, "access_denied", "the user said no"},
		{"upstream sent neither code nor error", func(string) oauthproxy.CallbackRequest {
			return oauthproxy.CallbackRequest{}
		}, "server_error", ""},
		{"upstream code does not redeem", func(string) oauthproxy.CallbackRequest {
			return oauthproxy.CallbackRequest{Code: "bogus"}
		}, "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := newDirect(t)
			c := d.register("none")
			txn, _, binding := d.toUpstream(authRequest(c, pkce.Challenge(pkce.GenerateVerifier())))
			req := tt.req("")
			req.State, req.BrowserBinding = txn, binding
			res, err := d.p.HandleCallback(d.ctx, &req)
			require.NoError(t, err, "an upstream error is relayed to the client, not returned")
			u, err := url.Parse(res.RedirectURL)
			require.NoError(t, err)
			assert.Equal(t, clientRedirect, u.Scheme+"://"+u.Host+u.Path)
			q := u.Query()
			if tt.wantError != "" {
				assert.Equal(t, tt.wantError, q.Get("error"))
			} else {
				assert.NotEmpty(t, q.Get("error"))
			}
			if tt.wantDesc != "" {
				assert.Equal(t, tt.wantDesc, q.Get("error_description"), "sanitized (S18)")
			}
			assert.NotContains(t, res.RedirectURL, "upstream-secret")
			assert.Empty(t, q.Get("code"))
			assert.Equal(t, "client-state-123", q.Get("state"))
			assert.Equal(t, directBaseURL, q.Get("iss"))
			// The transaction is over either way.
			_, err = d.p.HandleCallback(d.ctx, &req)
			assert.True(t, oauthErr(t, err).NoRedirect)
		})
	}
}

// ---------------------------------------------------------------------------
// ExchangeAuthorizationCode

func TestMethods_ExchangeAuthorizationCode(t *testing.T) {
	d := newDirect(t)
	c := d.register("client_secret_basic")
	code, verifier := d.login(c)
	mark := d.store.mark()
	tok, err := d.p.ExchangeAuthorizationCode(d.ctx, codeRequest(c, code, verifier))
	require.NoError(t, err)
	assert.Equal(t, "Bearer", tok.TokenType)
	assert.Equal(t, int64(3600), tok.ExpiresIn)
	assert.Equal(t, "openid email", tok.Scope)
	assert.NotEmpty(t, tok.RefreshToken)
	assert.Empty(t, tok.IDToken, "swap mode never passes the upstream id_token on")
	var took []string
	for _, op := range d.store.since(mark) {
		if op.Op == "take" {
			took = append(took, op.Key)
		}
	}
	require.Len(t, took, 1)
	assert.True(t, strings.HasPrefix(took[0], "code:"))

	claims, err := d.p.VerifyAccessToken(d.ctx, tok.AccessToken)
	require.NoError(t, err)
	assert.Equal(t, "user-1", claims.Subject)
	assert.Equal(t, c.ClientID, claims.ClientID)
	assert.Equal(t, directBaseURL+"/mcp", claims.Audience)
	assert.Equal(t, []string{"openid", "email"}, claims.Scopes)

	// Single use.
	_, err = d.p.ExchangeAuthorizationCode(d.ctx, codeRequest(c, code, verifier))
	assert.Equal(t, oauthproxy.ErrCodeInvalidGrant, oauthErr(t, err).Code)

	t.Run("client without refresh grant gets no refresh token", func(t *testing.T) {
		c := d.register("none", "authorization_code")
		tok := d.tokens(c)
		assert.Empty(t, tok.RefreshToken)
		assert.NotEmpty(t, tok.AccessToken)
	})
}

func TestMethods_ExchangeAuthorizationCode_Refused(t *testing.T) {
	d := newDirect(t)
	c := d.register("client_secret_basic")
	public := d.register("none")
	code, verifier := d.login(c)
	otherCode, _ := d.login(public)

	tests := []struct {
		name   string
		mutate func(*oauthproxy.TokenRequest)
		code   string
		status int
	}{
		{"wrong grant_type", func(r *oauthproxy.TokenRequest) { r.GrantType = "refresh_token" },
			oauthproxy.ErrCodeUnsupportedGrantType, 400},
		{"no client", func(r *oauthproxy.TokenRequest) { r.Client = oauthproxy.ClientCredentials{} },
			oauthproxy.ErrCodeInvalidClient, 401},
		{"unknown client", func(r *oauthproxy.TokenRequest) { r.Client.ClientID = "nobody" },
			oauthproxy.ErrCodeInvalidClient, 401},
		{"wrong secret", func(r *oauthproxy.TokenRequest) { r.Client.ClientSecret = "wrong" },
			oauthproxy.ErrCodeInvalidClient, 401},
		{"no secret", func(r *oauthproxy.TokenRequest) { r.Client.ClientSecret = "" },
			oauthproxy.ErrCodeInvalidClient, 401},
		{"other auth method than registered", func(r *oauthproxy.TokenRequest) { r.Client.Method = "client_secret_post" },
			oauthproxy.ErrCodeInvalidClient, 401},
		{"confidential client posing as public", func(r *oauthproxy.TokenRequest) {
			r.Client = oauthproxy.ClientCredentials{ClientID: c.ClientID, Method: "none"}
		}, oauthproxy.ErrCodeInvalidClient, 401},
		{"no code", func(r *oauthproxy.TokenRequest) { r.Code = "" },
			oauthproxy.ErrCodeInvalidRequest, 400},
		{"unknown code", func(r *oauthproxy.TokenRequest) { r.Code = "unknown" },
			oauthproxy.ErrCodeInvalidGrant, 400},
		{"no verifier", func(r *oauthproxy.TokenRequest) { r.CodeVerifier = "" },
			oauthproxy.ErrCodeInvalidRequest, 400},
		{"wrong verifier", func(r *oauthproxy.TokenRequest) { r.CodeVerifier = pkce.GenerateVerifier() },
			oauthproxy.ErrCodeInvalidGrant, 400},
		{"the challenge as verifier", func(r *oauthproxy.TokenRequest) { r.CodeVerifier = pkce.Challenge(verifier) },
			oauthproxy.ErrCodeInvalidGrant, 400},
		{"malformed verifier", func(r *oauthproxy.TokenRequest) { r.CodeVerifier = "short" },
			oauthproxy.ErrCodeInvalidGrant, 400},
		{"other redirect_uri", func(r *oauthproxy.TokenRequest) { r.RedirectURI = "http://127.0.0.1:9/other" },
			oauthproxy.ErrCodeInvalidGrant, 400},
		{"resource of another server", func(r *oauthproxy.TokenRequest) { r.Resource = "https://evil.example/mcp" },
			oauthproxy.ErrCodeInvalidTarget, 400},
		{"another client's code", func(r *oauthproxy.TokenRequest) { r.Code = otherCode },
			oauthproxy.ErrCodeInvalidGrant, 400},
		{"my code, another client", func(r *oauthproxy.TokenRequest) { r.Client = creds(public) },
			oauthproxy.ErrCodeInvalidGrant, 400},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req := codeRequest(c, code, verifier)
			tt.mutate(req)
			mark := d.store.mark()
			tok, err := d.p.ExchangeAuthorizationCode(d.ctx, req)
			assert.Nil(t, tok)
			oe := oauthErr(t, err)
			assert.Equal(t, tt.code, oe.Code, "%v", err)
			assert.Equal(t, tt.status, oe.Status)
			d.store.unchanged(t, mark, "a refused token request changes nothing")
		})
	}
	t.Run("Basic failure is flagged for WWW-Authenticate", func(t *testing.T) {
		req := codeRequest(c, code, verifier)
		req.Client.ClientSecret = "wrong"
		_, err := d.p.ExchangeAuthorizationCode(d.ctx, req)
		assert.True(t, oauthErr(t, err).BasicAuth)
	})

	// None of the refused requests consumed the code.
	tok, err := d.p.ExchangeAuthorizationCode(d.ctx, codeRequest(c, code, verifier))
	require.NoError(t, err)
	assert.NotEmpty(t, tok.AccessToken)
	// Nor the other client's.
	_, err = d.p.ExchangeAuthorizationCode(d.ctx, codeRequest(public, otherCode, "x"))
	assert.Equal(t, oauthproxy.ErrCodeInvalidGrant, oauthErr(t, err).Code)
}

func TestMethods_ExchangeAuthorizationCode_Expired(t *testing.T) {
	d := newDirect(t)
	c := d.register("none")
	code, verifier := d.login(c)
	d.clock.Advance(oauthproxy.DefaultAuthorizationCodeTTL)
	_, err := d.p.ExchangeAuthorizationCode(d.ctx, codeRequest(c, code, verifier))
	assert.Equal(t, oauthproxy.ErrCodeInvalidGrant, oauthErr(t, err).Code)
}

// ---------------------------------------------------------------------------
// ExchangeRefreshToken

func TestMethods_ExchangeRefreshToken(t *testing.T) {
	d := newDirect(t)
	c := d.register("client_secret_post")
	first := d.tokens(c)

	mark := d.store.mark()
	next, err := d.refresh(c, first.RefreshToken)
	require.NoError(t, err)
	assert.Equal(t, "Bearer", next.TokenType)
	assert.Equal(t, int64(3600), next.ExpiresIn)
	assert.Equal(t, "openid email", next.Scope)
	assert.NotEqual(t, first.RefreshToken, next.RefreshToken, "rotated")
	assert.NotEqual(t, first.AccessToken, next.AccessToken)
	took := 0
	for _, op := range d.store.since(mark) {
		if op.Op == "take" {
			took++
			assert.True(t, strings.HasPrefix(op.Key, "refresh:"))
		}
	}
	assert.Equal(t, 1, took)
	assert.Zero(t, d.idp.Stats().Refreshes, "the upstream token is fresh: no upstream call")

	claims, err := d.p.VerifyAccessToken(d.ctx, next.AccessToken)
	require.NoError(t, err)
	assert.Equal(t, "user-1", claims.Subject)
	assert.Equal(t, c.ClientID, claims.ClientID)

	// The old one is spent.
	_, err = d.refresh(c, first.RefreshToken)
	assert.Equal(t, oauthproxy.ErrCodeInvalidGrant, oauthErr(t, err).Code)

	t.Run("narrowed scope", func(t *testing.T) {
		tok := d.tokens(c)
		narrow, err := d.p.ExchangeRefreshToken(d.ctx, &oauthproxy.TokenRequest{
			RefreshToken: tok.RefreshToken, Scope: "email", Client: creds(c),
		})
		require.NoError(t, err, "an empty grant_type is allowed on the typed call")
		assert.Equal(t, "email", narrow.Scope)
		claims, err := d.p.VerifyAccessToken(d.ctx, narrow.AccessToken)
		require.NoError(t, err)
		assert.Equal(t, []string{"email"}, claims.Scopes)
	})
}

func TestMethods_ExchangeRefreshToken_Refused(t *testing.T) {
	d := newDirect(t)
	c := d.register("client_secret_basic")
	other := d.register("none")
	noRefresh := d.register("none", "authorization_code")
	tok := d.tokens(c)
	otherTok := d.tokens(other)

	base := func() *oauthproxy.TokenRequest {
		return &oauthproxy.TokenRequest{GrantType: "refresh_token", RefreshToken: tok.RefreshToken, Client: creds(c)}
	}
	tests := []struct {
		name   string
		mutate func(*oauthproxy.TokenRequest)
		code   string
		status int
	}{
		{"wrong grant_type", func(r *oauthproxy.TokenRequest) { r.GrantType = "authorization_code" },
			oauthproxy.ErrCodeUnsupportedGrantType, 400},
		{"wrong secret", func(r *oauthproxy.TokenRequest) { r.Client.ClientSecret = "wrong" },
			oauthproxy.ErrCodeInvalidClient, 401},
		{"no client", func(r *oauthproxy.TokenRequest) { r.Client = oauthproxy.ClientCredentials{} },
			oauthproxy.ErrCodeInvalidClient, 401},
		{"no refresh token", func(r *oauthproxy.TokenRequest) { r.RefreshToken = "" },
			oauthproxy.ErrCodeInvalidRequest, 400},
		{"unknown refresh token", func(r *oauthproxy.TokenRequest) { r.RefreshToken = "unknown" },
			oauthproxy.ErrCodeInvalidGrant, 400},
		{"access token as refresh token", func(r *oauthproxy.TokenRequest) { r.RefreshToken = tok.AccessToken },
			oauthproxy.ErrCodeInvalidGrant, 400},
		{"another client's refresh token", func(r *oauthproxy.TokenRequest) { r.RefreshToken = otherTok.RefreshToken },
			oauthproxy.ErrCodeInvalidGrant, 400},
		{"my refresh token, another client", func(r *oauthproxy.TokenRequest) { r.Client = creds(other) },
			oauthproxy.ErrCodeInvalidGrant, 400},
		{"client not registered for refresh", func(r *oauthproxy.TokenRequest) { r.Client = creds(noRefresh) },
			oauthproxy.ErrCodeUnauthorizedClient, 400},
		{"wider scope", func(r *oauthproxy.TokenRequest) { r.Scope = "openid email profile" },
			oauthproxy.ErrCodeInvalidScope, 400},
		{"scope outside Scopes", func(r *oauthproxy.TokenRequest) { r.Scope = "admin" },
			oauthproxy.ErrCodeInvalidScope, 400},
		{"malformed scope", func(r *oauthproxy.TokenRequest) { r.Scope = `open"id` },
			oauthproxy.ErrCodeInvalidScope, 400},
		{"resource of another server", func(r *oauthproxy.TokenRequest) { r.Resource = "https://evil.example/mcp" },
			oauthproxy.ErrCodeInvalidTarget, 400},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req := base()
			tt.mutate(req)
			mark := d.store.mark()
			resp, err := d.p.ExchangeRefreshToken(d.ctx, req)
			assert.Nil(t, resp)
			oe := oauthErr(t, err)
			assert.Equal(t, tt.code, oe.Code, "%v", err)
			assert.Equal(t, tt.status, oe.Status)
			d.store.unchanged(t, mark, "a refused refresh changes nothing")
		})
	}

	// The refresh tokens survived every refused attempt.
	_, err := d.p.ExchangeRefreshToken(d.ctx, base())
	require.NoError(t, err)
	_, err = d.refresh(other, otherTok.RefreshToken)
	require.NoError(t, err)

	t.Run("expired refresh token", func(t *testing.T) {
		d := newDirect(t, withConfig(func(c *oauthproxy.Config) { c.RefreshTokenTTL = 2 * time.Hour }))
		c := d.register("none")
		tok := d.tokens(c)
		d.clock.Advance(2*time.Hour - time.Second)
		next, err := d.refresh(c, tok.RefreshToken)
		require.NoError(t, err, "valid until RefreshTokenTTL")
		d.clock.Advance(2 * time.Hour)
		_, err = d.refresh(c, next.RefreshToken)
		assert.Equal(t, oauthproxy.ErrCodeInvalidGrant, oauthErr(t, err).Code)
	})
}

// ---------------------------------------------------------------------------
// LoadUpstreamTokens and VerifyAccessToken

func TestMethods_LoadUpstreamTokens(t *testing.T) {
	d := newDirect(t)
	c := d.register("none")
	tok := d.tokens(c)

	up, err := d.p.LoadUpstreamTokens(d.ctx, tok.AccessToken)
	require.NoError(t, err)
	require.NotEmpty(t, up.AccessToken)
	assert.NotEqual(t, tok.AccessToken, up.AccessToken, "the upstream's token, not the proxy's (S11)")
	assert.NotEmpty(t, up.RefreshToken)
	assert.NotEmpty(t, up.IDToken)
	assert.Equal(t, "Bearer", up.TokenType)
	assert.Equal(t, "openid email", up.Scope)
	assert.WithinDuration(t, d.clock.Now().Add(time.Hour), up.Expiry, time.Second)

	// It is the token the upstream issued: its userinfo endpoint accepts it.
	req, _ := http.NewRequest(http.MethodGet, d.idp.UserInfoEndpoint(), nil)
	req.Header.Set("Authorization", "Bearer "+up.AccessToken)
	resp, err := ownHTTPClient(t).Do(req)
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, http.StatusOK, resp.StatusCode)

	other := newDirect(t, withConfig(func(c *oauthproxy.Config) { c.JWTSigningKey = []byte(strings.Repeat("k", 32)) }))
	otherTok := other.tokens(other.register("none"))

	for _, bad := range []struct{ name, token string }{
		{"empty", ""},
		{"garbage", "garbage"},
		{"three dots", "a.b.c"},
		{"the refresh token", tok.RefreshToken},
		{"the upstream access token", up.AccessToken},
		{"the upstream id_token", up.IDToken},
		{"tampered", tamper(tok.AccessToken)},
		{"another proxy's token", otherTok.AccessToken},
	} {
		t.Run(bad.name, func(t *testing.T) {
			got, err := d.p.LoadUpstreamTokens(d.ctx, bad.token)
			assert.Nil(t, got)
			assert.ErrorIs(t, err, oauthproxy.ErrInvalidToken)
		})
	}

	t.Run("revoked grant", func(t *testing.T) {
		tok := d.tokens(c)
		require.Positive(t, d.store.dropPrefix(t, "grant:"))
		_, err := d.p.LoadUpstreamTokens(d.ctx, tok.AccessToken)
		assert.ErrorIs(t, err, oauthproxy.ErrTokenRevoked)
	})
	t.Run("expired", func(t *testing.T) {
		d.clock.Advance(time.Hour)
		_, err := d.p.LoadUpstreamTokens(d.ctx, tok.AccessToken)
		assert.ErrorIs(t, err, oauthproxy.ErrTokenExpired)
	})
}

// tamper changes one character in the middle of a JWT's signature.
func tamper(jwt string) string {
	i := strings.LastIndex(jwt, ".") + 10
	b := []byte(jwt)
	if b[i] == 'A' {
		b[i] = 'B'
	} else {
		b[i] = 'A'
	}
	return string(b)
}

func TestMethods_VerifyAccessToken(t *testing.T) {
	d := newDirect(t)
	c := d.register("none")
	issuedAt := d.clock.Now()
	tok := d.tokens(c)

	claims, err := d.p.VerifyAccessToken(d.ctx, tok.AccessToken)
	require.NoError(t, err)
	assert.Equal(t, "user-1", claims.Subject)
	assert.Equal(t, c.ClientID, claims.ClientID)
	assert.Equal(t, []string{"openid", "email"}, claims.Scopes)
	assert.Equal(t, directBaseURL+"/mcp", claims.Audience)
	assert.Equal(t, issuedAt.Add(time.Hour), claims.ExpiresAt)
	assert.Equal(t, issuedAt, claims.IssuedAt)
	assert.NotEmpty(t, claims.TokenID)
	assert.NotEmpty(t, claims.GrantID)
	assert.Equal(t, "user@example.com", claims.Extra["email"], "profile claims from the id_token")
	assert.Equal(t, "Test User", claims.Extra["name"])

	// Same keys and issuer, another resource: the audience does not match (S10).
	elsewhere := newDirect(t, withConfig(func(cfg *oauthproxy.Config) { cfg.Resource = "https://other.example/mcp" }))
	_, err = elsewhere.p.VerifyAccessToken(d.ctx, tok.AccessToken)
	assert.ErrorIs(t, err, oauthproxy.ErrInvalidToken)

	for _, bad := range []string{"", "garbage", tok.RefreshToken, tamper(tok.AccessToken)} {
		_, err := d.p.VerifyAccessToken(d.ctx, bad)
		assert.ErrorIs(t, err, oauthproxy.ErrInvalidToken, "%q", bad)
	}

	d.clock.Advance(time.Hour - time.Second)
	_, err = d.p.VerifyAccessToken(d.ctx, tok.AccessToken)
	require.NoError(t, err, "valid until exp")
	d.clock.Advance(time.Second)
	_, err = d.p.VerifyAccessToken(d.ctx, tok.AccessToken)
	assert.ErrorIs(t, err, oauthproxy.ErrTokenExpired)
	assert.NotErrorIs(t, err, oauthproxy.ErrInvalidToken)
}

// ---------------------------------------------------------------------------
// Metadata

func TestMethods_GetAuthorizationServerMetadata(t *testing.T) {
	for _, base := range []string{directBaseURL, directBaseURL + "/", "https://mcp.example.com", "https://example.com/tenant/a"} {
		t.Run(base, func(t *testing.T) {
			p, err := oauthproxy.New(oauthproxy.Config{
				BaseURL:                       base,
				UpstreamAuthorizationEndpoint: "https://idp.example.com/authorize",
				UpstreamTokenEndpoint:         "https://idp.example.com/token",
				UpstreamClientID:              "id",
				UpstreamClientSecret:          "secret",
				Scopes:                        []string{"read:user"},
				JWTSigningKey:                 testJWTKey,
				EncryptionKey:                 testEncKey,
				ConsentSigningKey:             testConsentKey,
				Logger:                        discardLogger(),
			})
			require.NoError(t, err)
			defer p.Destroy()
			issuer := strings.TrimRight(base, "/")
			md := p.GetAuthorizationServerMetadata()
			assert.Equal(t, issuer, md.Issuer)
			assert.Equal(t, issuer+"/oauth/authorize", md.AuthorizationEndpoint)
			assert.Equal(t, issuer+"/oauth/token", md.TokenEndpoint)
			assert.Equal(t, issuer+"/oauth/register", md.RegistrationEndpoint)
			assert.Equal(t, []string{"S256"}, md.CodeChallengeMethodsSupported, "S256 only (S02)")
			assert.Contains(t, md.TokenEndpointAuthMethodsSupported, "none", "public clients")
			assert.Contains(t, md.TokenEndpointAuthMethodsSupported, "client_secret_basic")
			assert.Contains(t, md.TokenEndpointAuthMethodsSupported, "client_secret_post")
			assert.True(t, md.AuthorizationResponseIssParameterSupported, "RFC 9207 (S12)")
			assert.Equal(t, []string{"code"}, md.ResponseTypesSupported)
			assert.ElementsMatch(t, []string{"authorization_code", "refresh_token"}, md.GrantTypesSupported)
			assert.Equal(t, []string{"read:user"}, md.ScopesSupported)
			assert.NotContains(t, md.GrantTypesSupported, "implicit")
			assert.NotContains(t, md.GrantTypesSupported, "password")
		})
	}
}

func TestMethods_GetProtectedResourceMetadata(t *testing.T) {
	tests := []struct {
		name, resource, want, metadataURL string
	}{
		{"default", "", directBaseURL + "/mcp", directBaseURL + "/.well-known/oauth-protected-resource/mcp"},
		{"custom on another host", "https://api.example.com/v1/mcp", "https://api.example.com/v1/mcp",
			"https://api.example.com/.well-known/oauth-protected-resource/v1/mcp"},
		{"custom with trailing slash kept", directBaseURL + "/mcp/", directBaseURL + "/mcp/",
			directBaseURL + "/.well-known/oauth-protected-resource/mcp"},
		{"custom origin only", "https://api.example.com", "https://api.example.com",
			"https://api.example.com/.well-known/oauth-protected-resource"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := newDirect(t, withConfig(func(c *oauthproxy.Config) { c.Resource = tt.resource }))
			md := d.p.GetProtectedResourceMetadata()
			assert.Equal(t, tt.want, md.Resource, "exactly Config.Resource (RFC 9728 §3.3)")
			assert.Equal(t, []string{directBaseURL}, md.AuthorizationServers)
			assert.Equal(t, []string{"header"}, md.BearerMethodsSupported)
			assert.Equal(t, []string{"openid", "email", "profile"}, md.ScopesSupported)
			assert.Equal(t, tt.metadataURL, d.p.ProtectedResourceMetadataURL())

			// Tokens are issued for it and accepted only for it.
			c := d.register("none")
			code, verifier := d.login(c)
			req := codeRequest(c, code, verifier)
			req.Resource = tt.want
			tok, err := d.p.ExchangeAuthorizationCode(d.ctx, req)
			require.NoError(t, err)
			claims, err := d.p.VerifyAccessToken(d.ctx, tok.AccessToken)
			require.NoError(t, err)
			assert.Equal(t, tt.want, claims.Audience)
		})
	}
}

func TestMethods_MetadataIsACopy(t *testing.T) {
	// Callers may modify what the getters return (e.g. to add fields before
	// serving it themselves); that must not change what the proxy grants.
	d := newDirect(t, withConfig(func(c *oauthproxy.Config) { c.DisableConsent = true }))
	as := d.p.GetAuthorizationServerMetadata()
	as.ScopesSupported[0] = "admin"
	pr := d.p.GetProtectedResourceMetadata()
	pr.ScopesSupported[1] = "root"

	assert.Equal(t, []string{"openid", "email", "profile"}, d.p.GetAuthorizationServerMetadata().ScopesSupported)
	assert.Equal(t, []string{"openid", "email", "profile"}, d.p.GetProtectedResourceMetadata().ScopesSupported)
	c := d.register("none")
	req := authRequest(c, pkce.Challenge(pkce.GenerateVerifier()))
	req.Scope = "" // the configured default set
	res, err := d.p.Authorize(d.ctx, req)
	require.NoError(t, err)
	u, err := url.Parse(res.RedirectURL)
	require.NoError(t, err)
	assert.Equal(t, "openid email profile", u.Query().Get("scope"), "no scope outside Config.Scopes is requested")
}
