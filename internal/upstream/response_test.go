package upstream

import (
	"context"
	"io"
	"mime"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestClient_Responses(t *testing.T) {
	tests := []struct {
		name        string
		status      int
		contentType string
		body        string
		want        *Token // nil when an error is expected
	}{
		{
			name: "json", status: 200, contentType: "application/json",
			body: `{"access_token":"at","token_type":"Bearer","refresh_token":"rt","id_token":"idt","scope":"openid email","expires_in":3600}`,
			want: &Token{AccessToken: "at", TokenType: "Bearer", RefreshToken: "rt", IDToken: "idt", Scope: "openid email",
				ExpiresIn: 3600, Expiry: testNow.Add(time.Hour)},
		},
		{
			name: "json with charset", status: 200, contentType: "application/json; charset=utf-8",
			body: okJSON,
			want: &Token{AccessToken: "at", TokenType: "Bearer", ExpiresIn: 3600, Expiry: testNow.Add(time.Hour)},
		},
		{
			name: "json with extra fields", status: 200, contentType: "application/json",
			body: `{"access_token":"at","token_type":"Bearer","refresh_token_expires_in":15897600,"hd":"example.com"}`,
			want: &Token{AccessToken: "at", TokenType: "Bearer",
				Extra: map[string]any{"refresh_token_expires_in": jsonNumber("15897600"), "hd": "example.com"}},
		},
		{
			name: "no expires_in", status: 200, contentType: "application/json",
			body: `{"access_token":"at","token_type":"bearer"}`,
			want: &Token{AccessToken: "at", TokenType: "bearer"},
		},
		{
			name: "string expires_in", status: 200, contentType: "application/json",
			body: `{"access_token":"at","expires_in":"7200"}`,
			want: &Token{AccessToken: "at", ExpiresIn: 7200, Expiry: testNow.Add(2 * time.Hour)},
		},
		{
			name: "float expires_in", status: 200, contentType: "application/json",
			body: `{"access_token":"at","expires_in":60.0}`,
			want: &Token{AccessToken: "at", ExpiresIn: 60, Expiry: testNow.Add(time.Minute)},
		},
		{
			name: "zero expires_in", status: 200, contentType: "application/json",
			body: `{"access_token":"at","expires_in":0}`,
			want: &Token{AccessToken: "at"},
		},
		{
			name: "form, GitHub style", status: 200, contentType: "application/x-www-form-urlencoded; charset=utf-8",
			body: "access_token=gho_abc&scope=read%3Auser%2Crepo&token_type=bearer",
			want: &Token{AccessToken: "gho_abc", TokenType: "bearer", Scope: "read:user,repo"},
		},
		{
			name: "form as text/plain", status: 200, contentType: "text/plain",
			body: "access_token=gho_abc&token_type=bearer&expires_in=28800&refresh_token=ghr_x&refresh_token_expires_in=15811200",
			want: &Token{AccessToken: "gho_abc", TokenType: "bearer", RefreshToken: "ghr_x", ExpiresIn: 28800,
				Expiry: testNow.Add(8 * time.Hour), Extra: map[string]any{"refresh_token_expires_in": "15811200"}},
		},
		{
			name: "json as text/plain is sniffed", status: 200, contentType: "text/plain; charset=utf-8",
			body: " " + okJSON,
			want: &Token{AccessToken: "at", TokenType: "Bearer", ExpiresIn: 3600, Expiry: testNow.Add(time.Hour)},
		},
		{
			name: "json without content type is sniffed", status: 200,
			body: okJSON,
			want: &Token{AccessToken: "at", TokenType: "Bearer", ExpiresIn: 3600, Expiry: testNow.Add(time.Hour)},
		},
		{
			name: "201 is success", status: 201, contentType: "application/json",
			body: `{"access_token":"at"}`,
			want: &Token{AccessToken: "at"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv, _ := tokenServer(t, tt.status, tt.contentType, tt.body)
			got, err := testClient(srv.URL).ExchangeCode(context.Background(), testCode, "", "", testNow)
			require.NoError(t, err)
			assert.Equal(t, tt.want, got)
		})
	}
}

func TestClient_ErrorResponses(t *testing.T) {
	tests := []struct {
		name        string
		status      int
		contentType string
		body        string
		want        *Error // an OAuth or status error; nil when wantErr is set
		wantErr     error
	}{
		{
			name: "error in a 200 json body (GitHub)", status: 200, contentType: "application/json",
			body: `{"error":"bad_verification_code","error_description":"The code passed is incorrect or expired.","error_uri":"https://docs.github.com/apps"}`,
			want: &Error{Code: "bad_verification_code", Description: "The code passed is incorrect or expired.",
				URI: "https://docs.github.com/apps", StatusCode: 200},
		},
		{
			name: "error in a 200 form body (GitHub)", status: 200, contentType: "application/x-www-form-urlencoded",
			body: "error=incorrect_client_credentials&error_description=The+client_id+and%2For+client_secret+passed+are+incorrect.",
			want: &Error{Code: "incorrect_client_credentials",
				Description: "The client_id and/or client_secret passed are incorrect.", StatusCode: 200},
		},
		{
			name: "error with an access token", status: 200, contentType: "application/json",
			body: `{"access_token":"at","error":"invalid_grant"}`,
			want: &Error{Code: "invalid_grant", StatusCode: 200},
		},
		{
			name: "400 json error", status: 400, contentType: "application/json",
			body: `{"error":"invalid_grant","error_description":"Bad Request"}`,
			want: &Error{Code: "invalid_grant", Description: "Bad Request", StatusCode: 400},
		},
		{
			name: "401 json error", status: 401, contentType: "application/json",
			body: `{"error":"invalid_client"}`,
			want: &Error{Code: "invalid_client", StatusCode: 401},
		},
		{
			name: "500 without body", status: 500,
			want: &Error{StatusCode: 500},
		},
		{
			name: "502 html body", status: 502, contentType: "text/html",
			body: "<html><body>Bad gateway &amp; more</body></html>",
			want: &Error{StatusCode: 502},
		},
		{
			name: "400 malformed json", status: 400, contentType: "application/json",
			body: `{"error":`,
			want: &Error{StatusCode: 400},
		},
		{
			name: "missing access_token", status: 200, contentType: "application/json",
			body: `{"token_type":"Bearer"}`, wantErr: errNoAccessToken,
		},
		{
			name: "empty access_token", status: 200, contentType: "application/json",
			body: `{"access_token":""}`, wantErr: errNoAccessToken,
		},
		{
			name: "empty form body", status: 200, contentType: "text/plain",
			wantErr: errNoAccessToken,
		},
		{
			name: "malformed json", status: 200, contentType: "application/json",
			body: `{"access_token":"at"`, wantErr: errMalformed,
		},
		{
			name: "trailing data after json", status: 200, contentType: "application/json",
			body: `{"access_token":"at"} {}`, wantErr: errMalformed,
		},
		{
			name: "json array", status: 200, contentType: "application/json",
			body: `[]`, wantErr: errMalformed,
		},
		{
			name: "json null", status: 200, contentType: "application/json",
			body: `null`, wantErr: errMalformed,
		},
		{
			name: "malformed form", status: 200, contentType: "application/x-www-form-urlencoded",
			body: "access_token=%zz", wantErr: errMalformed,
		},
		{
			name: "access_token not a string", status: 200, contentType: "application/json",
			body: `{"access_token":42}`, wantErr: errMalformed,
		},
		{
			name: "error not a string", status: 400, contentType: "application/json",
			body: `{"error":{"code":400}}`, wantErr: errMalformed,
		},
		{
			name: "expires_in not a number", status: 200, contentType: "application/json",
			body: `{"access_token":"at","expires_in":"soon"}`, wantErr: errMalformed,
		},
		{
			name: "expires_in fractional", status: 200, contentType: "application/json",
			body: `{"access_token":"at","expires_in":1.5}`, wantErr: errMalformed,
		},
		{
			name: "expires_in negative", status: 200, contentType: "application/json",
			body: `{"access_token":"at","expires_in":-1}`, wantErr: errMalformed,
		},
		{
			name: "expires_in huge", status: 200, contentType: "application/json",
			body: `{"access_token":"at","expires_in":1e30}`, wantErr: errMalformed,
		},
		{
			name: "expires_in bool", status: 200, contentType: "application/json",
			body: `{"access_token":"at","expires_in":true}`, wantErr: errMalformed,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv, _ := tokenServer(t, tt.status, tt.contentType, tt.body)
			tok, err := testClient(srv.URL).ExchangeCode(context.Background(), testCode, "", "", testNow)
			assert.Nil(t, tok)
			if tt.wantErr != nil {
				require.ErrorIs(t, err, tt.wantErr)
				return
			}
			var got *Error
			require.ErrorAs(t, err, &got)
			assert.Equal(t, tt.want, got)
		})
	}
}

