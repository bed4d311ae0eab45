package cimd

import (
	"context"
	"errors"
	"net/http"
	"net/netip"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestSecurity_S17_ClientIDURLRules pins the draft's client_id URL rules (SECURITY.md S17).
func TestSecurity_S17_ClientIDURLRules(t *testing.T) {
	long := "https://app.example.com/" + strings.Repeat("a", maxURLLength-len("https://app.example.com/"))
	tests := []struct {
		name, url string
		want      error // nil: accepted
	}{
		{"valid", "https://app.example.com/oauth/client.json", nil},
		{"valid with port", "https://app.example.com:8443/client", nil},
		{"valid ip literal", "https://127.0.0.1:8443/client.json", nil},
		{"valid ipv6 literal", "https://[2001:4860::8888]/client.json", nil},
		{"valid at max length", long, nil},
		{"too long", long + "a", errURLTooLong},
		{"http", "http://app.example.com/oauth/client.json", errURLScheme},
		{"upper-case scheme", "HTTPS://app.example.com/oauth/client.json", errURLScheme},
		{"other scheme", "ftp://app.example.com/client.json", errURLScheme},
		{"not a URL", "my-client", errURLScheme},
		{"empty", "", errURLScheme},
		{"no path", "https://app.example.com", errURLPath},
		{"root path", "https://app.example.com/", errURLPath},
		{"no path with port", "https://app.example.com:443", errURLPath},
		{"fragment", "https://app.example.com/client.json#x", errURLFragment},
		{"empty fragment", "https://app.example.com/client.json#", errURLFragment},
		{"userinfo", "https://user@app.example.com/client.json", errURLUserinfo},
		{"userinfo with password", "https://user:pw@app.example.com/client.json", errURLUserinfo},
		{"userinfo hiding the host", "https://app.example.com:@evil.example/client.json", errURLUserinfo},
		{"dot segment", "https://app.example.com/./client.json", errURLDotSegment},
		{"dot-dot segment", "https://app.example.com/oauth/../client.json", errURLDotSegment},
		{"trailing dot-dot", "https://app.example.com/oauth/..", errURLDotSegment},
		{"encoded dot-dot", "https://app.example.com/oauth/%2e%2e/client.json", errURLDotSegment},
		{"encoded dot", "https://app.example.com/%2E/client.json", errURLDotSegment},
		{"query", "https://app.example.com/client.json?v=1", errURLQuery},
		{"empty query", "https://app.example.com/client.json?", errURLQuery},
		{"no host", "https:///client.json", errURLHost},
		{"percent-encoded host", "https://app%2Eexample.com/client.json", errURLSyntax},
		{"percent-encoded host name", "https://%61pp.example.com/client.json", errURLSyntax},
		{"decimal ipv4", "https://2130706433/client.json", errURLHost},
		{"hex ipv4", "https://0x7f000001/client.json", errURLHost},
		{"short ipv4", "https://127.1/client.json", errURLHost},
		{"ipv6 zone", "https://[fe80::1%25eth0]/client.json", errURLHost},
		{"non-canonical ipv6", "https://[2001:4860:0:0::8888]/client.json", errURLHost},
		{"trailing dot host", "https://app.example.com./client.json", errURLHost},
		{"empty port", "https://app.example.com:/client.json", errURLPort},
		{"port zero", "https://app.example.com:0/client.json", errURLPort},
		{"port too big", "https://app.example.com:65536/client.json", errURLPort},
		{"space", "https://app.example.com/my client.json", errURLCharacters},
		{"non-ascii", "https://app.example.com/clïent.json", errURLCharacters},
		{"backslash", `https://app.example.com\@evil.example/client.json`, errURLBackslash},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			u, err := ValidateClientIDURL(tt.url)
			if tt.want == nil {
				require.NoError(t, err)
				assert.Equal(t, tt.url, u.String(), "the parsed URL must round-trip to the client_id")
				return
			}
			require.ErrorIs(t, err, tt.want)
			require.ErrorIs(t, err, ErrInvalidDocument)
			assert.Nil(t, u)
			requireSafeErrorText(t, err)
		})
	}
}

