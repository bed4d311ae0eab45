package abuse

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/oauthproxy-go/oauthproxy/internal/loadtest"
)

// attacker is the hostile client: its own registered client (for valid
// authorization requests) and connections from 127.0.0.1.
type attacker struct {
	clientID  string
	transport *http.Transport
	http      *http.Client
}

func newAttacker(ctx context.Context, base string, up *loadtest.Upstream, concurrency int) (*attacker, error) {
	reg, err := loadtest.NewClient(ctx, loadtest.ClientConfig{URL: base, Upstream: up, LocalAddr: "127.0.0.1"})
	if err != nil {
		return nil, err
	}
	defer reg.Close()
	id, err := reg.Register(ctx)
	if err != nil {
		return nil, fmt.Errorf("registering the attacker's client: %w", err)
	}
	dialer := &net.Dialer{Timeout: 5 * time.Second, LocalAddr: &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1)}}
	t := &http.Transport{
		Proxy:               nil, // loopback only
		DialContext:         dialer.DialContext,
		MaxIdleConnsPerHost: concurrency,
		IdleConnTimeout:     30 * time.Second,
		DisableCompression:  true,
	}
	return &attacker{clientID: id, transport: t, http: &http.Client{
		Transport: t, Timeout: time.Minute,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}}, nil
}

func (a *attacker) close() { a.transport.CloseIdleConnections() }

// run sends cfg.Requests hostile requests, kind i%len(stats) for the i-th,
// on cfg.Concurrency workers, until done, MaxTime or MaxGrowth. It returns
// why it stopped early, or "".
func (a *attacker) run(ctx context.Context, at *attack, stats []*kindStats, cfg Config, sent *atomic.Int64, rssBefore int64) string {
	ctx, cancel := context.WithTimeout(ctx, cfg.MaxTime)
	defer cancel()
	at.ctx = ctx
	var stopped atomic.Pointer[string]
	stopWith := func(why string) {
		if stopped.CompareAndSwap(nil, &why) {
			cancel()
		}
	}
	watchDone := make(chan struct{})
	var watch sync.WaitGroup
	watch.Go(func() { a.watch(cfg, sent, rssBefore, stats, watchDone, stopWith) })

	var next atomic.Int64
	var wg sync.WaitGroup
	pace := newPacer(cfg.Rate)
	for range cfg.Concurrency {
		wg.Go(func() {
			for ctx.Err() == nil {
				i := int(next.Add(1)) - 1
				if i >= cfg.Requests || !pace.wait(ctx, i) {
					return
				}
				s := stats[i%len(stats)]
				a.send(at, s, i/len(stats), i)
				sent.Add(1)
			}
		})
	}
	wg.Wait()
	close(watchDone)
	watch.Wait()
	if p := stopped.Load(); p != nil {
		return *p
	}
	if err := ctx.Err(); err != nil {
		return fmt.Sprintf("stopped after %s (MaxTime or interrupted)", cfg.MaxTime)
	}
	return ""
}

// send makes the n-th request of s's kind (the i-th of the run) and records
// its answer.
func (a *attacker) send(at *attack, s *kindStats, n, i int) {
	req, err := s.kind.build(at, n)
	if err != nil {
		s.recordError(err)
		return
	}
	spoofForwarding(req, i)
	s.sent.Add(1)
	resp, err := a.http.Do(req)
	if err != nil {
		if at.ctx.Err() == nil { // not the run stopping
			s.recordError(err)
		} else {
			s.sent.Add(-1)
		}
		return
	}
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	_, _ = io.Copy(io.Discard, resp.Body) // drain, so the connection is reused
	resp.Body.Close()
	if loc := resp.Header.Get("Location"); loc != "" && resp.StatusCode == http.StatusFound {
		at.noteTxn(loc)
	}
	s.record(resp.StatusCode, body)
}

// watch stops the attack when the resident set has grown past MaxGrowth,
// and prints a progress line every second.
func (a *attacker) watch(cfg Config, sent *atomic.Int64, rssBefore int64, stats []*kindStats, done <-chan struct{}, stopWith func(string)) {
	tick := time.NewTicker(250 * time.Millisecond)
	defer tick.Stop()
	start := time.Now()
	shown := false
	for n := 1; ; n++ {
		select {
		case <-done:
			if shown {
				fmt.Fprintln(cfg.Progress)
			}
			return
		case <-tick.C:
		}
		rss := currentRSS()
		if rss > 0 && rss-rssBefore > cfg.MaxGrowth {
			stopWith(fmt.Sprintf("stopped after %d requests: the resident set grew by %s, past the %s limit (MaxGrowth)",
				sent.Load(), mib(rss-rssBefore), mib(cfg.MaxGrowth)))
		}
		if cfg.Progress != nil && n%4 == 0 {
			var odd int64
			for _, s := range stats {
				odd += s.unexpected.Load()
			}
			el := time.Since(start)
			fmt.Fprintf(cfg.Progress, "\rattack %8d/%d requests %6.0f req/s  RSS %s  unexpected %d  %5.0fs ",
				sent.Load(), cfg.Requests, float64(sent.Load())/el.Seconds(), mib(rss), odd, el.Seconds())
			shown = true
		}
	}
}

// pacer spaces the attack's requests evenly at a rate: request i is sent no
// sooner than i intervals after the start.
type pacer struct {
	start    time.Time
	interval time.Duration
}

// newPacer returns nil, which never waits, for rate <= 0.
func newPacer(rate float64) *pacer {
	if rate <= 0 {
		return nil
	}
	return &pacer{start: time.Now(), interval: time.Duration(float64(time.Second) / rate)}
}

// wait sleeps until request i's turn; false if ctx ended first.
func (p *pacer) wait(ctx context.Context, i int) bool {
	if p == nil {
		return true
	}
	d := time.Until(p.start.Add(time.Duration(i) * p.interval))
	if d <= 0 {
		return true
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	}
}
