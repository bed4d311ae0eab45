// Package oauthproxytest runs a fake upstream OAuth 2.0 / OpenID Connect identity
// provider over real HTTP, for the proxy's tests, its demo and users' own tests,
// in the way net/http/httptest runs a fake server.
//
// The provider knows one pre-registered client (the proxy) and one user. It follows
// RFC 6749 (authorization code and refresh grants), RFC 7636 (PKCE, S256 only),
// RFC 6750 (bearer tokens at /userinfo), OpenID Connect Core (id_token, discovery,
// JWKS) and RFC 9207 (iss in the authorization response), and can imitate the
// quirks of providers such as GitHub (form-encoded token responses, no expires_in).
//
// Codes live one minute, are bound to their redirect_uri and PKCE challenge, and
// are burned by the first exchange attempt; replaying a redeemed code revokes the
// tokens issued from it (RFC 6749 §4.1.2). Errors about client_id or redirect_uri
// render a 400 page; other authorization errors redirect with error and state.
//
// A typical test starts the provider, points the proxy at it, and lets a Browser
// play the user:
//
//	idp := oauthproxytest.Start(t, oauthproxytest.Options{ClientID: "proxy", ClientSecret: "s3cret", LoginPage: true})
//	// point the proxy at idp.AuthorizationEndpoint() and idp.TokenEndpoint() ...
//	res, err := oauthproxytest.NewBrowser(t).Authorize(authorizationURL)
//	// redeem res.Code at the proxy's token endpoint ...
package oauthproxytest

import (
	"crypto/rsa"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"sync"
	"time"
)

// Token endpoint client authentication methods (RFC 6749 §2.3.1, RFC 8414 §2).
const (
	AuthMethodBasic = "client_secret_basic"
	AuthMethodPost  = "client_secret_post"
	// AuthMethodNone is a public client (RFC 6749 §2.1): it sends only its
	// client_id, and must use PKCE (RFC 9700 §2.1.1).
	AuthMethodNone = "none"
)

// codeTTL is how long an authorization code stays valid; RFC 6749 §4.1.2
// recommends at most 10 minutes, real providers use about one.
const codeTTL = time.Minute

// loginTTL is how long a login page stays usable before its POST is refused.
const loginTTL = 10 * time.Minute

// User is the resource owner who "logs in" at the fake provider.
type User struct {
	Subject, Name, Email, Login string
}

// DefaultUser is the user who logs in when Options.User is the zero value.
var DefaultUser = User{Subject: "user-1", Name: "Test User", Email: "user@example.com", Login: "testuser"}

