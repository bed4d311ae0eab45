package oauthproxy

import (
	"net/http"
	"net/http/httptest"
	"net/netip"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestClientAddr(t *testing.T) {
	trusted, err := parseTrustedProxies([]string{"10.0.0.0/8", "2001:db8:ffff::/48", "192.0.2.9"})
	require.NoError(t, err)
	deep := strings.Repeat("10.0.0.7, ", maxForwardedHops) + "10.0.0.8"

	tests := []struct {
		name    string
		remote  string
		headers map[string][]string
		want    string
	}{
		{"the peer, without port", "203.0.113.5:4711", nil, "203.0.113.5"},
		{"an IPv6 peer", "[2001:db8::5]:4711", nil, "2001:db8::5"},
		{"an IPv4-mapped peer is IPv4", "[::ffff:203.0.113.5]:1", nil, "203.0.113.5"},
		{"a zone is dropped", "[fe80::1%eth0]:1", nil, "fe80::1"},
		{"a RemoteAddr that is no IP is kept", "pipe", nil, "pipe"},
		{"headers from an untrusted peer are ignored", "203.0.113.5:1",
			map[string][]string{"X-Forwarded-For": {"198.51.100.1"}, "Forwarded": {"for=198.51.100.1"}}, "203.0.113.5"},
		{"a trusted peer's X-Forwarded-For", "10.1.2.3:1",
			map[string][]string{"X-Forwarded-For": {"198.51.100.1"}}, "198.51.100.1"},
		{"a trusted single address", "192.0.2.9:1",
			map[string][]string{"X-Forwarded-For": {"198.51.100.1"}}, "198.51.100.1"},
		{"an address next to the trusted one is not trusted", "192.0.2.10:1",
			map[string][]string{"X-Forwarded-For": {"198.51.100.1"}}, "192.0.2.10"},
		{"trusted hops are skipped from the right", "10.1.2.3:1",
			map[string][]string{"X-Forwarded-For": {"198.51.100.1, 10.9.9.9,10.8.8.8"}}, "198.51.100.1"},
		{"spoofed left-most entries are ignored", "10.1.2.3:1",
			map[string][]string{"X-Forwarded-For": {"1.1.1.1, 2.2.2.2, 198.51.100.1, 10.9.9.9"}}, "198.51.100.1"},
		{"a spoofed entry that is not an address is never reached", "10.1.2.3:1",
			map[string][]string{"X-Forwarded-For": {"<script>, 198.51.100.1"}}, "198.51.100.1"},
		{"several header lines are one list", "10.1.2.3:1",
			map[string][]string{"X-Forwarded-For": {"1.1.1.1, 198.51.100.1", "10.9.9.9"}}, "198.51.100.1"},
		{"entries with ports", "10.1.2.3:1",
			map[string][]string{"X-Forwarded-For": {"[2001:db8::7]:80, 10.9.9.9:443"}}, "2001:db8::7"},
		{"empty elements are skipped", "10.1.2.3:1",
			map[string][]string{"X-Forwarded-For": {"198.51.100.1, , 10.9.9.9,"}}, "198.51.100.1"},
		{"all trusted: the left-most is the client", "10.1.2.3:1",
			map[string][]string{"X-Forwarded-For": {"10.5.5.5, 10.9.9.9"}}, "10.5.5.5"},
		{"a malformed hop falls back to the peer", "10.1.2.3:1",
			map[string][]string{"X-Forwarded-For": {"198.51.100.1, bogus"}}, "10.1.2.3"},
		{"an empty header falls back to the peer", "10.1.2.3:1",
			map[string][]string{"X-Forwarded-For": {""}}, "10.1.2.3"},
		{"more trusted hops than the bound fall back to the peer", "10.1.2.3:1",
			map[string][]string{"X-Forwarded-For": {"198.51.100.1, " + deep}}, "10.1.2.3"},
		{"Forwarded", "10.1.2.3:1",
			map[string][]string{"Forwarded": {"for=1.1.1.1, for=198.51.100.1;proto=https, For=\"10.9.9.9:8080\";by=10.0.0.1"}}, "198.51.100.1"},
		{"Forwarded with a quoted IPv6 node", "[2001:db8:ffff::1]:1",
			map[string][]string{"Forwarded": {`for="[2001:db8:cafe::17]:4711"`}}, "2001:db8:cafe::17"},
		{"Forwarded with an IPv6 node without port", "10.1.2.3:1",
			map[string][]string{"Forwarded": {`for="[2001:db8:cafe::17]"`}}, "2001:db8:cafe::17"},
		{"Forwarded unknown falls back to the peer", "10.1.2.3:1",
			map[string][]string{"Forwarded": {"for=unknown"}}, "10.1.2.3"},
		{"Forwarded obfuscated falls back to the peer", "10.1.2.3:1",
			map[string][]string{"Forwarded": {"for=_hidden"}}, "10.1.2.3"},
		{"Forwarded without for falls back to the peer", "10.1.2.3:1",
			map[string][]string{"Forwarded": {"proto=https"}}, "10.1.2.3"},
		{"Forwarded with a broken bracket falls back to the peer", "10.1.2.3:1",
			map[string][]string{"Forwarded": {`for="[2001:db8::17"`}}, "10.1.2.3"},
		{"both headers agreeing", "10.1.2.3:1",
			map[string][]string{"X-Forwarded-For": {"198.51.100.1"}, "Forwarded": {"for=198.51.100.1"}}, "198.51.100.1"},
		{"both headers disagreeing: neither is believed", "10.1.2.3:1",
			map[string][]string{"X-Forwarded-For": {"198.51.100.1"}, "Forwarded": {"for=6.6.6.6"}}, "10.1.2.3"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := &http.Request{RemoteAddr: tt.remote, Header: http.Header(tt.headers)}
			assert.Equal(t, tt.want, clientAddr(r, trusted))
			assert.Equal(t, clientAddr(r, nil), peerOnly(tt.remote), "without TrustedProxies no header is believed")
		})
	}
}

