package abuse

import (
	"fmt"
	"io"
	"slices"
	"time"
)

// Issue 11's figures.
const (
	// FigureRSSGrowth is the most the resident set may grow for
	// FigureRequests hostile requests with the default Config.
	FigureRSSGrowth = 64 << 20
	FigureRequests  = 100_000
	// FigureLegitSuccess is the least share of legitimate flows that must
	// complete under attack with rate limiting on, and FigureP99Factor how
	// much slower than quiet their p99 may be (strictly less).
	FigureLegitSuccess = 0.99
	FigureP99Factor    = 2.0
)

// counterBytesPerKey is about what recordCounter keeps per key (map slot,
// hash, namespace, size, deadline): its share of the heap after.
const counterBytesPerKey = 50

// Report is a whole run.
type Report struct {
	Config     Config
	Target     string
	GOMAXPROCS int

	Quiet       FlowReport // legitimate flows before the attack
	UnderAttack FlowReport // and during it

	Sent       int
	AttackTime time.Duration
	Stopped    string // why the attack stopped early, if it did
	Kinds      []KindReport
	Sessions   SessionReport

	Before, After               Memory
	PeakRSS                     int64 // VmHWM from the attack's start
	RecordsBefore, RecordsAfter []NamespaceCount
	CounterKeys                 int // keys recordCounter tracks after
}

// Unexpected is the number of hostile requests answered with a status their
// kind may not get, or not answered at all.
func (r *Report) Unexpected() int {
	n := 0
	for _, k := range r.Kinds {
		n += k.Unexpected
	}
	return n
}

// HeapGrowth is the growth of the heap in use over the attack, after GC.
func (r *Report) HeapGrowth() int64 { return int64(r.After.HeapInuse) - int64(r.Before.HeapInuse) }

// RSSGrowth is the growth of the resident set over the attack, after GC.
func (r *Report) RSSGrowth() int64 { return r.After.RSS - r.Before.RSS }

// MemoryLimit is the RSS figure for this run: Config.MemoryFigure, or issue
// 11's 64 MiB for 100,000 requests, scaled up for a longer run, never down
// (a short run has the same fixed costs).
func (r *Report) MemoryLimit() int64 {
	if r.Config.MemoryFigure > 0 {
		return r.Config.MemoryFigure
	}
	return int64(float64(FigureRSSGrowth) * max(1, float64(r.Config.Requests)/FigureRequests))
}

// Figure is one of issue 11's figures, measured.
type Figure struct {
	Name     string
	Measured string
	Met      bool
	Applies  bool // false: not measured in this mode (shown, not judged)
}

// Figures judges the run against issue 11's figures.
func (r *Report) Figures() []Figure {
	mem := Figure{Name: "memory", Applies: true,
		Measured: fmt.Sprintf("RSS %s for %d hostile requests, at most %s", signedMiB(r.RSSGrowth()), r.Sent, mib(r.MemoryLimit())),
		Met:      r.Stopped == "" && r.RSSGrowth() <= r.MemoryLimit()}
	if r.Stopped != "" {
		mem.Measured += " (stopped early)"
	}
	sess := Figure{Name: "sessions", Applies: true,
		Measured: fmt.Sprintf("%d failures of established sessions, 0 allowed", r.Sessions.Failures),
		Met:      r.Sessions.Failures == 0}
	odd := Figure{Name: "statuses", Applies: true,
		Measured: fmt.Sprintf("%d unexpected answers to hostile requests, 0 allowed", r.Unexpected()),
		Met:      r.Unexpected() == 0}
	factor := r.P99Factor()
	legit := Figure{Name: "legitimate", Applies: r.Config.RateLimits,
		Measured: fmt.Sprintf("%.1f%% of flows completed (at least %.0f%%), p99 %.2f× quiet (under %.0f×)",
			100*r.UnderAttack.SuccessRate(), 100*FigureLegitSuccess, factor, FigureP99Factor),
		Met: r.UnderAttack.SuccessRate() >= FigureLegitSuccess && factor < FigureP99Factor}
	return []Figure{mem, sess, odd, legit}
}

// P99Factor is the legitimate flows' p99 under attack over their quiet p99.
func (r *Report) P99Factor() float64 {
	if r.Quiet.P99 <= 0 {
		return 0
	}
	return float64(r.UnderAttack.P99) / float64(r.Quiet.P99)
}

// OK reports whether every figure that applies was met.
func (r *Report) OK() bool {
	for _, f := range r.Figures() {
		if f.Applies && !f.Met {
			return false
		}
	}
	return true
}

