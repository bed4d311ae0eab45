package upstream

import (
	"context"
	"net/http"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// ExtraParams reach both kinds of token request, and never set a reserved
// parameter (defence in depth: Config validation already refuses those
// names), not even one this kind of request leaves out ("code" on a refresh).
func TestClient_ExtraParams(t *testing.T) {
	extra := map[string]string{"audience": "https://api.example.com", "grant_type": "password", "code": "forged", "client_id": "other"}
	for _, tt := range []struct {
		name string
		call func(*Client) error
		want map[string]string
	}{
		{"code exchange", func(c *Client) error {
			_, err := c.ExchangeCode(context.Background(), testCode, "https://proxy.example/cb", "verifier", testNow)
			return err
		}, map[string]string{"grant_type": "authorization_code", "code": testCode}},
		{"refresh", func(c *Client) error {
			_, err := c.Refresh(context.Background(), "rt-1", nil, testNow)
			return err
		}, map[string]string{"grant_type": "refresh_token", "refresh_token": "rt-1"}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			srv, seen := tokenServer(t, http.StatusOK, "application/json", okJSON)
			c := testClient(srv.URL)
			c.AuthMethod = AuthMethodPost
			c.ExtraParams = extra
			require.NoError(t, tt.call(c))
			r := received(t, seen)
			assert.Equal(t, "https://api.example.com", r.form.Get("audience"))
			for k, v := range tt.want {
				assert.Equal(t, []string{v}, r.form[k], k)
			}
			assert.Equal(t, []string{"client-id"}, r.form["client_id"], "client authentication wins over an extra parameter")
			for _, reserved := range []string{"grant_type", "code", "client_id"} {
				assert.NotContains(t, r.form[reserved], extra[reserved], "a reserved parameter is never taken from ExtraParams")
			}
		})
	}
}

// Revocation (RFC 7009) is no token request: ExtraParams stay out of it.
func TestClient_ExtraParamsNotOnRevocation(t *testing.T) {
	srv, seen := tokenServer(t, http.StatusOK, "", "")
	c := testClient(srv.URL)
	c.ExtraParams = map[string]string{"audience": "https://api.example.com"}
	require.NoError(t, c.Revoke(context.Background(), srv.URL, "tok", "access_token"))
	assert.NotContains(t, received(t, seen).form, "audience")
}
