package oauthproxy_test

// Restarts, proven (issue 4, item 6): a proxy is stopped (Destroy, store
// closed) and a new one started on the same storage with the same keys, behind
// the same public origin. Everything a client holds keeps working: access
// tokens, the upstream tokens behind them, refresh tokens, its registration,
// a code issued but not yet redeemed, even a consent page opened before the
// restart. And New refuses to start on such storage without configured keys
// (item 7, S15).

import (
	"net/http"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/oauthproxy-go/oauthproxy"
	"github.com/oauthproxy-go/oauthproxy/internal/pkce"
	"github.com/oauthproxy-go/oauthproxy/storage"
	"github.com/oauthproxy-go/oauthproxy/storage/bolt"
	"github.com/oauthproxy-go/oauthproxy/storage/redis"
	"github.com/oauthproxy-go/oauthproxy/storage/redis/redistest"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// opener opens the storage the way a freshly started process would, and
// returns it with the function that closes it.
type opener func(t *testing.T) (storage.TokenStorage, func())

// boltOpener opens one bbolt file in the test's temporary directory.
func boltOpener(t *testing.T) opener {
	path := filepath.Join(t.TempDir(), "oauthproxy.db")
	return func(t *testing.T) (storage.TokenStorage, func()) {
		s, err := bolt.Open(path)
		require.NoError(t, err)
		return s, closeOnce(t, func() error { return s.Close() })
	}
}

// redisOpener gives each process its own client on the server at addr.
func redisOpener(srv *redistest.Server) opener {
	return func(t *testing.T) (storage.TokenStorage, func()) {
		client := redistest.NewClient(t, srv.Addr())
		return redis.New(client), closeOnce(t, client.Close)
	}
}

// closeOnce returns close, made idempotent and also run when the test ends.
// Register it before starting a proxy on the store, so the proxy is destroyed
// before its store is closed.
func closeOnce(t *testing.T, close func() error) func() {
	var once sync.Once
	f := func() { once.Do(func() { require.NoError(t, close()) }) }
	t.Cleanup(f)
	return f
}

func TestRestart_Bolt(t *testing.T) {
	restartScenario(t, boltOpener(t), nil)
}

func TestRestart_Redis(t *testing.T) {
	srv := redistest.StartWithOptions(t, redistest.Options{Persistent: true})
	// For good measure the Redis server restarts too while no proxy runs:
	// with the append-only file, nothing acknowledged is lost.
	restartScenario(t, redisOpener(srv), srv.Restart)
}

// TestRestart_BoltWithRotatedKeys restarts with new keys put first in the
// JWTSigningKeys and EncryptionKeys rings and the old ones kept after them, the
// rotation the README describes: nobody is logged out.
func TestRestart_BoltWithRotatedKeys(t *testing.T) {
	oldJWT, oldEnc := []byte(strings.Repeat("j", 32)), []byte(strings.Repeat("e", 32))
	restartScenario(t, boltOpener(t), nil, func(c *oauthproxy.Config) {
		c.JWTSigningKey, c.EncryptionKey = nil, nil
		c.JWTSigningKeys = [][]byte{[]byte(strings.Repeat("J", 32)), oldJWT}
		c.EncryptionKeys = [][]byte{[]byte(strings.Repeat("E", 32)), oldEnc}
	})
}

// restartScenario runs a proxy on open's storage, leaves state of every kind
// behind, stops it (Destroy, then close the store), runs between, starts a new
// proxy on a newly opened store (with after applied to its Config) and checks
// that all of it is still there.
func restartScenario(t *testing.T, open opener, between func(), after ...func(*oauthproxy.Config)) {
	ctx := t.Context()
	d := newDeployment(t)

	// --- before the restart ---
	store1, close1 := open(t)
	p1 := d.start("P", store1)
	c := d.register("client_secret_basic")

	code, verifier := d.code(c)
	tok := d.exchange(c, code, verifier)
	require.Equal(t, http.StatusOK, tok.Status, "%v", tok.Body)
	access, refresh := tok.str("access_token"), tok.str("refresh_token")
	upBefore, err := p1.LoadUpstreamTokens(ctx, access)
	require.NoError(t, err)

	// A code issued but not yet redeemed when the process stops.
	pendingCode, pendingVerifier := d.code(c)

	// A consent page the user is looking at when the process stops.
	b := d.browser()
	consentVerifier := pkce.GenerateVerifier()
	consentForm := d.openConsent(b, authorizeParams(c, pkce.Challenge(consentVerifier)))

	// --- the restart ---
	d.stop("P")
	close1()
	if between != nil {
		between()
	}
	store2, _ := open(t)
	p2 := d.start("P", store2, after...)

	// --- after the restart ---
	t.Run("access token still verifies", func(t *testing.T) {
		claims, err := p2.VerifyAccessToken(ctx, access)
		require.NoError(t, err)
		assert.Equal(t, c.ID, claims.ClientID)
		resp, body := d.callMCP(access)
		require.Equal(t, http.StatusOK, resp.StatusCode, "RequireBearer")
		assert.Equal(t, c.ID, body["ClientID"])
	})
	t.Run("LoadUpstreamTokens still works", func(t *testing.T) {
		up, err := p2.LoadUpstreamTokens(ctx, access)
		require.NoError(t, err)
		assert.Equal(t, upBefore.AccessToken, up.AccessToken)
		assert.Equal(t, upBefore.RefreshToken, up.RefreshToken)
	})
	t.Run("code issued before the restart is redeemed after it", func(t *testing.T) {
		r := d.exchange(c, pendingCode, pendingVerifier)
		require.Equal(t, http.StatusOK, r.Status, "%v", r.Body)
		resp, _ := d.callMCP(r.str("access_token"))
		assert.Equal(t, http.StatusOK, resp.StatusCode)
	})
	t.Run("consent opened before the restart completes after it", func(t *testing.T) {
		code := d.approve(b, consentForm)
		r := d.exchange(c, code, consentVerifier)
		require.Equal(t, http.StatusOK, r.Status, "%v", r.Body)
	})
	t.Run("refresh works", func(t *testing.T) {
		r := d.refresh(c, refresh)
		require.Equal(t, http.StatusOK, r.Status, "%v", r.Body)
		assert.NotEqual(t, refresh, r.str("refresh_token"))
		resp, _ := d.callMCP(r.str("access_token"))
		assert.Equal(t, http.StatusOK, resp.StatusCode)
	})
	t.Run("registered client is still known", func(t *testing.T) {
		code, verifier := d.code(c) // a new /authorize with the old client_id
		r := d.exchange(c, code, verifier)
		require.Equal(t, http.StatusOK, r.Status, "%v", r.Body)
		bad := d.exchange(registered{ID: c.ID, Secret: "wrong", AuthMethod: c.AuthMethod}, code, verifier)
		assert.Equal(t, http.StatusUnauthorized, bad.Status, "its secret is still enforced")
	})
	t.Run("replay detection survives the restart", func(t *testing.T) {
		// The first code was redeemed before the restart; replaying it now
		// revokes its grant (S05), so even the token minted after the
		// restart from that grant dies.
		r := d.exchange(c, code, verifier)
		assert.Equal(t, http.StatusBadRequest, r.Status)
		assert.Equal(t, "invalid_grant", r.str("error"))
		_, err := p2.VerifyAccessToken(ctx, access)
		assert.ErrorIs(t, err, oauthproxy.ErrTokenRevoked)
	})
}

// TestRestart_NewRefusesGeneratedKeys checks item 7 (S15) on the real
// persistent backends: without configured keys New fails, and names exactly
// the keys that are missing.
func TestRestart_NewRefusesGeneratedKeys(t *testing.T) {
	boltStore, _ := boltOpener(t)(t)
	redisStore, _ := redisOpener(redistest.StartWithOptions(t, redistest.Options{}))(t)
	all := []string{"JWTSigningKey", "EncryptionKey", "ConsentSigningKey"}

	for name, store := range map[string]storage.TokenStorage{"bolt": boltStore, "redis": redisStore} {
		for _, tc := range []struct {
			name    string
			mod     func(*oauthproxy.Config)
			missing []string
		}{
			{"no keys", func(c *oauthproxy.Config) {
				c.JWTSigningKey, c.EncryptionKey, c.ConsentSigningKey = nil, nil, nil
			}, all},
			{"no encryption key", func(c *oauthproxy.Config) { c.EncryptionKey = nil }, []string{"EncryptionKey"}},
			{"no consent key", func(c *oauthproxy.Config) { c.ConsentSigningKey = nil }, []string{"ConsentSigningKey"}},
			{"encryption disabled, no JWT key", func(c *oauthproxy.Config) {
				c.EncryptionKey, c.DisableEncryption, c.JWTSigningKey = nil, true, nil
			}, []string{"JWTSigningKey"}},
		} {
			t.Run(name+"/"+tc.name, func(t *testing.T) {
				cfg := oauthproxy.Config{
					BaseURL:                       "http://127.0.0.1:1",
					UpstreamAuthorizationEndpoint: "http://127.0.0.1:2/authorize",
					UpstreamTokenEndpoint:         "http://127.0.0.1:2/token",
					UpstreamClientID:              "id",
					UpstreamClientSecret:          "secret",
					JWTSigningKey:                 []byte(strings.Repeat("j", 32)),
					EncryptionKey:                 []byte(strings.Repeat("e", 32)),
					ConsentSigningKey:             []byte(strings.Repeat("c", 32)),
					TokenStorage:                  store,
				}
				tc.mod(&cfg)
				p, err := oauthproxy.New(cfg)
				if p != nil {
					p.Destroy()
				}
				require.Error(t, err)
				for _, k := range all {
					if slices.Contains(tc.missing, k) {
						assert.Contains(t, err.Error(), k, "names the missing key")
					} else {
						assert.NotContains(t, err.Error(), k, "names only the missing keys")
					}
				}
			})
		}
	}
}