// TestSecurity_S17_FetchValidDocument is the positive control for the tests below: with the
// address check disabled, the loopback test server is reachable and its document accepted.
func TestSecurity_S17_FetchValidDocument(t *testing.T) {
	ts := newTestServer(t)
	var accept, method string
	ts.mux.HandleFunc(docPath, func(w http.ResponseWriter, r *http.Request) {
		accept, method = r.Header.Get("Accept"), r.Method
		w.Header().Set("Content-Type", "application/json; charset=utf-8")
		_, _ = w.Write([]byte(docJSON(t, ts.clientID(), nil)))
	})

	doc, err := ts.fetcher(true).Fetch(context.Background(), ts.clientID())
	require.NoError(t, err)
	assert.Equal(t, &Document{
		ClientID:                ts.clientID(),
		ClientName:              "Example MCP Client",
		ClientURI:               "https://app.example.com",
		RedirectURIs:            []string{"http://127.0.0.1/callback", "https://app.example.com/oauth/callback"},
		TokenEndpointAuthMethod: "none",
		GrantTypes:              []string{"authorization_code", "refresh_token"},
		ResponseTypes:           []string{"code"},
	}, doc)
	assert.Equal(t, http.MethodGet, method)
	assert.Equal(t, "application/json", accept)
}

// TestSecurity_S17_DocumentRules fetches documents that break the content rules.
func TestSecurity_S17_DocumentRules(t *testing.T) {
	tests := []struct {
		name      string
		overrides map[string]any
		rawBody   string // used instead of the document when set
		wantText  string
	}{
		{name: "client_id mismatch", overrides: map[string]any{"client_id": "https://other.example.com/oauth/client.json"}, wantText: "does not equal the URL"},
		{name: "client_id missing", overrides: map[string]any{"client_id": nil}, wantText: "does not equal the URL"},
		{name: "redirect_uris missing", overrides: map[string]any{"redirect_uris": nil}, wantText: "redirect_uris"},
		{name: "redirect_uris empty", overrides: map[string]any{"redirect_uris": []string{}}, wantText: "redirect_uris"},
		{name: "client_secret present", overrides: map[string]any{"client_secret": "s3cr3t"}, wantText: "client_secret"},
		{name: "client_secret_expires_at present", overrides: map[string]any{"client_secret_expires_at": 0}, wantText: "client_secret"},
		{name: "auth method client_secret_basic", overrides: map[string]any{"token_endpoint_auth_method": "client_secret_basic"}, wantText: "client_secret_basic needs a shared secret"},
		{name: "auth method client_secret_post", overrides: map[string]any{"token_endpoint_auth_method": "client_secret_post"}, wantText: "shared secret"},
		{name: "auth method private_key_jwt", overrides: map[string]any{"token_endpoint_auth_method": "private_key_jwt"}, wantText: "private_key_jwt is not supported"},
		{name: "redirect URI with userinfo (S01)", overrides: map[string]any{"redirect_uris": []string{"http://localhost:@evil.example/cb"}}, wantText: "invalid redirect URI"},
		{name: "javascript redirect URI (S01)", overrides: map[string]any{"redirect_uris": []string{"javascript:alert(1)"}}, wantText: "invalid redirect URI"},
		{name: "trailing data", rawBody: `{"client_id":"x"} {}`, wantText: "data after the JSON object"},
		{name: "not an object", rawBody: `["x"]`, wantText: "not a single JSON object"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ts := newTestServer(t)
			body := tt.rawBody
			if body == "" {
				body = docJSON(t, ts.clientID(), tt.overrides)
			}
			ts.serveJSON(docPath, body)

			doc, err := ts.fetcher(true).Fetch(context.Background(), ts.clientID())
			require.ErrorIs(t, err, ErrInvalidDocument)
			assert.NotErrorIs(t, err, ErrFetch)
			assert.Contains(t, err.Error(), tt.wantText)
			assert.Nil(t, doc)
			requireSafeErrorText(t, err)
			assert.NotContains(t, err.Error(), "s3cr3t")
		})
	}
}

