package upstream

import (
	"context"
	"encoding/base64"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

const okJSON = `{"access_token":"at","token_type":"Bearer","expires_in":3600}`

func TestClient_ClientAuthentication(t *testing.T) {
	const id, secret = "my:client id%", "s3:cr%t ok+"
	tests := []struct {
		name       string
		method     string
		wantHeader string // the exact Authorization header; "" means none
		wantBody   []string
	}{
		{
			name:   "default is basic",
			method: "",
			// RFC 6749 §2.3.1: form-urlencode each part, then Basic.
			wantHeader: "Basic " + base64.StdEncoding.EncodeToString([]byte("my%3Aclient+id%25:s3%3Acr%25t+ok%2B")),
		},
		{
			name:       "client_secret_basic",
			method:     AuthMethodBasic,
			wantHeader: "Basic " + base64.StdEncoding.EncodeToString([]byte("my%3Aclient+id%25:s3%3Acr%25t+ok%2B")),
		},
		{
			name:     "client_secret_post",
			method:   AuthMethodPost,
			wantBody: []string{"client_id=my%3Aclient+id%25", "client_secret=s3%3Acr%25t+ok%2B"},
		},
		{
			// A public client: its id in the body, no secret anywhere, even
			// if one is configured by mistake (RFC 6749 §2.1, §3.2.1).
			name:     "none",
			method:   AuthMethodNone,
			wantBody: []string{"client_id=my%3Aclient+id%25"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv, seen := tokenServer(t, http.StatusOK, "application/json", okJSON)
			c := &Client{TokenURL: srv.URL, ClientID: id, ClientSecret: secret, AuthMethod: tt.method}
			_, err := c.ExchangeCode(context.Background(), testCode, "", "", testNow)
			require.NoError(t, err)

			r := received(t, seen)
			assert.Equal(t, tt.wantHeader, r.header.Get("Authorization"))
			for _, part := range tt.wantBody {
				assert.Contains(t, strings.Split(r.body, "&"), part)
			}
			switch tt.method {
			case AuthMethodPost:
				assert.Equal(t, id, r.form.Get("client_id"))
				assert.Equal(t, secret, r.form.Get("client_secret"))
			case AuthMethodNone:
				assert.Equal(t, id, r.form.Get("client_id"))
				assert.NotContains(t, r.form, "client_secret")
				assert.NotContains(t, r.body, "s3", "the secret is sent nowhere")
			default:
				assert.NotContains(t, r.form, "client_id")
				assert.NotContains(t, r.form, "client_secret")
			}
		})
	}
}

func TestClient_UnsupportedAuthMethod(t *testing.T) {
	srv, seen := tokenServer(t, http.StatusOK, "application/json", okJSON)
	c := testClient(srv.URL)
	c.AuthMethod = "private_key_jwt"
	_, err := c.ExchangeCode(context.Background(), testCode, "", "", testNow)
	require.ErrorContains(t, err, "unsupported token endpoint auth method")
	assert.Empty(t, seen)
}

func TestClient_ExchangeCodeRequest(t *testing.T) {
	tests := []struct {
		name, redirectURI, verifier string
		want                        map[string]string // "" value: must be absent
	}{
		{
			name: "all parameters", redirectURI: "https://proxy.example.com/oauth/callback", verifier: "verifier",
			want: map[string]string{
				"grant_type": "authorization_code", "code": "the-code",
				"redirect_uri": "https://proxy.example.com/oauth/callback", "code_verifier": "verifier",
			},
		},
		{
			name: "no verifier or redirect URI",
			want: map[string]string{"grant_type": "authorization_code", "code": "the-code", "redirect_uri": "", "code_verifier": ""},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv, seen := tokenServer(t, http.StatusOK, "application/json", okJSON)
			c := testClient(srv.URL)
			c.UserAgent = "oauthproxy-test/1"
			_, err := c.ExchangeCode(context.Background(), "the-code", tt.redirectURI, tt.verifier, testNow)
			require.NoError(t, err)

			r := received(t, seen)
			assert.Equal(t, "application/json", r.header.Get("Accept"))
			assert.Equal(t, "application/x-www-form-urlencoded", r.header.Get("Content-Type"))
			assert.Equal(t, "oauthproxy-test/1", r.header.Get("User-Agent"))
			for k, v := range tt.want {
				if v == "" {
					assert.NotContains(t, r.form, k)
				} else {
					assert.Equal(t, v, r.form.Get(k), k)
				}
			}
		})
	}
}

func TestClient_EmptyInputs(t *testing.T) {
	c := testClient("http://127.0.0.1:1/never")
	_, err := c.ExchangeCode(context.Background(), "", "", "", testNow)
	require.ErrorContains(t, err, "empty authorization code")
	_, err = c.Refresh(context.Background(), "", nil, testNow)
	require.ErrorContains(t, err, "empty refresh token")
}

