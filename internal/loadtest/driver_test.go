package loadtest

import (
	"net/http"
	"net/url"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestLoopbackOnlyRefusesOtherHosts(t *testing.T) {
	up := NewUpstream()
	rt := loopbackOnly{upstream: up, next: http.DefaultTransport}
	for _, u := range []string{"https://example.com/", "http://10.0.0.1/", "http://upstream.invalid.example.com/"} {
		req, _ := http.NewRequest(http.MethodGet, u, nil)
		_, err := rt.RoundTrip(req)
		assert.ErrorContains(t, err, "stays on loopback", u)
	}
	req, _ := http.NewRequest(http.MethodGet, UpstreamAuthorizationEndpoint+"?redirect_uri=http%3A%2F%2F127.0.0.1%3A1%2Fcb&state=s", nil)
	resp, err := rt.RoundTrip(req)
	require.NoError(t, err)
	assert.Equal(t, http.StatusFound, resp.StatusCode)
	loc, err := resp.Location()
	require.NoError(t, err)
	assert.Equal(t, "s", loc.Query().Get("state"))
	assert.NotEmpty(t, loc.Query().Get("code"))
}

func TestApproveForm(t *testing.T) {
	page, _ := url.Parse("http://127.0.0.1:8080/oauth/consent?txn=abc")
	f, err := approveForm(page, `<p>x</p><form method="post" action="/oauth/consent">
<input type="hidden" name="txn" value="abc&amp;d">
<input type="hidden" name="csrf_token" value="tok">
<input type="checkbox" name="remember" value="1">
<button class="deny" type="submit" name="action" value="deny">Deny</button>
<button class="approve" type="submit" name="action" value="approve">Approve</button></form>`)
	require.NoError(t, err)
	assert.Equal(t, "http://127.0.0.1:8080/oauth/consent", f.action)
	assert.Equal(t, url.Values{"txn": {"abc&d"}, "csrf_token": {"tok"}, "action": {"approve"}}, f.values)

	_, err = approveForm(page, "<p>no form</p>")
	assert.Error(t, err)
}