// TestSecurity_S17_FetchPolicy refuses responses that break the transport rules: non-200
// statuses, non-JSON content types and oversized bodies.
func TestSecurity_S17_FetchPolicy(t *testing.T) {
	tests := []struct {
		name     string
		handler  func(clientID string) http.HandlerFunc
		wantText string
	}{
		{
			name: "404",
			handler: func(string) http.HandlerFunc {
				return func(w http.ResponseWriter, _ *http.Request) { http.NotFound(w, nil) }
			},
			wantText: "HTTP status 404",
		},
		{
			name: "500 with a valid document",
			handler: func(id string) http.HandlerFunc {
				return func(w http.ResponseWriter, _ *http.Request) {
					w.Header().Set("Content-Type", "application/json")
					w.WriteHeader(http.StatusInternalServerError)
					_, _ = w.Write([]byte(`{"client_id":"` + id + `","redirect_uris":["http://127.0.0.1/cb"]}`))
				}
			},
			wantText: "HTTP status 500",
		},
		{
			name: "text/html content type",
			handler: func(id string) http.HandlerFunc {
				return func(w http.ResponseWriter, _ *http.Request) {
					w.Header().Set("Content-Type", "text/html")
					_, _ = w.Write([]byte(`{"client_id":"` + id + `","redirect_uris":["http://127.0.0.1/cb"]}`))
				}
			},
			wantText: "application/json",
		},
		{
			name: "no content type",
			handler: func(id string) http.HandlerFunc {
				return func(w http.ResponseWriter, _ *http.Request) {
					w.Header()["Content-Type"] = nil // no sniffing
					_, _ = w.Write([]byte(`{"client_id":"` + id + `","redirect_uris":["http://127.0.0.1/cb"]}`))
				}
			},
			wantText: "application/json",
		},
		{
			name: "larger than 5 KiB",
			handler: func(id string) http.HandlerFunc {
				return func(w http.ResponseWriter, _ *http.Request) {
					w.Header().Set("Content-Type", "application/json")
					_, _ = w.Write([]byte(`{"client_id":"` + id + `","redirect_uris":["http://127.0.0.1/cb"],"pad":"` +
						strings.Repeat("x", defaultMaxBytes) + `"}`))
				}
			},
			wantText: "larger than 5120 bytes",
		},
		{
			name: "larger than 5 KiB, chunked without Content-Length",
			handler: func(id string) http.HandlerFunc {
				return func(w http.ResponseWriter, _ *http.Request) {
					w.Header().Set("Content-Type", "application/json")
					_, _ = w.Write([]byte(`{"client_id":"` + id + `","redirect_uris":["http://127.0.0.1/cb"],"pad":"`))
					w.(http.Flusher).Flush()
					for range 64 {
						_, _ = w.Write([]byte(strings.Repeat("x", 1024)))
					}
					_, _ = w.Write([]byte(`"}`))
				}
			},
			wantText: "larger than 5120 bytes",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ts := newTestServer(t)
			ts.mux.HandleFunc(docPath, tt.handler(ts.clientID()))
			f := ts.fetcher(true)
			f.MaxBytes = 0 // the default cap

			doc, err := f.Fetch(context.Background(), ts.clientID())
			require.ErrorIs(t, err, ErrFetch)
			assert.NotErrorIs(t, err, ErrInvalidDocument)
			assert.Contains(t, err.Error(), tt.wantText)
			assert.NotContains(t, err.Error(), "client_id\":", "the response body must never be quoted")
			assert.Nil(t, doc)
			requireSafeErrorText(t, err)
		})
	}
}

