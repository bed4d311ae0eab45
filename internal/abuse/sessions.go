package abuse

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/oauthproxy-go/oauthproxy/internal/loadtest"
)

// established is one user signed in before the attack, on a loopback
// address of its own (as users behind their own IPs are): its session, and
// maybe an authorization code issued but not yet redeemed.
type established struct {
	client   *loadtest.Client
	clientID string
	session  *loadtest.Session // nil once it has failed: its refresh token is spent
	code     *pendingCode
}

type pendingCode struct {
	code, verifier string
	issued         time.Time
	redeemAt       float64 // the share of the attack sent before it is redeemed
}

// sessionAddr is the loopback address of the k-th established session:
// 127.0.0.16 onwards, clear of the attacker (127.0.0.1) and the legitimate
// flows (127.0.0.2).
func sessionAddr(k int) string { return fmt.Sprintf("127.0.%d.%d", 16+k/240, 16+k%240) }

// establish signs n users in (register, login, code exchange), and for the
// first withCode of them logs in once more, keeping the code.
func establish(ctx context.Context, base string, up *loadtest.Upstream, n, withCode int) ([]*established, error) {
	out := make([]*established, n)
	errs := make(chan error, n)
	var wg sync.WaitGroup
	sem := make(chan struct{}, 4)
	for k := range n {
		wg.Go(func() {
			sem <- struct{}{}
			defer func() { <-sem }()
			e, err := establishOne(ctx, base, up, k, k < withCode, withCode)
			if err != nil {
				errs <- fmt.Errorf("establishing session %d: %w", k, err)
				return
			}
			out[k] = e
		})
	}
	wg.Wait()
	close(errs)
	if err := <-errs; err != nil {
		for _, e := range out {
			if e != nil {
				e.client.Close()
			}
		}
		return nil, err
	}
	return out, nil
}

func establishOne(ctx context.Context, base string, up *loadtest.Upstream, k int, keepCode bool, codes int) (*established, error) {
	c, err := loadtest.NewClient(ctx, loadtest.ClientConfig{URL: base, Upstream: up, LocalAddr: sessionAddr(k), Timeout: time.Minute})
	if err != nil {
		return nil, err
	}
	e := &established{client: c}
	if e.clientID, err = c.Register(ctx); err != nil {
		c.Close()
		return nil, err
	}
	code, verifier, err := c.Login(ctx, e.clientID)
	if err == nil {
		e.session, err = c.Exchange(ctx, e.clientID, code, verifier)
	}
	if err == nil && keepCode {
		code, verifier, err = c.Login(ctx, e.clientID)
		// Spread the redemptions over the first half of the attack.
		e.code = &pendingCode{code: code, verifier: verifier, issued: time.Now(), redeemAt: float64(k+1) / float64(2*codes+2)}
	}
	if err != nil {
		c.Close()
		return nil, err
	}
	return e, nil
}

// SessionReport is how the established sessions fared during the attack.
type SessionReport struct {
	Sessions      int
	Refreshes     int
	Calls         int
	CodesRedeemed int
	Failures      int
	FirstFailure  string
}

// keepAlive makes the established sessions refresh and call the protected
// endpoint in turn, workers at a time with pause between rounds, and redeem
// their pending codes as the attack progresses, until stop closes.
type keepAlive struct {
	sessions []*established
	workers  int
	pause    time.Duration
	progress func() float64 // the share of the attack sent so far
	codeTTL  time.Duration  // redeem well before the code expires

	refreshes, calls, redeemed, failures atomic.Int64
	firstFailure                         atomic.Pointer[string]
}

func (k *keepAlive) run(ctx context.Context, stop <-chan struct{}) {
	var wg sync.WaitGroup
	for w := range k.workers {
		wg.Go(func() {
			var mine []*established
			for i := w; i < len(k.sessions); i += k.workers {
				mine = append(mine, k.sessions[i])
			}
			for round := 0; ; round++ {
				for _, e := range mine {
					k.step(ctx, e)
				}
				select {
				case <-stop:
					k.redeemLeftovers(ctx, mine)
					return
				case <-ctx.Done():
					return
				case <-time.After(k.pause):
				}
			}
		})
	}
	wg.Wait()
}

// step refreshes e's session and calls the protected endpoint with it, and
// redeems e's code once its turn in the attack has come.
func (k *keepAlive) step(ctx context.Context, e *established) {
	if e.code != nil && (k.progress() >= e.code.redeemAt || time.Since(e.code.issued) > k.codeTTL/2) {
		k.redeem(ctx, e)
	}
	if e.session == nil {
		return
	}
	if err := e.client.Refresh(ctx, e.session); err != nil {
		k.fail(fmt.Errorf("refresh: %w", err))
		e.session = nil
		return
	}
	k.refreshes.Add(1)
	if err := e.client.Call(ctx, e.session); err != nil {
		k.fail(fmt.Errorf("protected call: %w", err))
		return
	}
	k.calls.Add(1)
}

func (k *keepAlive) redeem(ctx context.Context, e *established) {
	pc := e.code
	e.code = nil
	s, err := e.client.Exchange(ctx, e.clientID, pc.code, pc.verifier)
	if err != nil {
		k.fail(fmt.Errorf("redeeming an issued code: %w", err))
		return
	}
	k.redeemed.Add(1)
	if err := e.client.Call(ctx, s); err != nil {
		k.fail(fmt.Errorf("protected call with a redeemed code's token: %w", err))
		return
	}
	k.calls.Add(1)
}

// redeemLeftovers redeems the codes whose turn never came (a short attack).
func (k *keepAlive) redeemLeftovers(ctx context.Context, mine []*established) {
	for _, e := range mine {
		if e.code != nil {
			k.redeem(ctx, e)
		}
	}
}

func (k *keepAlive) fail(err error) {
	k.failures.Add(1)
	s := err.Error()
	k.firstFailure.CompareAndSwap(nil, &s)
}

func (k *keepAlive) report() SessionReport {
	r := SessionReport{Sessions: len(k.sessions), Refreshes: int(k.refreshes.Load()), Calls: int(k.calls.Load()),
		CodesRedeemed: int(k.redeemed.Load()), Failures: int(k.failures.Load())}
	if p := k.firstFailure.Load(); p != nil {
		r.FirstFailure = *p
	}
	return r
}
