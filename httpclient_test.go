package oauthproxy_test

import (
	"testing"

	"github.com/oauthproxy-go/oauthproxy"
	"go.uber.org/goleak"
)

// With no HTTPClient the proxy makes its own, whose pool keeps connections to
// the upstream between sign-ins; Destroy closes them, so nothing of the
// proxy runs on while the upstream still does.
func TestDestroy_ClosesTheDefaultClientsConnections(t *testing.T) {
	d := newDirect(t, withConfig(func(c *oauthproxy.Config) { c.HTTPClient = nil }))
	before := goleak.IgnoreCurrent()
	c := d.register("none")
	for range 3 { // sign-ins reuse the pooled connection
		d.tokens(c)
	}
	d.p.Destroy()
	goleak.VerifyNone(t, before)
}