func TestClient_ResponseSizeCap(t *testing.T) {
	exact := `{"access_token":"at"}`
	exact += strings.Repeat(" ", maxResponseBytes-len(exact))

	t.Run("exactly 1 MiB is read", func(t *testing.T) {
		srv, _ := tokenServer(t, http.StatusOK, "application/json", exact)
		tok, err := testClient(srv.URL).ExchangeCode(context.Background(), testCode, "", "", testNow)
		require.NoError(t, err)
		assert.Equal(t, "at", tok.AccessToken)
	})
	t.Run("one byte more is refused", func(t *testing.T) {
		srv, _ := tokenServer(t, http.StatusOK, "application/json", exact+" ")
		_, err := testClient(srv.URL).ExchangeCode(context.Background(), testCode, "", "", testNow)
		require.ErrorIs(t, err, errTooLarge)
	})
	t.Run("an oversize error body is refused too", func(t *testing.T) {
		srv, _ := tokenServer(t, http.StatusBadRequest, "text/html", strings.Repeat("x", 2*maxResponseBytes))
		_, err := testClient(srv.URL).ExchangeCode(context.Background(), testCode, "", "", testNow)
		require.ErrorIs(t, err, errTooLarge)
	})
}

// TestClient_ErrorsNeverHoldSecrets checks every error path against an upstream that echoes
// the parameters it received: no client secret, code, verifier or token may reach an error string.
func TestClient_ErrorsNeverHoldSecrets(t *testing.T) {
	const secret = "TOPSECRET-client-secret"
	tests := []struct {
		name, contentType string
		status            int
		body              func(echo string) string
	}{
		{"oauth error", "application/json", 400, func(e string) string {
			return `{"error":"invalid_grant ` + e + `","error_description":"bad ` + e + `","error_uri":"https://x/?q=` + e + `"}`
		}},
		{"200 form error", "application/x-www-form-urlencoded", 200, func(e string) string {
			return "error=bad_verification_code&error_description=" + url.QueryEscape(e)
		}},
		{"500 body", "text/plain", 500, func(e string) string { return "failed: " + e }},
		{"malformed json", "application/json", 200, func(e string) string { return `{"access_token":"` + e }},
		{"malformed form", "application/x-www-form-urlencoded", 200, func(e string) string { return "x=" + e + "%zz" }},
		{"no access_token", "application/json", 200, func(e string) string { return `{"refresh_token":"` + e + `"}` }},
		{"bad expires_in", "application/json", 200, func(e string) string {
			return `{"access_token":"` + e + `","expires_in":"` + e + `"}`
		}},
	}
	for _, method := range []string{AuthMethodBasic, AuthMethodPost} {
		for _, tt := range tests {
			t.Run(method+" "+tt.name, func(t *testing.T) {
				srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
					assert.NoError(t, r.ParseForm())
					_, pass, _ := r.BasicAuth()
					pass, _ = url.QueryUnescape(pass)
					echo := strings.Join([]string{pass, r.PostForm.Get("client_secret"), r.PostForm.Get("code"),
						r.PostForm.Get("code_verifier"), r.PostForm.Get("refresh_token")}, " ")
					w.Header().Set("Content-Type", tt.contentType)
					w.WriteHeader(tt.status)
					_, _ = io.WriteString(w, tt.body(echo))
				}))
				t.Cleanup(srv.Close)
				c := &Client{TokenURL: srv.URL, ClientID: "id", ClientSecret: secret, AuthMethod: method}

				_, err := c.ExchangeCode(context.Background(), "TOPSECRET-code", "https://proxy/cb", "TOPSECRET-verifier", testNow)
				require.Error(t, err)
				assert.NotContains(t, err.Error(), "TOPSECRET")

				_, err = c.Refresh(context.Background(), "TOPSECRET-refresh", []string{"s"}, testNow)
				require.Error(t, err)
				assert.NotContains(t, err.Error(), "TOPSECRET")
			})
		}
	}
}

// decodeFields reads two Content-Types without mime.ParseMediaType: it must
// read them as that does.
func TestDecodeFields_JSONFastPathIsTheMediaType(t *testing.T) {
	for _, ct := range []string{"application/json", "application/json; charset=utf-8"} {
		mt, _, err := mime.ParseMediaType(ct)
		require.NoError(t, err)
		require.Equal(t, "application/json", mt)
		fields, err := decodeFields(ct, []byte(`{"access_token":"a"}`))
		require.NoError(t, err)
		require.Equal(t, "a", fields["access_token"])
	}
}
