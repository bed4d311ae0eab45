package oauthproxy_test

// Security tests for what the proxy keeps: secrets at rest (S15), key
// generation and rotation (S15), and the bounds on dynamic client
// registration that keep open registration from growing storage without
// limit (S14).

import (
	"bytes"
	"context"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/oauthproxy-go/oauthproxy"
	opcrypto "github.com/oauthproxy-go/oauthproxy/crypto"
	"github.com/oauthproxy-go/oauthproxy/internal/pkce"
	"github.com/oauthproxy-go/oauthproxy/storage"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// sgFlow is everything a full login, code exchange and refresh produced.
type sgFlow struct {
	client       registered
	txn          string // the transaction id (upstream state)
	upstreamCode string
	code         string
	tokens       []tokenResult // code exchange, then refresh
}

// sgRunFlow registers a confidential client, logs in step by step, redeems
// the code and refreshes once.
func (e *env) sgRunFlow() sgFlow {
	e.t.Helper()
	f := sgFlow{client: e.register("client_secret_basic")}
	b := newSecBrowser(e.t)
	verifier := pkce.GenerateVerifier()
	_, form := e.secOpenConsent(b, authorizeParams(f.client, pkce.Challenge(verifier)))
	f.txn = form.Get("txn")
	cbURL := e.secToCallback(b, e.secDecide(b, form, "approve"))
	u, err := url.Parse(cbURL)
	require.NoError(e.t, err)
	f.upstreamCode = u.Query().Get("code")
	require.NotEmpty(e.t, f.upstreamCode)
	q := secClientRedirect(e.t, b.get(cbURL), clientRedirect)
	f.code = q.Get("code")
	tok := e.exchange(f.client, f.code, verifier)
	require.Equal(e.t, http.StatusOK, tok.Status, "%v", tok.Body)
	ref := e.refresh(f.client, tok.str("refresh_token"))
	require.Equal(e.t, http.StatusOK, ref.Status, "%v", ref.Body)
	f.tokens = []tokenResult{tok, ref}
	return f
}

// ---------------------------------------------------------------------------
// S15 secrets at rest

func TestSecurity_S15_NoSecretsInStorage(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name    string
		encrypt bool
	}{
		{"encrypted", true},
		{"DisableEncryption", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			store := newRecordingStore(storage.NewMemory())
			rec := &sgUpstreamRecorder{}
			e := newEnv(t, withSecStore(store), withSGUpstreamRecorder(rec), withConfig(func(c *oauthproxy.Config) {
				if !tc.encrypt {
					c.DisableEncryption, c.EncryptionKey = true, nil
				}
			}))
			f := e.sgRunFlow()
			last := f.tokens[len(f.tokens)-1]
			ut, err := e.proxy.LoadUpstreamTokens(context.Background(), last.str("access_token"))
			require.NoError(t, err)
			require.NotEmpty(t, ut.AccessToken)
			require.NotEmpty(t, ut.RefreshToken)

			// The proxy's own credentials are stored by hash, encrypted or not.
			hashed := map[string]string{
				"client secret":  f.client.Secret,
				"transaction id": f.txn,
				"proxy code":     f.code,
			}
			for i, tok := range f.tokens {
				hashed[fmt.Sprintf("access token %d", i+1)] = tok.str("access_token")
				hashed[fmt.Sprintf("refresh token %d", i+1)] = tok.str("refresh_token")
			}
			// The upstream's secrets are sealed.
			sealed := map[string]string{
				"upstream code":          f.upstreamCode,
				"upstream access token":  ut.AccessToken,
				"upstream refresh token": ut.RefreshToken,
			}
			for i, s := range rec.tokens() {
				sealed[fmt.Sprintf("upstream token #%d", i+1)] = s
			}

			saves := store.saves()
			require.NotEmpty(t, saves)
			clientSaved := false
			for _, s := range saves {
				if strings.Contains(s.Key, f.client.ID) {
					clientSaved = true
				}
				for name, secret := range hashed {
					require.NotEmpty(t, secret, name)
					assert.NotContains(t, s.Key, secret, "%s in key %q", name, s.Key)
					assert.False(t, bytes.Contains(s.Value, []byte(secret)), "%s in the value of %q", name, s.Key)
				}
				for name, secret := range sealed {
					require.NotEmpty(t, secret, name)
					assert.NotContains(t, s.Key, secret, "%s in key %q", name, s.Key)
					if tc.encrypt {
						assert.False(t, bytes.Contains(s.Value, []byte(secret)), "%s in the value of %q", name, s.Key)
					}
				}
			}
			require.True(t, clientSaved, "the client registration was stored")
			if !tc.encrypt {
				// Proof that the scan sees plaintext when it is there.
				found := false
				for _, s := range saves {
					found = found || bytes.Contains(s.Value, []byte(ut.AccessToken))
				}
				assert.True(t, found, "with DisableEncryption the grant holds the upstream access token in the clear")
			}
			// The stored secret hash still authenticates the client.
			again := e.refresh(f.client, last.str("refresh_token"))
			assert.Equal(t, http.StatusOK, again.Status, "%v", again.Body)
		})
	}
}

