package abuse

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/oauthproxy-go/oauthproxy/internal/loadtest"
)

// LegitAddr is where the legitimate flows come from: another loopback
// address than the attacker's, so a per-address rate limit tells them apart.
const LegitAddr = "127.0.0.2"

// legitUser signs in again and again with one registered client, as a real
// user's application does: authorize, consent, upstream, callback, code
// exchange and a protected call, each flow timed whole.
type legitUser struct {
	client   *loadtest.Client
	clientID string
	interval time.Duration // from the start of one flow to the next
}

func newLegitUser(ctx context.Context, base string, up *loadtest.Upstream, interval time.Duration) (*legitUser, error) {
	c, err := loadtest.NewClient(ctx, loadtest.ClientConfig{URL: base, Upstream: up, LocalAddr: LegitAddr, Timeout: time.Minute})
	if err != nil {
		return nil, err
	}
	id, err := c.Register(ctx)
	if err != nil {
		c.Close()
		return nil, fmt.Errorf("registering the legitimate client: %w", err)
	}
	return &legitUser{client: c, clientID: id, interval: interval}, nil
}

// flow is one complete sign-in and a protected call.
func (u *legitUser) flow(ctx context.Context) error {
	code, verifier, err := u.client.Login(ctx, u.clientID)
	if err != nil {
		return err
	}
	s, err := u.client.Exchange(ctx, u.clientID, code, verifier)
	if err != nil {
		return err
	}
	return u.client.Call(ctx, s)
}

// FlowReport is a series of legitimate flows.
type FlowReport struct {
	Flows, OK    int
	P50, P99     time.Duration
	FirstFailure string
}

// SuccessRate is the share of flows that completed, 1 with none run.
func (r FlowReport) SuccessRate() float64 {
	if r.Flows == 0 {
		return 1
	}
	return float64(r.OK) / float64(r.Flows)
}

// run signs in n times (n <= 0: until stop closes), one flow per interval.
func (u *legitUser) run(ctx context.Context, n int, stop <-chan struct{}) FlowReport {
	var rep FlowReport
	var took []time.Duration
	tick := time.NewTicker(u.interval)
	defer tick.Stop()
	for n <= 0 || rep.Flows < n {
		start := time.Now()
		err := u.flow(ctx)
		rep.Flows++
		if err == nil {
			rep.OK++
			took = append(took, time.Since(start))
		} else if rep.FirstFailure == "" {
			rep.FirstFailure = err.Error()
		}
		select {
		case <-stop:
			n = rep.Flows // the attack is over: this was the last
		case <-ctx.Done():
			n = rep.Flows
		case <-tick.C:
		}
	}
	if len(took) > 0 {
		slices.Sort(took)
		rep.P50, rep.P99 = quantile(took, 0.50), quantile(took, 0.99)
	}
	return rep
}

// quantile of sorted durations, nearest rank.
func quantile(sorted []time.Duration, q float64) time.Duration {
	i := int(q*float64(len(sorted))+0.5) - 1
	return sorted[max(0, min(i, len(sorted)-1))]
}