// Print writes the report, one line per item, in a fixed order.
func (r *Report) Print(w io.Writer) {
	c := r.Config
	rl := "off"
	if c.RateLimits {
		rl = "on"
	}
	fmt.Fprintf(w, "abuse: proxy in process at %s (default Config, memory store, CIMD on, instant upstream), GOMAXPROCS %d, rate limiting %s\n",
		r.Target, r.GOMAXPROCS, rl)
	capped := ""
	if c.Rate > 0 {
		capped = fmt.Sprintf(" (capped at %.0f)", c.Rate)
	}
	fmt.Fprintf(w, "attack: %d of %d hostile requests from 127.0.0.1 at concurrency %d in %s (%.0f req/s%s), %d kinds, CIMD documents %s\n",
		r.Sent, c.Requests, c.Concurrency, r.AttackTime.Round(time.Millisecond), float64(r.Sent)/r.AttackTime.Seconds(), capped, len(r.Kinds), c.CIMD)
	if r.Stopped != "" {
		fmt.Fprintf(w, "attack %s\n", r.Stopped)
	}
	fmt.Fprintf(w, "heap in use (after GC): before %s, after %s (%s)\n", mib(int64(r.Before.HeapInuse)), mib(int64(r.After.HeapInuse)), signedMiB(r.HeapGrowth()))
	fmt.Fprintf(w, "heap live (after GC): before %s, after %s (%s)\n", mib(int64(r.Before.HeapAlloc)), mib(int64(r.After.HeapAlloc)),
		signedMiB(int64(r.After.HeapAlloc)-int64(r.Before.HeapAlloc)))
	fmt.Fprintf(w, "RSS (after GC): before %s, after %s (%s), peak during the attack %s\n", mib(r.Before.RSS), mib(r.After.RSS), signedMiB(r.RSSGrowth()), mib(r.PeakRSS))
	for _, line := range recordLines(r.RecordsBefore, r.RecordsAfter) {
		fmt.Fprintln(w, line)
	}
	fmt.Fprintf(w, "record counter: %d keys tracked, about %s of the heap after\n", r.CounterKeys, mib(int64(r.CounterKeys*counterBytesPerKey)))
	for _, k := range r.Kinds {
		fmt.Fprintf(w, "statuses %-18s %s\n", k.Kind+":", k)
		if k.FirstOdd != "" {
			fmt.Fprintf(w, "unexpected %-16s %d, first: %s\n", k.Kind+":", k.Unexpected, k.FirstOdd)
		}
	}
	s := r.Sessions
	fmt.Fprintf(w, "established sessions: %d signed in, %d refreshes, %d protected calls, %d issued codes redeemed, %d failures\n",
		s.Sessions, s.Refreshes, s.Calls, s.CodesRedeemed, s.Failures)
	if s.FirstFailure != "" {
		fmt.Fprintf(w, "established sessions first failure: %s\n", s.FirstFailure)
	}
	printFlows(w, "quiet", r.Quiet, "")
	printFlows(w, "under attack", r.UnderAttack, fmt.Sprintf(", p99 %.2f× quiet", r.P99Factor()))
	for _, f := range r.Figures() {
		verdict := "ok"
		switch {
		case !f.Applies:
			verdict = "not judged (rate limiting off)"
		case !f.Met:
			verdict = "MISSED"
		}
		fmt.Fprintf(w, "figure %-10s %s: %s\n", f.Name+":", f.Measured, verdict)
	}
}

func printFlows(w io.Writer, when string, f FlowReport, extra string) {
	fmt.Fprintf(w, "legitimate flows %s (%s): %d/%d ok (%.1f%%), p50 %s, p99 %s%s\n",
		when, LegitAddr, f.OK, f.Flows, 100*f.SuccessRate(), ms(f.P50), ms(f.P99), extra)
	if f.FirstFailure != "" {
		fmt.Fprintf(w, "legitimate flows %s first failure: %s\n", when, f.FirstFailure)
	}
}

// recordLines is one line per namespace: live records before and after the
// attack, and what the after ones take in the store.
func recordLines(before, after []NamespaceCount) []string {
	find := func(list []NamespaceCount, ns string) NamespaceCount {
		for _, n := range list {
			if n.Namespace == ns {
				return n
			}
		}
		return NamespaceCount{Namespace: ns, StoreCount: -1}
	}
	var names []string
	for _, n := range append(slices.Clone(before), after...) {
		if !slices.Contains(names, n.Namespace) {
			names = append(names, n.Namespace)
		}
	}
	slices.Sort(names)
	lines := make([]string, 0, len(names))
	for _, ns := range names {
		b, a := find(before, ns), find(after, ns)
		store := ""
		if a.StoreCount >= 0 {
			store = fmt.Sprintf(" (the store counts %d)", a.StoreCount)
		}
		lines = append(lines, fmt.Sprintf("records %-10s %d before, %d after (%+d)%s, %s stored after",
			ns+":", b.Records, a.Records, a.Records-b.Records, store, mib(a.Bytes)))
	}
	return lines
}

func mib(b int64) string { return fmt.Sprintf("%.1f MiB", float64(b)/(1<<20)) }

func signedMiB(b int64) string { return fmt.Sprintf("%+.1f MiB", float64(b)/(1<<20)) }

func ms(d time.Duration) string { return fmt.Sprintf("%.1fms", float64(d)/float64(time.Millisecond)) }