// TestSecurity_S17_SizeCapBoundary accepts a document of exactly MaxBytes and refuses one more.
func TestSecurity_S17_SizeCapBoundary(t *testing.T) {
	ts := newTestServer(t)
	base := docJSON(t, ts.clientID(), map[string]any{"pad": ""})
	pad := strings.Repeat("x", defaultMaxBytes-len(base))
	exact := strings.Replace(base, `"pad":""`, `"pad":"`+pad+`"`, 1)
	require.Len(t, exact, defaultMaxBytes)
	ts.serveJSON("/exact", exact)
	ts.serveJSON("/over", exact+" ")

	f := ts.fetcher(true)
	_, err := f.Fetch(context.Background(), ts.URL+"/exact")
	require.ErrorIs(t, err, ErrInvalidDocument, "a document at the cap is read and then checked")
	assert.Contains(t, err.Error(), "does not equal the URL")

	_, err = f.Fetch(context.Background(), ts.URL+"/over")
	require.ErrorIs(t, err, ErrFetch)
	assert.Contains(t, err.Error(), "larger than")

	ts.serveJSON(docPath, exact)
	doc, err := f.Fetch(context.Background(), ts.clientID())
	require.NoError(t, err)
	assert.Equal(t, ts.clientID(), doc.ClientID)
}

// TestSecurity_S17_RedirectNotFollowed answers 302 (and other 3xx) and checks the target is
// never requested.
func TestSecurity_S17_RedirectNotFollowed(t *testing.T) {
	for _, status := range []int{http.StatusMovedPermanently, http.StatusFound, http.StatusSeeOther, http.StatusTemporaryRedirect, http.StatusPermanentRedirect} {
		t.Run(http.StatusText(status), func(t *testing.T) {
			ts := newTestServer(t)
			var targetHits atomic.Int32
			ts.mux.HandleFunc(docPath, func(w http.ResponseWriter, r *http.Request) {
				http.Redirect(w, r, "/target.json", status)
			})
			ts.mux.HandleFunc("/target.json", func(w http.ResponseWriter, _ *http.Request) {
				targetHits.Add(1)
				w.Header().Set("Content-Type", "application/json")
				_, _ = w.Write([]byte(docJSON(t, ts.clientID(), nil)))
			})

			doc, err := ts.fetcher(true).Fetch(context.Background(), ts.clientID())
			require.ErrorIs(t, err, ErrFetch)
			assert.Contains(t, err.Error(), "redirect")
			assert.Nil(t, doc)
			requireSafeErrorText(t, err)
			ts.Close() // wait for handlers before reading targetHits
			assert.Zero(t, targetHits.Load(), "the redirect target must not be requested")
			assert.EqualValues(t, 1, ts.requests.Load())
		})
	}
}

// TestSecurity_S17_SlowServerTimesOut holds the response past the fetch timeout.
func TestSecurity_S17_SlowServerTimesOut(t *testing.T) {
	tests := []struct {
		name    string
		handler func(release <-chan struct{}, clientID string) http.HandlerFunc
	}{
		{
			name: "no headers",
			handler: func(release <-chan struct{}, _ string) http.HandlerFunc {
				return func(_ http.ResponseWriter, r *http.Request) {
					select {
					case <-release:
					case <-r.Context().Done():
					}
				}
			},
		},
		{
			name: "body trickles",
			handler: func(release <-chan struct{}, id string) http.HandlerFunc {
				return func(w http.ResponseWriter, r *http.Request) {
					w.Header().Set("Content-Type", "application/json")
					_, _ = w.Write([]byte(`{"client_id":"` + id + `",`))
					w.(http.Flusher).Flush()
					select {
					case <-release:
					case <-r.Context().Done():
					}
				}
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ts := newTestServer(t) // its cleanup (Close) runs after release below
			release := make(chan struct{})
			t.Cleanup(func() { close(release) })
			ts.mux.HandleFunc(docPath, tt.handler(release, ts.clientID()))
			f := ts.fetcher(true)
			f.Timeout = 200 * time.Millisecond

			start := time.Now()
			doc, err := f.Fetch(context.Background(), ts.clientID())
			elapsed := time.Since(start)
			require.ErrorIs(t, err, ErrFetch)
			require.ErrorIs(t, err, context.DeadlineExceeded)
			assert.Contains(t, err.Error(), "not fetched in time")
			assert.Nil(t, doc)
			requireSafeErrorText(t, err)
			assert.Less(t, elapsed, 2*time.Second)
		})
	}
}