func peerOnly(remote string) string {
	if a, ok := parseHop(remote); ok {
		return a.String()
	}
	return remote
}

// TestClientAddr_HugeHeaderIsBounded: a megabyte of X-Forwarded-For costs a
// scan of its last hops, not a split of the whole header.
func TestClientAddr_HugeHeaderIsBounded(t *testing.T) {
	trusted := []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8")}
	huge := strings.Repeat("1.2.3.4,", 1<<17) + "198.51.100.1, 10.0.0.9"
	r := &http.Request{RemoteAddr: "10.1.1.1:1", Header: http.Header{"X-Forwarded-For": {huge}}}
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	for range 10 {
		assert.Equal(t, "198.51.100.1", clientAddr(r, trusted))
	}
	runtime.ReadMemStats(&after)
	// Splitting the header would allocate 2 MiB a call.
	assert.Less(t, after.TotalAlloc-before.TotalAlloc, uint64(256<<10), "bytes allocated by 10 calls")

	commas := strings.Repeat(",", 1<<20)
	r.Header.Set("X-Forwarded-For", "198.51.100.1"+commas)
	assert.Equal(t, "10.1.1.1", clientAddr(r, trusted), "empty elements count towards the bound")
}

func TestParseTrustedProxies(t *testing.T) {
	got, err := parseTrustedProxies([]string{"10.1.2.3/8", "192.0.2.1", "2001:db8::/32", "::ffff:192.0.2.2"})
	require.NoError(t, err)
	assert.Equal(t, []netip.Prefix{
		netip.MustParsePrefix("10.0.0.0/8"), netip.MustParsePrefix("192.0.2.1/32"),
		netip.MustParsePrefix("2001:db8::/32"), netip.MustParsePrefix("192.0.2.2/32"),
	}, got)

	_, err = parseTrustedProxies([]string{"10.0.0.0/33", "example.com", "::ffff:10.0.0.0/104", "10.0.0.1"})
	require.Error(t, err)
	for _, bad := range []string{"10.0.0.0/33", "example.com", "::ffff:10.0.0.0/104"} {
		assert.Contains(t, err.Error(), bad)
	}
	assert.NotContains(t, err.Error(), `"10.0.0.1"`)
}