func TestSecurity_S15_SealedValuesAreVersionedAndNameTheirKey(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name  string
		keys  [][]byte // EncryptionKeys; nil: the harness's EncryptionKey
		seals []byte
	}{
		{name: "single key", seals: sgKey("e")},
		{name: "key ring", keys: [][]byte{sgKey("2"), sgKey("1")}, seals: sgKey("2")},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			store := newRecordingStore(storage.NewMemory())
			e := newEnv(t, withSecStore(store), withConfig(func(c *oauthproxy.Config) {
				if tc.keys != nil {
					c.EncryptionKey, c.EncryptionKeys = nil, tc.keys
				}
			}))
			e.sgRunFlow()

			kid, err := hex.DecodeString(opcrypto.KeyID(tc.seals))
			require.NoError(t, err)
			require.Len(t, kid, 4)
			const nonceSize, tagSize = 12, 16
			nonces := map[string]string{}
			saves := store.saves()
			require.NotEmpty(t, saves)
			for _, s := range saves {
				require.GreaterOrEqual(t, len(s.Value), 1+4+nonceSize+tagSize, s.Key)
				assert.Equal(t, byte(0x01), s.Value[0], "%s: format version", s.Key)
				assert.Equal(t, kid, s.Value[1:5], "%s: id of the sealing key", s.Key)
				nonce := string(s.Value[5 : 5+nonceSize])
				assert.NotContains(t, nonces, nonce, "%s reuses the nonce of %s", s.Key, nonces[nonce])
				nonces[nonce] = s.Key
			}
		})
	}
}

func TestSecurity_S15_GeneratedKeysAreLogged(t *testing.T) {
	t.Parallel()
	all := []string{"JWTSigningKey", "EncryptionKey", "ConsentSigningKey"}
	for _, tc := range []struct {
		name   string
		mutate func(*oauthproxy.Config)
		want   []string
	}{
		{"no keys", func(c *oauthproxy.Config) { c.JWTSigningKey, c.EncryptionKey, c.ConsentSigningKey = nil, nil, nil }, all},
		{"signing key missing", func(c *oauthproxy.Config) { c.JWTSigningKey = nil }, []string{"JWTSigningKey"}},
		{"encryption key missing", func(c *oauthproxy.Config) { c.EncryptionKey = nil }, []string{"EncryptionKey"}},
		{"consent key missing", func(c *oauthproxy.Config) { c.ConsentSigningKey = nil }, []string{"ConsentSigningKey"}},
		{"DisableEncryption, no keys", func(c *oauthproxy.Config) {
			c.JWTSigningKey, c.EncryptionKey, c.ConsentSigningKey, c.DisableEncryption = nil, nil, nil, true
		}, []string{"JWTSigningKey", "ConsentSigningKey"}},
		{"all keys set", func(*oauthproxy.Config) {}, nil},
		{"key rings set", func(c *oauthproxy.Config) {
			c.JWTSigningKey, c.JWTSigningKeys = nil, [][]byte{sgKey("k")}
			c.EncryptionKey, c.EncryptionKeys = nil, [][]byte{sgKey("x")}
		}, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			logger, logs := newSGLogger()
			cfg := sgConfig()
			cfg.Logger = logger
			tc.mutate(&cfg)
			sgNew(t, cfg)

			var warnings []string
			for _, r := range logs.records(t) {
				if r["level"] == "WARN" {
					raw, _ := json.Marshal(r)
					warnings = append(warnings, string(raw))
				}
			}
			if len(tc.want) == 0 {
				for _, w := range warnings {
					for _, name := range all {
						assert.NotRegexp(t, `\b`+name+`\b`, w, "no generated-key warning when every key is set")
					}
				}
				return
			}
			require.Len(t, warnings, 1, "one warning names every generated key: %v", warnings)
			for _, name := range all {
				named := regexp.MustCompile(`\b` + name + `\b`).MatchString(warnings[0])
				assert.Equal(t, slices.Contains(tc.want, name), named, "%s named in %s", name, warnings[0])
			}
		})
	}
}