// Options configures a Server. ClientID and ClientSecret are required; every other
// zero value selects the standards-conforming default.
type Options struct {
	// ClientID and ClientSecret identify the one pre-registered client (the proxy).
	// ClientSecret is required, except for a public client (AuthMethodNone),
	// which has none.
	ClientID, ClientSecret string
	// AuthMethod is the client authentication the token endpoint requires:
	// AuthMethodBasic (the default), AuthMethodPost, or AuthMethodNone for a
	// public client, whose token requests must carry client_id and no
	// credentials and whose authorization requests must carry an S256
	// code_challenge. Any other method is refused.
	AuthMethod string
	// User is who logs in; the zero value means DefaultUser.
	User User
	// LoginPage makes /authorize show an HTML "Sign in as <name>" page that a human
	// submits, instead of approving at once with a 302.
	LoginPage bool
	// DenyAuthorization makes /authorize refuse every valid request by redirecting
	// with error=access_denied, as when the user clicks "Cancel" (RFC 6749 §4.1.2.1).
	DenyAuthorization bool
	// FormEncodedTokenResponse imitates GitHub: every token endpoint response,
	// errors included, is application/x-www-form-urlencoded with HTTP 200,
	// whatever the request's Accept header says.
	FormEncodedTokenResponse bool
	// OmitExpiresIn imitates GitHub: token responses carry no expires_in.
	// Access tokens still expire after AccessTokenTTL.
	OmitExpiresIn bool
	// AccessTokenTTL is the life of access tokens and id_tokens; default one hour.
	AccessTokenTTL time.Duration
	// IssueIDToken adds an RS256 id_token to token responses when the grant's scope
	// holds "openid" (OpenID Connect Core §3.1.3.3); its key is served at /jwks.
	IssueIDToken bool
	// RotateRefreshTokens makes each refresh issue a new refresh token and
	// invalidate the one presented, which then gets invalid_grant (RFC 6749 §6).
	// Without it, refresh responses repeat the refresh token that was sent.
	RotateRefreshTokens bool
	// OmitRefreshTokenOnRefresh leaves refresh_token out of refresh responses, so
	// the client must keep the one it has. It cannot be combined with rotation.
	OmitRefreshTokenOnRefresh bool
	// RequirePKCE makes /authorize refuse requests without an S256 code_challenge.
	// A challenge that is sent is always verified, with or without this option.
	RequirePKCE bool
	// Now is the clock for code, token and id_token lifetimes; default time.Now.
	Now func() time.Time

	// Provider quirks, for testing provider presets (package providers).

	// IssuerPath puts the issuer below the root, as Okta ("/oauth2/default")
	// and Keycloak ("/realms/demo") do: every endpoint, discovery included, is
	// served under it and Issuer returns URL()+IssuerPath.
	IssuerPath string
	// IssuerTrailingSlash imitates Auth0, whose issuer ends in "/": Issuer
	// (and so discovery, id_tokens and the iss parameter) carries the slash,
	// while endpoints are still Issuer without it plus "/authorize" and so on.
	IssuerTrailingSlash bool
	// CommaSeparatedScope imitates GitHub: the scope of token responses is
	// comma-separated ("read:user,user:email") instead of space-separated.
	CommaSeparatedScope bool
	// GitHubAPI imitates GitHub's OAuth paths and REST API: /login/oauth/authorize
	// and /login/oauth/access_token beside /authorize and /token, and GET /user
	// and GET /user/emails, also under /api/v3 as GitHub Enterprise Server
	// serves them. Combine it with FormEncodedTokenResponse, OmitExpiresIn and
	// CommaSeparatedScope for the whole of GitHub.
	GitHubAPI bool
	// GitHubPrivateEmail hides the user's email from GitHub's /user (email is
	// null), as for a user without a public email: only /user/emails, which
	// needs the user:email or user scope, has it.
	GitHubPrivateEmail bool
	// GoogleOfflineAccess imitates Google: the code exchange returns a refresh
	// token only when /authorize had access_type=offline, and only for the
	// user's first authorization of the client unless prompt=consent asked for
	// consent again.
	GoogleOfflineAccess bool
	// RefreshTokenRequiresOfflineAccess imitates Microsoft Entra ID, Auth0 and
	// Okta: the code exchange returns a refresh token only when the scope holds
	// offline_access.
	RefreshTokenRequiresOfflineAccess bool
	// EntraTenantID imitates Microsoft Entra ID's v2.0 endpoints for the user's
	// home tenant with this id: /{tenant}/oauth2/v2.0/authorize and /token,
	// /{tenant}/discovery/v2.0/keys and /{tenant}/v2.0/.well-known/openid-configuration
	// for any tenant path segment. Id_tokens carry tid and are issued by
	// URL()+"/"+EntraTenantID+"/v2.0"; discovery for the common, organizations
	// and consumers tenants names the templated issuer URL()+"/{tenantid}/v2.0",
	// as Entra's does.
	EntraTenantID string
	// IDTokenClaims are set on every id_token after the standard ones,
	// overriding them; a nil value removes a claim. For testing how a relying
	// party treats a wrong iss, aud or exp, or claims it must not trust.
	IDTokenClaims map[string]any
	// ForgeIDTokenSignature signs id_tokens with a key that /jwks does not
	// publish, under the published key's kid, as a forger would.
	ForgeIDTokenSignature bool
}

// Stats counts what the server has done; every field counts successes except
// FailedTokenRequests.
type Stats struct {
	Authorizations      int // authorization codes issued
	CodeExchanges       int // authorization_code grants answered with tokens
	Refreshes           int // refresh_token grants answered with tokens
	FailedTokenRequests int // token requests answered with an error or a canned FailNext response
	UserInfoRequests    int // /userinfo (and GitHubAPI's /user) requests answered with the user's claims
}