func TestClient_Refresh(t *testing.T) {
	tests := []struct {
		name        string
		scopes      []string
		response    string
		wantScope   string // "" means the scope parameter is absent
		wantRefresh string
	}{
		{"no scope keeps old refresh token", nil, okJSON, "", "old-rt"},
		{"empty scope slice", []string{}, okJSON, "", "old-rt"},
		{"narrowed scope", []string{"read:user", "repo"}, okJSON, "read:user repo", "old-rt"},
		{"rotated refresh token", nil, `{"access_token":"at","refresh_token":"new-rt"}`, "", "new-rt"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv, seen := tokenServer(t, http.StatusOK, "application/json", tt.response)
			tok, err := testClient(srv.URL).Refresh(context.Background(), "old-rt", tt.scopes, testNow)
			require.NoError(t, err)
			assert.Equal(t, tt.wantRefresh, tok.RefreshToken)

			r := received(t, seen)
			assert.Equal(t, "refresh_token", r.form.Get("grant_type"))
			assert.Equal(t, "old-rt", r.form.Get("refresh_token"))
			if tt.wantScope == "" {
				assert.NotContains(t, r.form, "scope")
			} else {
				assert.Equal(t, tt.wantScope, r.form.Get("scope"))
			}
			assert.NotContains(t, r.form, "code")
		})
	}
}

func TestClient_DoesNotFollowRedirects(t *testing.T) {
	var hits atomic.Int32
	target := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { hits.Add(1) }))
	t.Cleanup(target.Close)
	srv := httptest.NewServer(http.RedirectHandler(target.URL, http.StatusTemporaryRedirect))
	t.Cleanup(srv.Close)

	c := testClient(srv.URL)
	c.AuthMethod = AuthMethodPost
	_, err := c.ExchangeCode(context.Background(), testCode, "", "", testNow)
	var upErr *Error
	require.ErrorAs(t, err, &upErr)
	assert.Equal(t, http.StatusTemporaryRedirect, upErr.StatusCode)
	assert.Zero(t, hits.Load(), "credentials were resent to the redirect target")
}

func TestClient_Timeout(t *testing.T) {
	release := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-release:
		case <-r.Context().Done():
		}
	}))
	t.Cleanup(srv.Close)
	t.Cleanup(func() { close(release) }) // runs before srv.Close, which waits for handlers

	c := testClient(srv.URL)
	c.HTTPClient = &http.Client{Timeout: 100 * time.Millisecond}
	start := time.Now()
	_, err := c.ExchangeCode(context.Background(), testCode, "", "", testNow)
	require.Error(t, err)
	assert.True(t, IsTimeout(err), "%v", err)
	assert.Less(t, time.Since(start), 5*time.Second)
}

func TestClient_Context(t *testing.T) {
	tests := []struct {
		name        string
		ctx         func() (context.Context, context.CancelFunc)
		cancelLater bool
		wantTimeout bool
		wantErr     error
	}{
		{
			name:        "cancelled",
			ctx:         func() (context.Context, context.CancelFunc) { return context.WithCancel(context.Background()) },
			cancelLater: true,
			wantErr:     context.Canceled,
		},
		{
			name: "deadline",
			ctx: func() (context.Context, context.CancelFunc) {
				return context.WithTimeout(context.Background(), 100*time.Millisecond)
			},
			wantTimeout: true,
			wantErr:     context.DeadlineExceeded,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			release := make(chan struct{})
			arrived := make(chan struct{}, 1)
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				arrived <- struct{}{}
				select {
				case <-release:
				case <-r.Context().Done():
				}
			}))
			t.Cleanup(srv.Close)
			t.Cleanup(func() { close(release) })

			ctx, cancel := tt.ctx()
			defer cancel()
			if tt.cancelLater {
				go func() {
					select {
					case <-arrived:
					case <-ctx.Done():
					}
					cancel()
				}()
			}
			_, err := testClient(srv.URL).ExchangeCode(ctx, testCode, "", "", testNow)
			require.ErrorIs(t, err, tt.wantErr)
			assert.Equal(t, tt.wantTimeout, IsTimeout(err))
		})
	}
}

func TestClient_TransportErrorIsWrapped(t *testing.T) {
	srv := httptest.NewServer(http.NotFoundHandler())
	url := srv.URL
	srv.Close() // nothing listens there now

	_, err := testClient(url).ExchangeCode(context.Background(), testCode, "", "", testNow)
	require.ErrorContains(t, err, "upstream: token request")
	var upErr *Error
	assert.NotErrorAs(t, err, &upErr)
	assert.False(t, IsTimeout(err))
}
