package oauthproxy_test

import (
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/oauthproxy-go/oauthproxy"
	"github.com/oauthproxy-go/oauthproxy/oauthproxytest"
	"github.com/oauthproxy-go/oauthproxy/storage"
	"github.com/oauthproxy-go/oauthproxy/storage/bolt"
	"github.com/oauthproxy-go/oauthproxy/storage/redis/redistest"
)

// adminBackends are the stores the administration API must work the same on;
// the proxy wraps each in storage.Encrypted.
var adminBackends = []struct {
	name string
	open func(t *testing.T) storage.TokenStorage
}{
	{"memory", func(*testing.T) storage.TokenStorage { return storage.NewMemory() }},
	{"bolt", func(t *testing.T) storage.TokenStorage {
		s, err := bolt.Open(filepath.Join(t.TempDir(), "state.db"))
		require.NoError(t, err)
		t.Cleanup(func() { _ = s.Close() })
		return s
	}},
	{"redis", func(t *testing.T) storage.TokenStorage { return redisStore(t, redistest.Start(t)) }},
}

// session is one user's sign-in at one client: the tokens the client holds.
type session struct {
	client          registered
	access, refresh string
}

// signIn signs user in at client c through the browser flow and redeems the
// code.
func (e *env) signIn(c registered, user oauthproxytest.User) session {
	e.t.Helper()
	e.idp.SetUser(user)
	code, verifier := e.code(c)
	tok := e.exchange(c, code, verifier)
	require.Equal(e.t, 200, tok.Status, "token response: %v", tok.Body)
	return session{client: c, access: tok.str("access_token"), refresh: tok.str("refresh_token")}
}

// works reports whether the session's access token passes the bearer check.
func (e *env) works(s session) bool {
	e.t.Helper()
	resp, _ := e.callMCP(s.access)
	return resp.StatusCode == 200
}

// refreshes reports whether the session's refresh token is still good,
// rotating it if so.
func (e *env) refreshes(s *session) bool {
	e.t.Helper()
	tok := e.refresh(s.client, s.refresh)
	if tok.Status != 200 {
		return false
	}
	s.access, s.refresh = tok.str("access_token"), tok.str("refresh_token")
	return true
}

var (
	alice = oauthproxytest.User{Subject: "alice", Name: "Alice", Email: "alice@example.com", Login: "alice"}
	bob   = oauthproxytest.User{Subject: "bob", Name: "Bob", Email: "bob@example.com", Login: "bob"}
)

// requireAdminError checks err is the administration API's *Error with code
// and status.
func requireAdminError(t *testing.T, err error, code string, status int) {
	t.Helper()
	var oerr *oauthproxy.Error
	require.ErrorAs(t, err, &oerr)
	require.Equal(t, code, oerr.Code, "error: %v", err)
	require.Equal(t, status, oerr.Status, "error: %v", err)
}

// grantIDs lists every grant of filter, following the cursor with pages of
// size.
func grantIDs(t *testing.T, p *oauthproxy.Proxy, filter oauthproxy.GrantFilter, size int) map[string]oauthproxy.GrantInfo {
	t.Helper()
	out := map[string]oauthproxy.GrantInfo{}
	page := oauthproxy.Page{Size: size}
	for range 1000 {
		list, err := p.ListGrants(t.Context(), filter, page)
		require.NoError(t, err)
		for _, g := range list.Grants {
			out[g.ID] = g
		}
		if list.NextCursor == "" {
			return out
		}
		page.Cursor = list.NextCursor
	}
	t.Fatal("ListGrants did not end")
	return nil
}