func TestSecurity_S15_PersistentStorageRefusesGeneratedKeys(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name    string
		mutate  func(*oauthproxy.Config)
		missing []string // named in the error; none means New succeeds
	}{
		{"no keys", func(c *oauthproxy.Config) { c.JWTSigningKey, c.EncryptionKey, c.ConsentSigningKey = nil, nil, nil },
			[]string{"JWTSigningKey", "EncryptionKey", "ConsentSigningKey"}},
		{"signing key missing", func(c *oauthproxy.Config) { c.JWTSigningKey = nil }, []string{"JWTSigningKey"}},
		{"encryption key missing", func(c *oauthproxy.Config) { c.EncryptionKey = nil }, []string{"EncryptionKey"}},
		{"consent key missing", func(c *oauthproxy.Config) { c.ConsentSigningKey = nil }, []string{"ConsentSigningKey"}},
		{"all keys set", func(*oauthproxy.Config) {}, nil},
		{"key rings set", func(c *oauthproxy.Config) {
			c.JWTSigningKey, c.JWTSigningKeys = nil, [][]byte{sgKey("k"), sgKey("j")}
			c.EncryptionKey, c.EncryptionKeys = nil, [][]byte{sgKey("x"), sgKey("e")}
		}, nil},
		{"DisableEncryption with the other keys set", func(c *oauthproxy.Config) { c.EncryptionKey, c.DisableEncryption = nil, true }, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			cfg := sgConfig()
			cfg.TokenStorage = sgPersistentStore{storage.NewMemory()}
			tc.mutate(&cfg)
			p, err := oauthproxy.New(cfg)
			if len(tc.missing) == 0 {
				require.NoError(t, err)
				p.Destroy()
				return
			}
			require.Error(t, err)
			assert.Nil(t, p)
			for _, name := range tc.missing {
				assert.Contains(t, err.Error(), name)
			}
			// The same config over non-persistent storage is accepted.
			cfg.TokenStorage = storage.NewMemory()
			sgNew(t, cfg)
		})
	}
}

// ---------------------------------------------------------------------------
// S15 key rotation