// TestSecurity_S17_LoopbackRefusedAtDial: with the address check on, the very server the
// tests above fetch from is unreachable, for every spelling of its address. No TCP connection
// reaches it: the check runs before connect.
func TestSecurity_S17_LoopbackRefusedAtDial(t *testing.T) {
	ts := newTestServer(t)
	ts.serveJSON(docPath, docJSON(t, ts.clientID(), nil))
	for _, host := range []string{"127.0.0.1", "[::ffff:127.0.0.1]", "0.0.0.0"} {
		t.Run(host, func(t *testing.T) {
			clientID := hostURL(ts, host)
			_, err := ValidateClientIDURL(clientID)
			require.NoError(t, err, "the URL itself is well-formed; the address is what gets refused")

			doc, err := ts.fetcher(false).Fetch(context.Background(), clientID)
			require.ErrorIs(t, err, ErrFetch)
			require.ErrorIs(t, err, errBlockedAddress)
			assert.Contains(t, err.Error(), "not a public internet address")
			assert.Nil(t, doc)
			requireSafeErrorText(t, err)
		})
	}
	assert.Zero(t, ts.conns.Load(), "no connection may reach the server")
	assert.Zero(t, ts.requests.Load(), "the handler must never run")

	// The zero Fetcher (nil RootCAs, default resolver) is just as strict.
	_, err := (&Fetcher{}).Fetch(context.Background(), ts.clientID())
	require.ErrorIs(t, err, errBlockedAddress)
	var nilFetcher *Fetcher
	_, err = nilFetcher.Fetch(context.Background(), ts.clientID())
	require.ErrorIs(t, err, errBlockedAddress)
	assert.Zero(t, ts.conns.Load())
}

// TestSecurity_S17_LocalhostRefusedAfterResolution: a host name is checked on the address it
// resolves to, here localhost from /etc/hosts (the resolver sends no DNS query at all).
func TestSecurity_S17_LocalhostRefusedAfterResolution(t *testing.T) {
	ts := newTestServer(t)
	clientID := hostURL(ts, "localhost")
	ts.serveJSON(docPath, docJSON(t, clientID, nil))

	f := ts.fetcher(false)
	f.Resolver = offlineResolver()
	doc, err := f.Fetch(context.Background(), clientID)
	require.ErrorIs(t, err, ErrFetch)
	require.ErrorIs(t, err, errBlockedAddress)
	assert.Nil(t, doc)
	assert.Zero(t, ts.conns.Load())
	assert.Zero(t, ts.requests.Load())
}

// TestSecurity_S17_DNSAnswerCheckedAtDial: a public-looking name whose DNS answer is a
// loopback address (as in DNS rebinding) is refused on the dialed address. A fake DNS server
// on 127.0.0.1 answers every query with 127.0.0.1; nothing leaves the machine.
func TestSecurity_S17_DNSAnswerCheckedAtDial(t *testing.T) {
	ts := newTestServer(t)
	resolver, answered := fakeDNS(t, netip.MustParseAddr("127.0.0.1"))
	clientID := hostURL(ts, "cimd.example.com") // covered by the httptest certificate
	ts.serveJSON(docPath, docJSON(t, clientID, nil))

	t.Run("refused with the address check", func(t *testing.T) {
		f := ts.fetcher(false)
		f.Resolver = resolver
		doc, err := f.Fetch(context.Background(), clientID)
		require.ErrorIs(t, err, ErrFetch)
		require.ErrorIs(t, err, errBlockedAddress)
		assert.Nil(t, doc)
		assert.Positive(t, answered.Load(), "the name must have been resolved by the fake DNS server")
		assert.Zero(t, ts.conns.Load())
		assert.Zero(t, ts.requests.Load())
	})

	t.Run("control: same resolver, check disabled, fetch succeeds", func(t *testing.T) {
		f := ts.fetcher(true)
		f.Resolver = resolver
		doc, err := f.Fetch(context.Background(), clientID)
		require.NoError(t, err)
		assert.Equal(t, clientID, doc.ClientID)
		assert.EqualValues(t, 1, ts.requests.Load())
	})
}

