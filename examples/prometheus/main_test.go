package main

import (
	"bufio"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/oauthproxy-go/oauthproxy/internal/pkce"
	"github.com/oauthproxy-go/oauthproxy/oauthproxytest"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

const clientRedirect = "http://127.0.0.1:9/callback"

// TestEventsReachPrometheus runs the example on loopback ports, signs in
// through the proxy, refreshes, replays the code, and scrapes /metrics after
// each step to see the counters move.
func TestEventsReachPrometheus(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	ready := make(chan addrs, 1)
	done := make(chan error, 1)
	env := map[string]string{"ADDR": "127.0.0.1:0", "METRICS_ADDR": "127.0.0.1:0"}
	go func() {
		done <- run(ctx, func(k string) string { return env[k] }, io.Discard, slog.New(slog.DiscardHandler), ready)
	}()
	t.Cleanup(func() {
		cancel()
		select {
		case err := <-done:
			assert.NoError(t, err)
		case <-time.After(10 * time.Second):
			t.Error("run did not return after its context ended")
		}
	})
	var a addrs
	select {
	case a = <-ready:
	case err := <-done:
		t.Fatalf("run: %v", err)
	case <-time.After(10 * time.Second):
		t.Fatal("run never got ready")
	}
	tr := &http.Transport{Proxy: nil}
	t.Cleanup(tr.CloseIdleConnections)
	hc := &http.Client{Transport: tr, Timeout: 10 * time.Second}

	// Every event type has its series from the start.
	m := scrape(t, hc, a.Metrics)
	for _, typ := range eventTypes {
		v, ok := m[series{typ: string(typ)}]
		assert.True(t, ok, "no series for %s", typ)
		assert.Zero(t, v, typ)
	}

	// Register, sign in (consent and the stand-in's login page), redeem.
	var info struct {
		ClientID string `json:"client_id"`
	}
	postJSON(t, hc, a.Base+"/oauth/register", `{"redirect_uris":["`+clientRedirect+`"],"token_endpoint_auth_method":"none","grant_types":["authorization_code","refresh_token"]}`, http.StatusCreated, &info)
	verifier := pkce.GenerateVerifier()
	authURL := a.Base + "/oauth/authorize?" + url.Values{
		"response_type": {"code"}, "client_id": {info.ClientID}, "redirect_uri": {clientRedirect},
		"scope": {"openid email"}, "state": {"s1"},
		"code_challenge": {pkce.Challenge(verifier)}, "code_challenge_method": {"S256"},
	}.Encode()
	res, err := oauthproxytest.NewBrowser(t).Authorize(authURL)
	require.NoError(t, err)
	redeem := url.Values{"grant_type": {"authorization_code"}, "code": {res.Code}, "redirect_uri": {clientRedirect},
		"code_verifier": {verifier}, "client_id": {info.ClientID}}
	var tok struct {
		AccessToken  string `json:"access_token"`
		RefreshToken string `json:"refresh_token"`
	}
	postForm(t, hc, a.Base+"/oauth/token", redeem, http.StatusOK, &tok)

	req, _ := http.NewRequest(http.MethodGet, a.Base+"/mcp", nil)
	req.Header.Set("Authorization", "Bearer "+tok.AccessToken)
	resp, err := hc.Do(req)
	require.NoError(t, err)
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	require.Equal(t, http.StatusOK, resp.StatusCode)
	assert.Contains(t, string(body), "signed in as "+oauthproxytest.DefaultUser.Subject)

	m = scrape(t, hc, a.Metrics)
	for s, want := range map[series]float64{
		{typ: "client.registered", reason: "none"}: 1, // the reason is the client's token_endpoint_auth_method
		{typ: "consent.given"}:                     1, {typ: "code.issued"}: 1, {typ: "code.redeemed"}: 1, {typ: "token.issued"}: 1,
		{typ: "token.refreshed"}: 0, {typ: "code.replayed"}: 0,
	} {
		assert.Equal(t, want, m[s], "%+v", s)
	}

	// A refresh, then the code replayed: the replay revokes the grant.
	postForm(t, hc, a.Base+"/oauth/token", url.Values{"grant_type": {"refresh_token"},
		"refresh_token": {tok.RefreshToken}, "client_id": {info.ClientID}}, http.StatusOK, nil)
	postForm(t, hc, a.Base+"/oauth/token", redeem, http.StatusBadRequest, nil)

	m = scrape(t, hc, a.Metrics)
	assert.Equal(t, 1.0, m[series{typ: "token.refreshed"}])
	assert.Equal(t, 1.0, m[series{typ: "code.replayed"}])
	assert.Equal(t, 1.0, m[series{typ: "grant.revoked", reason: "authorization code replayed"}])
	assert.Equal(t, 1.0, m[series{typ: "code.redeemed"}], "the replay redeemed nothing")
	assert.Contains(t, m, series{name: "go_goroutines"}, "the Go runtime's metrics are served too")
}

// series names one sample: an oauthproxy_events_total type and reason, or
// another metric by name.
type series struct {
	typ, reason string
	name        string
}

var (
	sampleLine = regexp.MustCompile(`^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$`)
	labelPair  = regexp.MustCompile(`([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"`)
)

// scrape reads /metrics in the text exposition format.
func scrape(t *testing.T, hc *http.Client, metricsURL string) map[series]float64 {
	t.Helper()
	resp, err := hc.Get(metricsURL)
	require.NoError(t, err)
	defer resp.Body.Close()
	require.Equal(t, http.StatusOK, resp.StatusCode)
	out := map[series]float64{}
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		m := sampleLine.FindStringSubmatch(sc.Text())
		if m == nil {
			continue
		}
		v, err := strconv.ParseFloat(m[3], 64)
		require.NoError(t, err, sc.Text())
		if m[1] != "oauthproxy_events_total" {
			out[series{name: m[1]}] = v
			continue
		}
		labels := map[string]string{}
		for _, l := range labelPair.FindAllStringSubmatch(m[2], -1) {
			labels[l[1]] = strings.NewReplacer(`\"`, `"`, `\\`, `\`, `\n`, "\n").Replace(l[2])
		}
		out[series{typ: labels["type"], reason: labels["reason"]}] = v
	}
	require.NoError(t, sc.Err())
	return out
}

func postJSON(t *testing.T, hc *http.Client, u, body string, want int, out any) {
	t.Helper()
	resp, err := hc.Post(u, "application/json", strings.NewReader(body))
	require.NoError(t, err)
	decode(t, resp, want, out)
}

func postForm(t *testing.T, hc *http.Client, u string, form url.Values, want int, out any) {
	t.Helper()
	resp, err := hc.PostForm(u, form)
	require.NoError(t, err)
	decode(t, resp, want, out)
}

func decode(t *testing.T, resp *http.Response, want int, out any) {
	t.Helper()
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	require.Equal(t, want, resp.StatusCode, "%s", body)
	if out != nil {
		require.NoError(t, json.Unmarshal(body, out))
	}
}
