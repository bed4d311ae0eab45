package oauthproxy_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/oauthproxy-go/oauthproxy"
	"github.com/oauthproxy-go/oauthproxy/storage"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// cimdChallenge is a valid S256 code_challenge for the requests below.
const cimdChallenge = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"

// cimdAttempt is one /authorize (as a JSON-asking user agent) or one /token
// request for a client_id, with the wire error it got. Safe to call from any
// goroutine: it reports failures in its result, not through t.
type cimdAttempt struct {
	status     int
	location   string
	retryAfter string
	body       map[string]string
	err        error
}

func (e *env) cimdAuthorize(clientID string) cimdAttempt {
	params := authorizeParams(registered{ID: clientID}, cimdChallenge)
	req, err := http.NewRequest(http.MethodGet, e.srv.URL+"/oauth/authorize?"+params.Encode(), nil)
	if err != nil {
		return cimdAttempt{err: err}
	}
	req.Header.Set("Accept", "application/json")
	return doCIMDAttempt(req)
}

func (e *env) cimdToken(clientID string) cimdAttempt {
	form := url.Values{
		"grant_type":    {"authorization_code"},
		"client_id":     {clientID},
		"code":          {"no-such-code"},
		"redirect_uri":  {clientRedirect},
		"code_verifier": {strings.Repeat("v", 43)},
	}
	req, err := http.NewRequest(http.MethodPost, e.srv.URL+"/oauth/token", strings.NewReader(form.Encode()))
	if err != nil {
		return cimdAttempt{err: err}
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	return doCIMDAttempt(req)
}

func doCIMDAttempt(req *http.Request) cimdAttempt {
	hc := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := hc.Do(req)
	if err != nil {
		return cimdAttempt{err: err}
	}
	defer resp.Body.Close()
	a := cimdAttempt{status: resp.StatusCode, location: resp.Header.Get("Location"), retryAfter: resp.Header.Get("Retry-After")}
	if resp.StatusCode != http.StatusFound {
		a.err = json.NewDecoder(resp.Body).Decode(&a.body)
	}
	return a
}

// TestSecurity_S20_CIMDFailureCachedAcrossRequests: a client_id whose document
// cannot be fetched, asked for at /authorize and /token many times, at once and
// one after another, costs one outbound request per minute, and each request
// gets the same safe refusal.
func TestSecurity_S20_CIMDFailureCachedAcrossRequests(t *testing.T) {
	docs := newDocServer(t)
	clientID := docs.URL + "/missing/client.json" // 404
	clk := newSecClock()
	e := newEnv(t, withCIMD(docs.pool(), true), withSecClock(clk))

	const n = 10
	attempts := make([]cimdAttempt, 2*n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() { attempts[i] = e.cimdAuthorize(clientID) })
		wg.Go(func() { attempts[n+i] = e.cimdToken(clientID) })
	}
	wg.Wait()
	for range n {
		attempts = append(attempts, e.cimdAuthorize(clientID), e.cimdToken(clientID))
	}
	for _, a := range attempts {
		require.NoError(t, a.err)
		assert.Contains(t, []int{http.StatusBadRequest, http.StatusUnauthorized}, a.status)
		assert.Empty(t, a.location, "an unknown client is never redirected to")
		assert.Equal(t, oauthproxy.ErrCodeInvalidClient, a.body["error"])
		assert.Equal(t, "client metadata document URL answered with HTTP status 404, not 200", a.body["error_description"])
	}
	assert.EqualValues(t, 1, docs.requests.Load(), "one fetch for %d requests", len(attempts))

	clk.Advance(time.Minute)
	a := e.cimdAuthorize(clientID)
	assert.Equal(t, http.StatusBadRequest, a.status)
	assert.EqualValues(t, 2, docs.requests.Load(), "after a minute the document is fetched again")
}

// TestSecurity_S20_CIMDBusyIsTemporary: while the metadata host already has its
// two fetches in flight, a third client_id on it is refused at once with 503
// temporarily_unavailable and Retry-After, stores nothing, and is fetched as
// soon as a slot is free: the refusal is not remembered as the client's failure.
func TestSecurity_S20_CIMDBusyIsTemporary(t *testing.T) {
	docs := newDocServer(t)
	release := make(chan struct{})
	var slowInFlight atomic.Int32
	docs.mux.HandleFunc("/slow/", func(w http.ResponseWriter, r *http.Request) {
		slowInFlight.Add(1)
		select {
		case <-release:
		case <-r.Context().Done():
		}
		http.NotFound(w, r)
	})
	clientID := docs.serveDocument("/oauth/client.json", clientRedirect)
	store := storage.NewMemory()
	e := newEnv(t, withCIMD(docs.pool(), true), withConfig(func(c *oauthproxy.Config) { c.TokenStorage = store }))
	var releaseOnce sync.Once
	open := func() { releaseOnce.Do(func() { close(release) }) }
	t.Cleanup(open) // before the servers close (cleanups run last first)

	var slow sync.WaitGroup
	slowAttempts := make([]cimdAttempt, 2)
	for i, path := range []string{"/slow/a.json", "/slow/b.json"} {
		slow.Go(func() { slowAttempts[i] = e.cimdAuthorize(docs.URL + path) })
	}
	require.Eventually(t, func() bool { return slowInFlight.Load() == 2 }, 5*time.Second, time.Millisecond)

	for _, a := range []cimdAttempt{e.cimdAuthorize(clientID), e.cimdToken(clientID)} {
		require.NoError(t, a.err)
		assert.Equal(t, http.StatusServiceUnavailable, a.status)
		assert.Equal(t, "5", a.retryAfter, "a slot frees within the 5 s fetch timeout")
		assert.Empty(t, a.location)
		assert.Equal(t, oauthproxy.ErrCodeTemporarilyUnavailable, a.body["error"])
		assert.Equal(t, "too many client metadata documents are being fetched, try again shortly", a.body["error_description"])
	}
	// A browser gets the error page, with the same status and Retry-After.
	params := authorizeParams(registered{ID: clientID}, cimdChallenge)
	resp, err := e.browser().Get(e.srv.URL + "/oauth/authorize?" + params.Encode())
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, http.StatusServiceUnavailable, resp.StatusCode)
	assert.Equal(t, "5", resp.Header.Get("Retry-After"))
	assert.Empty(t, resp.Header.Get("Location"))

	_, err = store.Get(context.Background(), "client:"+clientID)
	assert.ErrorIs(t, err, storage.ErrNotFound)
	assert.EqualValues(t, 2, docs.requests.Load(), "only the two slow fetches reached the host")

	open()
	slow.Wait()
	for _, a := range slowAttempts {
		assert.Equal(t, http.StatusBadRequest, a.status)
	}
	a := e.cimdAuthorize(clientID)
	require.NoError(t, a.err)
	assert.Equal(t, http.StatusFound, a.status, "%v", a.body)
	assert.EqualValues(t, 3, docs.requests.Load(), "once a slot is free the document is fetched")
}
