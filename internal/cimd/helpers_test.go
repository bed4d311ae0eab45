package cimd

import (
	"context"
	"crypto/x509"
	"encoding/binary"
	"encoding/json"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

const docPath = "/oauth/client.json"

// testServer is an httptest TLS server on 127.0.0.1 that counts accepted connections and
// requests, so a test can prove the fetcher never reached it.
type testServer struct {
	*httptest.Server
	conns    atomic.Int32
	requests atomic.Int32
	mux      *http.ServeMux
}

// newTestServer starts a TLS server; handle registers handlers on its mux.
func newTestServer(t *testing.T) *testServer {
	t.Helper()
	ts := &testServer{mux: http.NewServeMux()}
	ts.Server = httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ts.requests.Add(1)
		ts.mux.ServeHTTP(w, r)
	}))
	ts.Config.ConnState = func(_ net.Conn, s http.ConnState) {
		if s == http.StateNew {
			ts.conns.Add(1)
		}
	}
	ts.StartTLS()
	t.Cleanup(ts.Close)
	return ts
}

// clientID is the metadata document URL on this server, with a 127.0.0.1 literal host.
func (ts *testServer) clientID() string { return ts.URL + docPath }

// port is the server's listening port.
func (ts *testServer) port() string {
	_, port, _ := net.SplitHostPort(ts.Listener.Addr().String())
	return port
}

// fetcher trusts the server's certificate. allowPrivate must be true to reach it at all.
func (ts *testServer) fetcher(allowPrivate bool) *Fetcher {
	pool := x509.NewCertPool()
	pool.AddCert(ts.Certificate())
	return &Fetcher{AllowPrivateAddresses: allowPrivate, RootCAs: pool, Timeout: 5 * time.Second}
}

// serveJSON answers every GET of path with body as application/json.
func (ts *testServer) serveJSON(path, body string) {
	ts.mux.HandleFunc(path, func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(body))
	})
}

// docJSON returns a valid metadata document for clientID, with fields overridden (a nil
// value deletes the member).
func docJSON(t *testing.T, clientID string, overrides map[string]any) string {
	t.Helper()
	doc := map[string]any{
		"client_id":                  clientID,
		"client_name":                "Example MCP Client",
		"client_uri":                 "https://app.example.com",
		"redirect_uris":              []string{"http://127.0.0.1/callback", "https://app.example.com/oauth/callback"},
		"grant_types":                []string{"authorization_code", "refresh_token"},
		"response_types":             []string{"code"},
		"token_endpoint_auth_method": "none",
	}
	for k, v := range overrides {
		if v == nil {
			delete(doc, k)
		} else {
			doc[k] = v
		}
	}
	b, err := json.Marshal(doc)
	require.NoError(t, err)
	return string(b)
}

// requireSafeErrorText checks that err's text can be sent as an OAuth error_description
// (RFC 6749 section 5.2: printable ASCII without '"' and '\') and has no section sign.
func requireSafeErrorText(t *testing.T, err error) {
	t.Helper()
	require.Error(t, err)
	msg := err.Error()
	require.NotEmpty(t, msg)
	for i := 0; i < len(msg); i++ {
		c := msg[i]
		require.Truef(t, c >= 0x20 && c <= 0x7e && c != '"' && c != '\\', "unsafe byte %q in %q", c, msg)
	}
	require.NotContains(t, msg, "§")
}

// offlineResolver never sends a DNS query: names not in /etc/hosts fail to resolve.
func offlineResolver() *net.Resolver {
	return &net.Resolver{PreferGo: true, Dial: func(context.Context, string, string) (net.Conn, error) {
		return nil, &net.DNSError{Err: "DNS disabled in tests", IsNotFound: true}
	}}
}

// fakeDNS runs a DNS server on 127.0.0.1 that answers every A (or AAAA) query with addr, and
// returns a resolver that sends all its queries there and nowhere else, plus a query counter.
func fakeDNS(t *testing.T, addr netip.Addr) (*net.Resolver, *atomic.Int32) {
	t.Helper()
	pc, err := net.ListenPacket("udp4", "127.0.0.1:0")
	require.NoError(t, err)
	var answered atomic.Int32
	done := make(chan struct{})
	go func() {
		defer close(done)
		buf := make([]byte, 1500)
		for {
			n, from, err := pc.ReadFrom(buf)
			if err != nil {
				return // closed at cleanup
			}
			resp, hit := dnsResponse(buf[:n], addr)
			if resp == nil {
				continue
			}
			if hit {
				answered.Add(1)
			}
			_, _ = pc.WriteTo(resp, from)
		}
	}()
	t.Cleanup(func() {
		_ = pc.Close()
		<-done
	})
	server := pc.LocalAddr().String()
	r := &net.Resolver{PreferGo: true, Dial: func(ctx context.Context, _, _ string) (net.Conn, error) {
		var d net.Dialer
		return d.DialContext(ctx, "udp4", server)
	}}
	return r, &answered
}

// dnsResponse builds the answer to one DNS query (RFC 1035 section 4): the question echoed,
// and one A or AAAA record pointing at addr when the query type matches addr's family.
func dnsResponse(q []byte, addr netip.Addr) (resp []byte, hit bool) {
	if len(q) < 12 || binary.BigEndian.Uint16(q[4:6]) != 1 {
		return nil, false
	}
	off := 12
	for {
		if off >= len(q) {
			return nil, false
		}
		l := int(q[off])
		off++
		if l == 0 {
			break
		}
		if l&0xc0 != 0 {
			return nil, false
		}
		off += l
	}
	if off+4 > len(q) {
		return nil, false
	}
	qtype := binary.BigEndian.Uint16(q[off : off+2])
	question := q[12 : off+4]

	var rdata []byte
	switch {
	case qtype == 1 && addr.Is4():
		a := addr.As4()
		rdata = a[:]
	case qtype == 28 && addr.Is6():
		a := addr.As16()
		rdata = a[:]
	}
	resp = make([]byte, 12, 12+len(question)+16+len(rdata))
	copy(resp[0:2], q[0:2])                 // id
	resp[2] = 0x80 | q[2]&0x01              // QR, RD copied
	resp[3] = 0x80                          // RA, NOERROR
	binary.BigEndian.PutUint16(resp[4:], 1) // QDCOUNT
	resp = append(resp, question...)
	if rdata != nil {
		binary.BigEndian.PutUint16(resp[6:], 1)                  // ANCOUNT
		resp = append(resp, 0xc0, 12)                            // name: pointer to the question
		resp = append(resp, q[off], q[off+1], 0, 1, 0, 0, 0, 60) // type, class IN, TTL
		resp = binary.BigEndian.AppendUint16(resp, uint16(len(rdata)))
		resp = append(resp, rdata...)
	}
	return resp, rdata != nil
}

// hostURL replaces the host of a test server URL, keeping its port.
func hostURL(ts *testServer, host string) string {
	return "https://" + net.JoinHostPort(strings.Trim(host, "[]"), ts.port()) + docPath
}