// Server is a fake identity provider listening on a loopback port.
// Its methods are safe for concurrent use.
type Server struct {
	opts Options
	ts   *httptest.Server
	done chan struct{} // closed by Close, to release hanging token requests

	closeOnce  sync.Once
	keyOnce    sync.Once
	key        *rsa.PrivateKey
	keyID      string
	forgerOnce sync.Once
	forger     *rsa.PrivateKey // ForgeIDTokenSignature's unpublished key

	mu            sync.Mutex
	user          User
	codes         map[string]*authCode
	usedCodes     map[string]*grant // redeemed codes, so a replay can revoke its tokens
	pending       map[string]*pendingLogin
	accessTokens  map[string]*accessToken
	refreshTokens map[string]*grant
	stats         Stats
	lastAuthorize url.Values
	lastToken     url.Values
	lastTokenAuth string
	failures      []cannedResponse
	hangs         []hang
	// offlineGranted records users who have given GoogleOfflineAccess consent.
	offlineGranted map[string]bool
	// declined are scopes the user declines (DeclineScopes).
	declined []string
}

// NewServer validates opts, then starts a Server on 127.0.0.1. Like httptest, it
// panics on bad options instead of returning an error. The caller must Close it;
// in a test, Start does that.
func NewServer(opts Options) *Server {
	if err := validateOptions(opts); err != nil {
		panic(err.Error())
	}
	if opts.AuthMethod == "" {
		opts.AuthMethod = AuthMethodBasic
	}
	if opts.User == (User{}) {
		opts.User = DefaultUser
	}
	if opts.AccessTokenTTL == 0 {
		opts.AccessTokenTTL = time.Hour
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	s := &Server{
		opts:          opts,
		done:          make(chan struct{}),
		user:          opts.User,
		codes:         map[string]*authCode{},
		usedCodes:     map[string]*grant{},
		pending:       map[string]*pendingLogin{},
		accessTokens:  map[string]*accessToken{},
		refreshTokens: map[string]*grant{},

		offlineGranted: map[string]bool{},
	}
	s.ts = httptest.NewServer(s.routes())
	return s
}

// validateOptions reports the first problem with opts, for NewServer's panic
// and Start's t.Fatal.
func validateOptions(opts Options) error {
	switch {
	case opts.AuthMethod == AuthMethodNone && (opts.ClientID == "" || opts.ClientSecret != ""):
		return errors.New("oauthproxytest: a public client (AuthMethodNone) needs Options.ClientID and no Options.ClientSecret")
	case opts.AuthMethod != AuthMethodNone && (opts.ClientID == "" || opts.ClientSecret == ""):
		return errors.New("oauthproxytest: Options.ClientID and Options.ClientSecret are required")
	case opts.AuthMethod != "" && opts.AuthMethod != AuthMethodBasic && opts.AuthMethod != AuthMethodPost && opts.AuthMethod != AuthMethodNone:
		return fmt.Errorf("oauthproxytest: unsupported Options.AuthMethod %q", opts.AuthMethod)
	case opts.AccessTokenTTL < 0:
		return errors.New("oauthproxytest: negative Options.AccessTokenTTL")
	case opts.RotateRefreshTokens && opts.OmitRefreshTokenOnRefresh:
		return errors.New("oauthproxytest: RotateRefreshTokens and OmitRefreshTokenOnRefresh exclude each other")
	case opts.IssuerPath != "" && !validIssuerPath(opts.IssuerPath):
		return fmt.Errorf("oauthproxytest: Options.IssuerPath %q must start with / and not end with one", opts.IssuerPath)
	case opts.EntraTenantID != "" && !validPathSegment(opts.EntraTenantID):
		return fmt.Errorf("oauthproxytest: Options.EntraTenantID %q is not a path segment", opts.EntraTenantID)
	case opts.EntraTenantID != "" && (opts.IssuerPath != "" || opts.IssuerTrailingSlash):
		return errors.New("oauthproxytest: Options.EntraTenantID sets the issuer; it excludes IssuerPath and IssuerTrailingSlash")
	}
	return nil
}

func (s *Server) routes() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /authorize", s.handleAuthorize)
	mux.Handle("POST /login", http.NewCrossOriginProtection().Handler(http.HandlerFunc(s.handleLogin)))
	mux.HandleFunc("POST /token", s.handleToken)
	mux.HandleFunc("GET /userinfo", s.handleUserInfo)
	mux.HandleFunc("POST /userinfo", s.handleUserInfo)
	mux.HandleFunc("GET /jwks", s.handleJWKS)
	mux.HandleFunc("GET /.well-known/openid-configuration", s.handleDiscovery)
	mux.HandleFunc("GET /.well-known/oauth-authorization-server", s.handleDiscovery)
	s.quirkRoutes(mux)
	if s.opts.IssuerPath != "" {
		outer := http.NewServeMux()
		outer.Handle(s.opts.IssuerPath+"/", http.StripPrefix(s.opts.IssuerPath, mux))
		return outer
	}
	return mux
}

