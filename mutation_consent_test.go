package oauthproxy_test

import (
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/oauthproxy-go/oauthproxy"
	"github.com/oauthproxy-go/oauthproxy/internal/pkce"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// Edges of the consent code that mutation testing found unpinned
// (docs/mutation.md). Named TestConsent… so scripts/mutate.sh's selection for
// the consent group runs them.

// TestConsent_CSRFCookieOfAtMost64BytesIsKept: the consent page keeps the
// browser's CSRF cookie (so a reload stays valid, S08) when it is at most 64
// bytes, the cap that bounds what an anonymous caller makes the proxy sign,
// and mints a fresh one for a longer value. Either way the form verifies
// against the cookie the page returns.
func TestConsent_CSRFCookieOfAtMost64BytesIsKept(t *testing.T) {
	d := newDirect(t)
	c := d.register("none")
	for _, tc := range []struct {
		cookie string
		kept   bool
	}{
		{strings.Repeat("k", 63), true},
		{strings.Repeat("k", 64), true},
		{strings.Repeat("k", 65), false},
	} {
		res, err := d.p.Authorize(d.ctx, authRequest(c, pkce.Challenge(pkce.GenerateVerifier())))
		require.NoError(t, err)
		page, err := d.p.ConsentPage(d.ctx, res.TransactionID, tc.cookie)
		require.NoError(t, err)
		if tc.kept {
			assert.Equal(t, tc.cookie, page.CSRFCookie, "%d bytes", len(tc.cookie))
		} else {
			assert.NotEqual(t, tc.cookie, page.CSRFCookie, "%d bytes", len(tc.cookie))
			assert.LessOrEqual(t, len(page.CSRFCookie), 64)
		}
		_, err = d.p.HandleConsent(d.ctx, &oauthproxy.ConsentDecision{
			TransactionID: res.TransactionID, Approve: true, CSRFToken: page.CSRFToken, CSRFCookie: page.CSRFCookie,
		})
		require.NoError(t, err, "%d bytes", len(tc.cookie))
	}
}

// TestConsent_RememberedApprovalIsAudited: the consent-given event says
// "remembered" exactly when the approval is remembered: asked for, allowed
// for the client, and ConsentRememberTTL on.
func TestConsent_RememberedApprovalIsAudited(t *testing.T) {
	for _, ttl := range []time.Duration{0, time.Hour} {
		var mu sync.Mutex
		var reasons []string
		d := newDirect(t, withConfig(func(c *oauthproxy.Config) {
			c.ConsentRememberTTL = ttl
			c.OnEvent = func(e oauthproxy.Event) {
				if e.Type == oauthproxy.EventConsentGiven {
					mu.Lock()
					reasons = append(reasons, e.Reason)
					mu.Unlock()
				}
			}
		}))
		c := d.register("client_secret_basic") // confidential: may be remembered
		res, err := d.p.Authorize(d.ctx, authRequest(c, pkce.Challenge(pkce.GenerateVerifier())))
		require.NoError(t, err)
		page, err := d.p.ConsentPage(d.ctx, res.TransactionID, "")
		require.NoError(t, err)
		dec, err := d.p.HandleConsent(d.ctx, &oauthproxy.ConsentDecision{
			TransactionID: res.TransactionID, Approve: true, Remember: true,
			CSRFToken: page.CSRFToken, CSRFCookie: page.CSRFCookie,
		})
		require.NoError(t, err)
		want := ""
		if ttl > 0 {
			want = "remembered"
		}
		assert.Equal(t, want != "", dec.RememberedConsent != "", "ttl %v", ttl)
		mu.Lock()
		assert.Equal(t, []string{want}, reasons, "ttl %v", ttl)
		mu.Unlock()
	}
}
