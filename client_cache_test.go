package oauthproxy

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The cache only skips decoding: what a client lookup returns is what is
// stored now. A deleted client is unknown at once, a changed one is read as
// changed, and a caller's change to its copy reaches nobody else.
func TestDecodedClients_AlwaysTheStoredRecord(t *testing.T) {
	p := newInternalTestProxy(t)
	ctx := t.Context()
	info, err := p.RegisterClient(ctx, &ClientMetadata{
		RedirectURIs: []string{"http://127.0.0.1/cb"}, TokenEndpointAuthMethod: AuthMethodNone, ClientName: "One",
	})
	require.NoError(t, err)

	first, oerr := p.lookupClient(ctx, info.ClientID)
	require.Nil(t, oerr)
	first.LastUsedAt = time.Unix(1, 0)
	first.ClientName = "changed by a caller"
	again, oerr := p.lookupClient(ctx, info.ClientID)
	require.Nil(t, oerr)
	assert.Equal(t, "One", again.ClientName)
	assert.NotEqual(t, time.Unix(1, 0), again.LastUsedAt)

	changed := *again
	changed.ClientName = "Two"
	changed.RedirectURIs = []string{"http://127.0.0.1/other"}
	require.NoError(t, p.putJSON(ctx, nsClient+info.ClientID, &changed, time.Hour))
	now, oerr := p.lookupClient(ctx, info.ClientID)
	require.Nil(t, oerr)
	assert.Equal(t, "Two", now.ClientName)
	assert.Equal(t, []string{"http://127.0.0.1/other"}, now.RedirectURIs)

	require.NoError(t, p.DeleteClient(ctx, info.ClientID))
	_, oerr = p.lookupClient(ctx, info.ClientID)
	require.NotNil(t, oerr, "a deleted client is unknown at once")
	assert.Equal(t, ErrCodeInvalidClient, oerr.Code)
}

// Registrations are anonymous, so the decoded records kept are bounded.
func TestSecurity_S19_DecodedClientsAreBounded(t *testing.T) {
	c := newDecodedClients()
	for i := range 5 * maxDecodedClients {
		b := []byte(fmt.Sprintf(`{"client_id":"c%d"}`, i))
		c.put(b, clientRecord{ClientID: fmt.Sprint(i)})
		require.LessOrEqual(t, c.len(), maxDecodedClients)
		got, ok := c.getBytes(b)
		require.True(t, ok)
		require.Equal(t, fmt.Sprint(i), got.ClientID)
	}
	big := []byte(`{"client_name":"` + strings.Repeat("x", maxClientRecordLen) + `"}`)
	c.put(big, clientRecord{})
	_, ok := c.getBytes(big)
	assert.False(t, ok, "no record larger than a stored client record can be is kept")
}