// TestSecurity_S17_AddressClassifier covers the dial check's decision without dialing.
func TestSecurity_S17_AddressClassifier(t *testing.T) {
	tests := []struct {
		addr   string
		public bool
	}{
		{"127.0.0.1", false},
		{"127.255.255.254", false},
		{"10.0.0.1", false},
		{"172.16.0.1", false},
		{"172.31.255.255", false},
		{"192.168.1.1", false},
		{"169.254.169.254", false},
		{"100.64.0.1", false},
		{"100.127.255.255", false},
		{"0.0.0.0", false},
		{"0.1.2.3", false},
		{"224.0.0.1", false},
		{"239.255.255.250", false},
		{"255.255.255.255", false},
		{"240.0.0.1", false},
		{"192.0.0.8", false},
		{"192.0.2.1", false},
		{"198.18.0.1", false},
		{"198.51.100.1", false},
		{"203.0.113.1", false},
		{"::", false},
		{"::1", false},
		{"fe80::1", false},
		{"fc00::1", false},
		{"fd12:3456::1", false},
		{"ff02::1", false},
		{"fec0::1", false},
		{"::ffff:127.0.0.1", false},
		{"::ffff:10.0.0.1", false},
		{"::ffff:169.254.169.254", false},
		{"::ffff:0:127.0.0.1", false},
		{"::127.0.0.1", false},
		{"64:ff9b::a00:1", false},
		{"2002:7f00:1::1", false},
		{"2001::1", false},
		{"2001:db8::1", false},
		{"100::1", false},
		{"8.8.8.8", true},
		{"1.1.1.1", true},
		{"100.63.255.255", true},
		{"172.32.0.1", true},
		{"::ffff:8.8.8.8", true},
		{"2001:4860:4860::8888", true},
		{"2606:4700:4700::1111", true},
	}
	for _, tt := range tests {
		t.Run(tt.addr, func(t *testing.T) {
			a := netip.MustParseAddr(tt.addr)
			assert.Equal(t, tt.public, isPublicAddress(a))

			// The dial hook agrees, for both address families' spellings.
			err := dialControl(context.Background(), "tcp6", netip.AddrPortFrom(a, 443).String(), nil)
			if tt.public {
				assert.NoError(t, err)
			} else {
				assert.ErrorIs(t, err, errBlockedAddress)
			}
		})
	}

	assert.False(t, isPublicAddress(netip.Addr{}))
	assert.False(t, isPublicAddress(netip.MustParseAddr("fe80::1%eth0")))
	assert.ErrorIs(t, dialControl(context.Background(), "udp4", "8.8.8.8:53", nil), errBlockedAddress)
	assert.ErrorIs(t, dialControl(context.Background(), "tcp4", "not-an-address", nil), errBlockedAddress)
	assert.NoError(t, dialControl(context.Background(), "tcp4", "8.8.8.8:443", nil))
}

// TestSecurity_S17_ErrorsAreDistinct: callers tell fetch failures from bad documents.
func TestSecurity_S17_ErrorsAreDistinct(t *testing.T) {
	assert.False(t, errors.Is(ErrFetch, ErrInvalidDocument))
	_, err := (&Fetcher{}).Fetch(context.Background(), "http://app.example.com/client.json")
	require.ErrorIs(t, err, ErrInvalidDocument, "a bad client_id URL is refused before any network use")
	assert.NotErrorIs(t, err, ErrFetch)
}
