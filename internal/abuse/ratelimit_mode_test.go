package abuse

import (
	"bytes"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// With rate limiting on (SECURITY.md S20), the attacker at 127.0.0.1 is
// refused with 429 while the legitimate user at 127.0.0.2 keeps signing in
// and the established sessions, each on its own address, keep working; the
// forged X-Forwarded-For headers of the attack change nothing. The p99
// figure is wall time, reported by make abuse and not asserted here.
func TestSecurity_S20_HostileLoadRateLimited(t *testing.T) {
	cfg := smallRun
	cfg.RateLimits = true
	cfg.LegitInterval = 250 * time.Millisecond
	rep, err := Run(t.Context(), cfg)
	require.NoError(t, err)
	var out bytes.Buffer
	rep.Print(&out)
	t.Log("\n" + out.String())

	require.Empty(t, rep.Stopped)
	assert.Equal(t, cfg.Requests, rep.Sent)
	limited := 0
	for _, k := range rep.Kinds {
		limited += k.Statuses[429]
		assert.Zero(t, k.Unexpected, "%s: unexpected answers (%s), first: %s", k.Kind, k, k.FirstOdd)
	}
	assert.Positive(t, limited, "the attacker was rate limited")
	assert.Zero(t, rep.Sessions.Failures, "established sessions failed: %s", rep.Sessions.FirstFailure)
	assert.Equal(t, cfg.PendingCodes, rep.Sessions.CodesRedeemed)
	assert.Equal(t, rep.Quiet.Flows, rep.Quiet.OK, "quiet legitimate flows: %s", rep.Quiet.FirstFailure)
	assert.Positive(t, rep.UnderAttack.Flows)
	assert.GreaterOrEqual(t, rep.UnderAttack.SuccessRate(), FigureLegitSuccess, "legitimate flows under attack: %s", rep.UnderAttack.FirstFailure)
	assert.LessOrEqual(t, rep.HeapGrowth(), smallRunHeapLimit(rep.Sent))
}