// sgRefreshThrough sends a refresh request (as public client c) through a
// proxy's Handler, without a server: proxies built from one Config share the
// BaseURL, so each can answer for it.
func sgRefreshThrough(t *testing.T, p *oauthproxy.Proxy, base string, c registered, refreshToken string) (int, map[string]any) {
	t.Helper()
	form := url.Values{"grant_type": {"refresh_token"}, "refresh_token": {refreshToken}, "client_id": {c.ID}}
	req := httptest.NewRequest(http.MethodPost, base+"/oauth/token", strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	rec := sgServe(p.Handler(), req)
	var body map[string]any
	require.NoError(t, json.Unmarshal(rec.Body.Bytes(), &body), rec.Body.String())
	return rec.Code, body
}

func TestSecurity_S15_KeyRotationKeepsSessions(t *testing.T) {
	t.Parallel()
	k1, k2 := sgKey("1"), sgKey("2")
	e1, e2 := sgKey("a"), sgKey("b")
	mem := storage.NewMemory()
	store := newRecordingStore(mem)
	e := newEnv(t, withSecStore(store), withConfig(func(c *oauthproxy.Config) {
		c.JWTSigningKey, c.JWTSigningKeys = nil, [][]byte{k1}
		c.EncryptionKey, c.EncryptionKeys = nil, [][]byte{e1}
	}))
	ctx := context.Background()
	c := e.register("none")
	tok := e.secTokens(c)
	idle := e.secTokens(c) // a second grant that proxy 2 never touches
	access := tok.str("access_token")
	require.Equal(t, opcrypto.KeyID(k1), sgJWTHeader(t, access)["kid"])
	before, err := e.proxy.LoadUpstreamTokens(ctx, access)
	require.NoError(t, err)
	sealedWithE1 := store.saves()

	// Proxy 2: new keys first, old ones kept, over the same storage.
	cfg2 := e.cfg
	cfg2.JWTSigningKeys = [][]byte{k2, k1}
	cfg2.EncryptionKeys = [][]byte{e2, e1}
	p2 := sgNew(t, cfg2)

	claims, err := p2.VerifyAccessToken(ctx, access)
	require.NoError(t, err, "an access token signed with the old key still verifies")
	assert.Equal(t, c.ID, claims.ClientID)
	rec := sgServe(p2.RequireBearer(sgOK), sgBearerRequest(access))
	assert.Equal(t, http.StatusOK, rec.Code, rec.Body.String())
	after, err := p2.LoadUpstreamTokens(ctx, access)
	require.NoError(t, err, "a grant sealed with the old key opens")
	assert.Equal(t, before.AccessToken, after.AccessToken)

	mark := len(store.saves())
	status, body := sgRefreshThrough(t, p2, e.cfg.BaseURL, c, tok.str("refresh_token"))
	require.Equal(t, http.StatusOK, status, "a refresh token stored under the old key refreshes: %v", body)
	newAccess, _ := body["access_token"].(string)
	newRefresh, _ := body["refresh_token"].(string)
	assert.Equal(t, opcrypto.KeyID(k2), sgJWTHeader(t, newAccess)["kid"], "new tokens are signed with the new key")
	_, err = p2.VerifyAccessToken(ctx, newAccess)
	require.NoError(t, err)
	kid2, _ := hex.DecodeString(opcrypto.KeyID(e2))
	for _, s := range store.saves()[mark:] {
		assert.Equal(t, kid2, s.Value[1:5], "%s is sealed with the new key", s.Key)
	}
	status, body = sgRefreshThrough(t, p2, e.cfg.BaseURL, c, newRefresh)
	require.Equal(t, http.StatusOK, status, "values sealed with the new key open: %v", body)
	newAccess, _ = body["access_token"].(string)

	// Proxy 3 has dropped the old keys.
	cfg3 := e.cfg
	cfg3.JWTSigningKeys = [][]byte{k2}
	cfg3.EncryptionKeys = [][]byte{e2}
	p3 := sgNew(t, cfg3)
	_, err = p3.VerifyAccessToken(ctx, access)
	assert.ErrorIs(t, err, oauthproxy.ErrInvalidToken, "the old signing key is gone")
	assert.Equal(t, http.StatusUnauthorized, sgServe(p3.RequireBearer(sgOK), sgBearerRequest(access)).Code)
	_, err = p3.LoadUpstreamTokens(ctx, newAccess)
	assert.NoError(t, err, "a grant resealed by proxy 2 opens with the new key alone")

	status, body = sgRefreshThrough(t, p3, e.cfg.BaseURL, c, idle.str("refresh_token"))
	assert.NotEqual(t, http.StatusOK, status, "state sealed only with the dropped key does not open: %v", body)
	assert.Empty(t, body["access_token"])
	onlyE2, err := opcrypto.NewSealer(e2)
	require.NoError(t, err)
	bothKeys, err := opcrypto.NewSealer(e2, e1)
	require.NoError(t, err)
	kid1, _ := hex.DecodeString(opcrypto.KeyID(e1))
	opened := 0
	for _, s := range sealedWithE1 {
		require.Equal(t, kid1, s.Value[1:5], "%s was sealed with the old key", s.Key)
		if current, err := mem.Get(ctx, s.Key); err != nil || !bytes.Equal(current, s.Value) {
			continue // taken, or resealed by proxy 2, since
		}
		_, err := storage.NewEncrypted(mem, onlyE2).Get(ctx, s.Key)
		assert.ErrorIs(t, err, storage.ErrCorrupt, "%s opens without its key", s.Key)
		_, err = storage.NewEncrypted(mem, bothKeys).Get(ctx, s.Key)
		assert.NoError(t, err, "%s opens with the ring", s.Key)
		opened++
	}
	require.NotZero(t, opened)

	// Proxy 3's failure destroyed nothing: proxy 2 still serves that grant.
	status, body = sgRefreshThrough(t, p2, e.cfg.BaseURL, c, idle.str("refresh_token"))
	assert.Equal(t, http.StatusOK, status, "%v", body)
}

func TestSecurity_S15_KeyRingConfigIsValidated(t *testing.T) {
	t.Parallel()
	k1, k2 := sgKey("1"), sgKey("2")
	for _, tc := range []struct {
		name    string
		mutate  func(*oauthproxy.Config)
		errText string // "" means New succeeds
	}{
		{"JWTSigningKey and JWTSigningKeys", func(c *oauthproxy.Config) { c.JWTSigningKey, c.JWTSigningKeys = k1, [][]byte{k2} }, "JWTSigningKeys"},
		{"EncryptionKey and EncryptionKeys", func(c *oauthproxy.Config) { c.EncryptionKey, c.EncryptionKeys = k1, [][]byte{k2} }, "EncryptionKeys"},
		{"duplicate signing key", func(c *oauthproxy.Config) { c.JWTSigningKey, c.JWTSigningKeys = nil, [][]byte{k1, k2, k1} }, "JWTSigningKeys"},
		{"duplicate encryption key", func(c *oauthproxy.Config) { c.EncryptionKey, c.EncryptionKeys = nil, [][]byte{k2, k2} }, "EncryptionKeys"},
		{"short signing key in ring", func(c *oauthproxy.Config) { c.JWTSigningKey, c.JWTSigningKeys = nil, [][]byte{k1, k2[:31]} }, "JWTSigningKeys"},
		{"short encryption key in ring", func(c *oauthproxy.Config) { c.EncryptionKey, c.EncryptionKeys = nil, [][]byte{k1, k2[:31]} }, "EncryptionKeys"},
		{"long encryption key in ring", func(c *oauthproxy.Config) { c.EncryptionKey, c.EncryptionKeys = nil, [][]byte{k1, append(k2, 'x')} }, "EncryptionKeys"},
		{"valid rings", func(c *oauthproxy.Config) {
			c.JWTSigningKey, c.JWTSigningKeys = nil, [][]byte{k2, k1}
			c.EncryptionKey, c.EncryptionKeys = nil, [][]byte{k2, k1}
		}, ""},
	} {
		cfg := sgConfig()
		tc.mutate(&cfg)
		p, err := oauthproxy.New(cfg)
		if tc.errText == "" {
			if assert.NoError(t, err, tc.name) {
				p.Destroy()
			}
			continue
		}
		if assert.Error(t, err, tc.name) {
			assert.Contains(t, err.Error(), tc.errText, tc.name)
		}
		assert.Nil(t, p, tc.name)
	}
}

// ---------------------------------------------------------------------------
// S14 registration bounds: idle expiry and metadata limits

func TestSecurity_S14_IdleClientRegistrationExpires(t *testing.T) {
	t.Parallel()
	const ttl = 10 * time.Minute
	newIdleEnv := func(t *testing.T) (*env, *secClock) {
		clk := newSecClock()
		e := newEnv(t, withClockedStore(clk), withConfig(func(c *oauthproxy.Config) { c.ClientIdleTTL = ttl }))
		return e, clk
	}
	authorize := func(e *env, c registered) secHop {
		return e.secAuthorize(newSecBrowser(e.t), authorizeParams(c, pkce.Challenge(pkce.GenerateVerifier())))
	}
	requireAlive := func(e *env, c registered) {
		e.t.Helper()
		h := authorize(e, c)
		require.Equal(e.t, http.StatusFound, h.Status, h.Body)
		require.Equal(e.t, "/oauth/consent", h.Location.Path)
	}
	requireGone := func(e *env, c registered) {
		e.t.Helper()
		h := authorize(e, c)
		secErrorPage(e.t, h, http.StatusBadRequest)
		assert.Contains(e.t, h.Body, "invalid_client")
	}

	t.Run("unused", func(t *testing.T) {
		t.Parallel()
		e, clk := newIdleEnv(t)
		c := e.register("none")
		clk.Advance(ttl - time.Second)
		keep := e.register("none") // registered later, still fresh
		clk.Advance(2 * time.Second)
		requireGone(e, c)
		requireAlive(e, keep)
	})
	t.Run("used at authorize", func(t *testing.T) {
		t.Parallel()
		e, clk := newIdleEnv(t)
		c := e.register("none")
		clk.Advance(ttl / 2)
		requireAlive(e, c)
		clk.Advance(ttl/2 + time.Second) // past the original expiry
		requireAlive(e, c)
		clk.Advance(ttl + time.Second)
		requireGone(e, c)
	})
	t.Run("used at token", func(t *testing.T) {
		t.Parallel()
		e, clk := newIdleEnv(t)
		c := e.register("client_secret_basic")
		tok := e.secTokens(c)
		clk.Advance(ttl / 2)
		res := e.refresh(c, tok.str("refresh_token"))
		require.Equal(t, http.StatusOK, res.Status, "%v", res.Body)
		clk.Advance(ttl/2 + time.Second) // past the original expiry
		res = e.refresh(c, res.str("refresh_token"))
		require.Equal(t, http.StatusOK, res.Status, "a client in use stays registered: %v", res.Body)
		clk.Advance(ttl + time.Second)
		gone := e.refresh(c, res.str("refresh_token"))
		assert.Equal(t, http.StatusUnauthorized, gone.Status, "%v", gone.Body)
		assert.Equal(t, "invalid_client", gone.str("error"))
		requireGone(e, c)
	})
}

func TestSecurity_S14_RegistrationMetadataIsBounded(t *testing.T) {
	t.Parallel()
	store := newRecordingStore(storage.NewMemory())
	e := newEnv(t, withSecStore(store))
	uris := func(n int) []string {
		out := make([]string, n)
		for i := range out {
			out[i] = "http://127.0.0.1:9/cb/" + string(rune('a'+i))
		}
		return out
	}
	body := func(override map[string]any) string {
		md := map[string]any{"redirect_uris": []string{clientRedirect}, "client_name": "ok"}
		for k, v := range override {
			md[k] = v
		}
		b, _ := json.Marshal(md)
		return string(b)
	}

	for _, tc := range []struct {
		name     string
		override map[string]any
		wantErr  string
	}{
		{"11 redirect URIs", map[string]any{"redirect_uris": uris(11)}, "invalid_redirect_uri"},
		{"3000-byte redirect URI", map[string]any{"redirect_uris": []string{"http://127.0.0.1:9/" + strings.Repeat("a", 3000-len("http://127.0.0.1:9/"))}}, "invalid_redirect_uri"},
		{"201-byte client_name", map[string]any{"client_name": strings.Repeat("n", 201)}, "invalid_client_metadata"},
		{"101 two-byte characters in client_name", map[string]any{"client_name": strings.Repeat("é", 101)}, "invalid_client_metadata"},
		{"client_credentials grant", map[string]any{"grant_types": []string{"authorization_code", "client_credentials"}}, "invalid_client_metadata"},
		{"implicit grant", map[string]any{"grant_types": []string{"implicit"}}, "invalid_client_metadata"},
		{"password grant", map[string]any{"grant_types": []string{"authorization_code", "password"}}, "invalid_client_metadata"},
		{"device code grant", map[string]any{"grant_types": []string{"authorization_code", "urn:ietf:params:oauth:grant-type:device_code"}}, "invalid_client_metadata"},
		{"token response type", map[string]any{"response_types": []string{"token"}}, "invalid_client_metadata"},
		{"code and id_token response types", map[string]any{"response_types": []string{"code", "id_token"}}, "invalid_client_metadata"},
		{"private_key_jwt", map[string]any{"token_endpoint_auth_method": "private_key_jwt"}, "invalid_client_metadata"},
		{"client_secret_jwt", map[string]any{"token_endpoint_auth_method": "client_secret_jwt"}, "invalid_client_metadata"},
		{"tls_client_auth", map[string]any{"token_endpoint_auth_method": "tls_client_auth"}, "invalid_client_metadata"},
		{"auth method in upper case", map[string]any{"token_endpoint_auth_method": "NONE"}, "invalid_client_metadata"},
	} {
		mark := store.mark()
		res := secRegister(t, e.srv.URL, body(tc.override))
		assert.Equal(t, http.StatusBadRequest, res.Status, "%s: %v", tc.name, res.Body)
		assert.Equal(t, tc.wantErr, res.str("error"), tc.name)
		assert.Empty(t, res.str("client_id"), tc.name)
		assert.Empty(t, store.since(mark), "%s: nothing is stored", tc.name)
	}

	// At the limits, registration works (and the store sees it).
	mark := store.mark()
	res := secRegister(t, e.srv.URL, body(map[string]any{
		"redirect_uris":              uris(10),
		"client_name":                strings.Repeat("é", 100),
		"grant_types":                []string{"authorization_code", "refresh_token"},
		"response_types":             []string{"code"},
		"token_endpoint_auth_method": "client_secret_post",
	}))
	require.Equal(t, http.StatusCreated, res.Status, "%v", res.Body)
	assert.NotEmpty(t, store.since(mark))
}
