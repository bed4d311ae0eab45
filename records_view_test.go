package oauthproxy

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/oauthproxy-go/oauthproxy/internal/upstream"
)

// getJSON decodes from a buffer the next read reuses (storage.Encrypted's
// View): a record it returned must not change when later records are read.
func TestGetJSON_RecordsOutliveTheReadBuffer(t *testing.T) {
	p := newInternalTestProxy(t)
	require.True(t, p.sealsRecords, "the default store is the encrypting one, which has View")
	ctx := t.Context()

	record := func(i int) *grant {
		return &grant{
			ID: fmt.Sprintf("g%d", i), ClientID: fmt.Sprintf("client-%d", i), Subject: fmt.Sprintf("user-%d", i),
			Scopes: []string{fmt.Sprintf("s%d", i), "openid"}, Resource: "https://mcp.example/mcp",
			Claims:   []byte(fmt.Sprintf(`{"email":"u%d@example.com","n":%d}`, i, i)),
			Upstream: upstream.Token{AccessToken: strings.Repeat(fmt.Sprint(i%10), 900), IDToken: fmt.Sprintf("id-%d", i)},
		}
	}
	for i := range 30 {
		require.NoError(t, p.putJSON(ctx, fmt.Sprintf("grant:g%d", i), record(i), time.Hour))
	}
	var first grant
	require.NoError(t, p.getJSON(ctx, "grant:g0", &first))
	for i := 1; i < 30; i++ {
		var g grant
		require.NoError(t, p.getJSON(ctx, fmt.Sprintf("grant:g%d", i), &g))
		require.Equal(t, record(i).Upstream.AccessToken, g.Upstream.AccessToken)
	}
	want := record(0)
	assert.Equal(t, want.ClientID, first.ClientID)
	assert.Equal(t, want.Subject, first.Subject)
	assert.Equal(t, want.Scopes, first.Scopes)
	assert.JSONEq(t, string(want.Claims), string(first.Claims))
	assert.Equal(t, want.Upstream, first.Upstream)
}