// Close releases any request held by HangNext, then shuts the server down and
// waits for its requests to finish. It is idempotent.
func (s *Server) Close() {
	s.closeOnce.Do(func() {
		close(s.done)
		s.ts.Close()
	})
}

// URL returns the base URL, such as "http://127.0.0.1:41234".
func (s *Server) URL() string { return s.ts.URL }

// Issuer returns the issuer identifier used in discovery, id_tokens and the
// iss authorization response parameter: URL, plus Options.IssuerPath and the
// slash of Options.IssuerTrailingSlash when set.
func (s *Server) Issuer() string {
	if s.opts.IssuerTrailingSlash {
		return s.base() + "/"
	}
	return s.base()
}

// base is where the endpoints are: URL()+IssuerPath.
func (s *Server) base() string { return s.ts.URL + s.opts.IssuerPath }

// AuthorizationEndpoint returns URL()+"/authorize" (below IssuerPath, if set).
func (s *Server) AuthorizationEndpoint() string { return s.base() + "/authorize" }

// TokenEndpoint returns URL()+"/token" (below IssuerPath, if set).
func (s *Server) TokenEndpoint() string { return s.base() + "/token" }

// UserInfoEndpoint returns URL()+"/userinfo" (below IssuerPath, if set).
func (s *Server) UserInfoEndpoint() string { return s.base() + "/userinfo" }

// JWKSURL returns URL()+"/jwks" (below IssuerPath, if set), where the
// id_token signing key is published.
func (s *Server) JWKSURL() string { return s.base() + "/jwks" }

// SetUser changes who logs in at later authorizations; tokens already issued keep
// the user they were issued for.
func (s *Server) SetUser(u User) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.user = u
}

// DeclineScopes makes the user decline scopes from now on, as Google's
// granular consent screen lets them: token responses, from code exchanges and
// refreshes alike, grant the requested scope without them and say so in
// scope (RFC 6749 §5.1). With no arguments the user declines nothing again.
func (s *Server) DeclineScopes(scopes ...string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.declined = append([]string(nil), scopes...)
}

// Stats returns a snapshot of the counters.
func (s *Server) Stats() Stats {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.stats
}

// LastAuthorizeQuery returns a copy of the query of the last /authorize request,
// valid or not, or nil if there was none.
func (s *Server) LastAuthorizeQuery() url.Values {
	s.mu.Lock()
	defer s.mu.Unlock()
	return cloneValues(s.lastAuthorize)
}

// LastTokenRequest returns a copy of the form body of the last token request, or
// nil if there was none. Nothing is redacted: a client_secret sent in the body
// (client_secret_post) appears as sent, so tests can assert on it.
func (s *Server) LastTokenRequest() url.Values {
	s.mu.Lock()
	defer s.mu.Unlock()
	return cloneValues(s.lastToken)
}

// LastTokenAuthMethod reports how the last token request presented client
// credentials: AuthMethodBasic when it had an Authorization: Basic header,
// AuthMethodPost when client_secret was in the body, "none" otherwise, and ""
// before any token request.
func (s *Server) LastTokenAuthMethod() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.lastTokenAuth
}

// RevokeAll invalidates every access token, refresh token and unredeemed
// authorization code issued so far, as when the user revokes the application.
func (s *Server) RevokeAll() {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, g := range s.refreshTokens {
		g.revoked = true
	}
	for _, at := range s.accessTokens {
		at.grant.revoked = true
	}
	clear(s.codes)
	clear(s.accessTokens)
	clear(s.refreshTokens)
}

func cloneValues(v url.Values) url.Values {
	if v == nil {
		return nil
	}
	out := make(url.Values, len(v))
	for k, vs := range v {
		out[k] = append([]string(nil), vs...)
	}
	return out
}
