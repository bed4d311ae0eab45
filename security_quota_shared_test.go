package oauthproxy_test

import (
	"net/http"
	"testing"
	"time"

	"github.com/oauthproxy-go/oauthproxy"
	"github.com/oauthproxy-go/oauthproxy/storage/redis/redistest"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestSecurity_S19_QuotaHoldsAcrossReplicasAndRestarts: the quotas count the
// records in the storage, so replicas sharing Redis share one MaxClients, and
// a process restarted on bolt or Redis still sees the clients registered
// before it started.
func TestSecurity_S19_QuotaHoldsAcrossReplicasAndRestarts(t *testing.T) {
	quota := func(c *oauthproxy.Config) { c.MaxClients = 4 }
	register := func(d *deployment, replica string) int {
		t.Helper()
		d.use(replica)
		return secRegister(t, d.srv.URL, secRegistrationBody("none", clientRedirect)).Status
	}

	t.Run("replicas on Redis", func(t *testing.T) {
		addr := redistest.Start(t)
		clk := newStepClock()
		d := newDeployment(t, withSecClock(clk))
		d.start("a", redisStore(t, addr), quota)
		d.start("b", redisStore(t, addr), quota)
		for i, replica := range []string{"a", "b", "a", "b"} {
			require.Equal(t, http.StatusCreated, register(d, replica), "registration %d", i)
		}
		// Each replica re-reads the shared count once a second (between
		// reads it adds only its own registrations); after that both see
		// the other's registrations and are full.
		clk.Advance(2 * time.Second)
		assert.Equal(t, http.StatusServiceUnavailable, register(d, "a"))
		assert.Equal(t, http.StatusServiceUnavailable, register(d, "b"))
	})

	for name, open := range map[string]func(t *testing.T) opener{
		"restart on bolt": boltOpener,
		"restart on Redis": func(t *testing.T) opener {
			return redisOpener(redistest.StartWithOptions(t, redistest.Options{Persistent: true}))
		},
	} {
		t.Run(name, func(t *testing.T) {
			open := open(t)
			d := newDeployment(t)
			store, closeStore := open(t)
			d.start("before", store, quota)
			for i := 0; i < 4; i++ {
				require.Equal(t, http.StatusCreated, register(d, "before"), "registration %d", i)
			}
			d.stop("before")
			closeStore()

			store, _ = open(t)
			d.start("after", store, quota)
			assert.Equal(t, http.StatusServiceUnavailable, register(d, "after"),
				"a restarted process must count the clients registered before it")
		})
	}
}