func TestRateLimitKey(t *testing.T) {
	assert.Equal(t, "token|192.0.2.1", rateLimitKey("token", "192.0.2.1"))
	assert.Equal(t, "token|2001:db8:1:2::/64", rateLimitKey("token", "2001:db8:1:2:aaaa::1"), "IPv6 by /64")
	assert.Equal(t, rateLimitKey("token", "2001:db8:1:2::1"), rateLimitKey("token", "2001:db8:1:2:ffff::9"))
	assert.NotEqual(t, rateLimitKey("token", "2001:db8:1:2::1"), rateLimitKey("token", "2001:db8:1:3::1"))
	assert.Equal(t, "register|pipe", rateLimitKey("register", "pipe"))
}

func TestRetryAfterSeconds(t *testing.T) {
	for wait, want := range map[time.Duration]int64{
		time.Nanosecond: 1, 0: 1, time.Second: 1, 1001 * time.Millisecond: 2, 59*time.Second + 1: 60,
	} {
		assert.Equal(t, want, retryAfterSeconds(wait), "%s", wait)
	}
}

// parseHopReference is parseHop as it first was: the bare address first,
// then "ip:port". The faster order must read every hop the same.
func parseHopReference(s string) (netip.Addr, bool) {
	addr, err := netip.ParseAddr(s)
	if err != nil {
		ap, err := netip.ParseAddrPort(s)
		if err != nil {
			return netip.Addr{}, false
		}
		addr = ap.Addr()
	}
	return canonicalAddr(addr), true
}

var hopCases = []string{
	"127.0.0.1:5555", "127.0.0.1", "192.0.2.7:0", "[::1]:443", "::1", "[::1]", "2001:db8::17",
	"[2001:db8::17]:4711", "[::ffff:192.0.2.1]:80", "::ffff:192.0.2.1", "[fe80::1%eth0]:80",
	"fe80::1%eth0", "1.2.3.04:80", "1.2.3.4:", "1.2.3.4:99999", ":80", "", "unknown", "[1.2.3.4]:80",
	"1.2.3.4:80:90", "[::1]:80x", "::1:80", "0.0.0.0:1", "255.255.255.255:65535",
}

func TestParseHop_ReadsEveryHopAsBefore(t *testing.T) {
	for _, s := range hopCases {
		want, wantOK := parseHopReference(s)
		got, gotOK := parseHop(s)
		require.Equal(t, wantOK, gotOK, "%q", s)
		require.Equal(t, want, got, "%q", s)
	}
}

func FuzzParseHop(f *testing.F) {
	for _, s := range hopCases {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		want, wantOK := parseHopReference(s)
		got, gotOK := parseHop(s)
		if wantOK != gotOK || want != got {
			t.Fatalf("%q: parseHop %v %v, reference %v %v", s, got, gotOK, want, wantOK)
		}
		if gotOK && hopText(got, s) != got.String() {
			t.Fatalf("%q: hopText %q, String %q", s, hopText(got, s), got.String())
		}
	})
}

// The client address named in events and rate-limit keys is the canonical
// text of the peer, whatever form RemoteAddr had.
func TestClientAddr_IsTheCanonicalPeerText(t *testing.T) {
	for _, s := range hopCases {
		addr, ok := parseHop(s)
		if !ok {
			continue
		}
		r := httptest.NewRequest(http.MethodGet, "/", nil)
		r.RemoteAddr = s
		require.Equal(t, addr.String(), clientAddr(r, nil), "%q", s)
	}
}
