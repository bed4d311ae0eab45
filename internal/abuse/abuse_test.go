package abuse

import (
	"bytes"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// smallRun is make test's hostile-load run: every kind of hostile request,
// 12 of each (every variant twice), against 8 established sessions, sized to take well under a
// minute under the race detector on two cores. make abuse runs 100,000.
var smallRun = Config{
	Requests:       12 * len(Kinds),
	Concurrency:    4,
	Sessions:       8,
	PendingCodes:   4,
	SessionWorkers: 2,
	QuietFlows:     3,
	LegitInterval:  100 * time.Millisecond,
	// A proxy that keeps what the attack sends grows by hundreds of MiB
	// here (under the race detector, more): stop it early, it has failed.
	MaxGrowth: 512 << 20,
}

// smallRunHeapLimit is what the small run may add to the heap in use: issue
// 11's figure (64 MiB for 100,000 hostile requests) scaled to the run, on
// top of 8 MiB for what the established sessions legitimately add (a rotated
// refresh token's marker per refresh) and for measurement noise.
func smallRunHeapLimit(requests int) int64 {
	return 8<<20 + FigureRSSGrowth*int64(requests)/FigureRequests
}

// The hostile-load run of issue 11 (SECURITY.md S19, S20): max-size hostile
// requests against every anonymous endpoint must not disturb the users
// already signed in, must get only the answers their kind may get (no server
// error but 503 temporarily_unavailable), and — once issue 11's bounds and
// quotas are in — must cost the process a bounded amount of memory. Memory
// is asserted on the heap after GC, never on wall time or RSS (the race
// detector's shadow memory is in RSS).
func TestSecurity_S19_HostileLoadCostsBoundedMemory(t *testing.T) {
	var progress bytes.Buffer
	cfg := smallRun
	cfg.Progress = &progress
	rep, err := Run(t.Context(), cfg)
	require.NoError(t, err)
	var out bytes.Buffer
	rep.Print(&out)
	t.Log("\n" + out.String())

	for _, k := range rep.Kinds {
		assert.Positive(t, k.Sent, "%s requests sent", k.Kind)
		assert.Zero(t, k.Unexpected, "%s: unexpected answers (%s), first: %s", k.Kind, k, k.FirstOdd)
	}
	assert.Zero(t, rep.Sessions.Failures, "established sessions failed: %s", rep.Sessions.FirstFailure)
	assert.Positive(t, rep.Sessions.Refreshes, "the established sessions refreshed during the attack")
	assert.Equal(t, cfg.PendingCodes, rep.Sessions.CodesRedeemed, "every issued code was redeemed during the attack")
	assert.Equal(t, rep.Quiet.Flows, rep.Quiet.OK, "quiet legitimate flows: %s", rep.Quiet.FirstFailure)
	assert.Positive(t, rep.UnderAttack.Flows, "legitimate flows ran during the attack")

	limit := smallRunHeapLimit(cfg.Requests)
	require.Empty(t, rep.Stopped)
	assert.Equal(t, cfg.Requests, rep.Sent, "every hostile request was sent")
	assert.LessOrEqual(t, rep.HeapGrowth(), limit, "the heap grew by %s for %d hostile requests", signedMiB(rep.HeapGrowth()), rep.Sent)
}
