package loadtest

import (
	"fmt"
	"io"
	"slices"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// recorder collects the latency of every request of a phase, per endpoint.
// Each worker records into its own shard, so recording takes no shared lock.
type recorder struct {
	mu       sync.Mutex
	shards   []*shard
	requests atomic.Int64 // completed requests, for the progress line
	errors   atomic.Int64
	samples  sync.Map // endpoint → first error text, a few for the report
}

type shard struct {
	lat  map[string][]time.Duration
	errs map[string]int
}

func (r *recorder) shard() *shard {
	s := &shard{lat: map[string][]time.Duration{}, errs: map[string]int{}}
	r.mu.Lock()
	r.shards = append(r.shards, s)
	r.mu.Unlock()
	return s
}

func (s *shard) ok(r *recorder, endpoint string, d time.Duration) {
	s.lat[endpoint] = append(s.lat[endpoint], d)
	r.requests.Add(1)
}

func (s *shard) fail(r *recorder, endpoint string, err error) {
	s.errs[endpoint]++
	r.requests.Add(1)
	r.errors.Add(1)
	r.samples.LoadOrStore(endpoint, err.Error())
}

// EndpointStats summarises one endpoint's requests in a phase.
type EndpointStats struct {
	Endpoint           string
	Requests, Errors   int
	P50, P90, P99, Max time.Duration
	FirstError         string
}

func (r *recorder) endpoints() []EndpointStats {
	lat := map[string][]time.Duration{}
	errs := map[string]int{}
	for _, s := range r.shards {
		for e, d := range s.lat {
			lat[e] = append(lat[e], d...)
		}
		for e, n := range s.errs {
			errs[e] += n
		}
	}
	names := map[string]bool{}
	for e := range lat {
		names[e] = true
	}
	for e := range errs {
		names[e] = true
	}
	var out []EndpointStats
	for e := range names {
		d := lat[e]
		slices.Sort(d)
		st := EndpointStats{Endpoint: e, Requests: len(d) + errs[e], Errors: errs[e]}
		if len(d) > 0 {
			st.P50, st.P90, st.P99, st.Max = quantile(d, 0.50), quantile(d, 0.90), quantile(d, 0.99), d[len(d)-1]
		}
		if v, ok := r.samples.Load(e); ok {
			st.FirstError = v.(string)
		}
		out = append(out, st)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Endpoint < out[j].Endpoint })
	return out
}

// quantile of sorted durations, nearest rank.
func quantile(sorted []time.Duration, q float64) time.Duration {
	i := int(q*float64(len(sorted))+0.5) - 1
	return sorted[max(0, min(i, len(sorted)-1))]
}

// PhaseReport is one phase of a run.
type PhaseReport struct {
	Name      string
	Unit      string // what Units counts ("flows", "codes"), if anything
	Units     int
	Duration  time.Duration
	Requests  int
	Errors    int
	Endpoints []EndpointStats
	// Mallocs and CPU are the whole process's during the phase: with the
	// proxy in process, client and server together.
	Mallocs uint64
	CPU     time.Duration
	// Server is the proxy process's own usage during the phase, when the
	// run has a floor (Config.Floor) to read it from.
	Server *Usage
}

// RequestsPerSecond is the phase's completed requests over its duration.
func (p PhaseReport) RequestsPerSecond() float64 { return float64(p.Requests) / p.Duration.Seconds() }

// Report is a whole run.
type Report struct {
	Target      string
	Concurrency int
	GOMAXPROCS  int
	Phases      []PhaseReport
	PeakRSS     int64
	Elapsed     time.Duration
	// Floor compares the flows with their floor, when the run measured one.
	Floor *FloorResult
}

// Errors is the number of failed requests in all phases.
func (r *Report) Errors() int {
	n := 0
	for _, p := range r.Phases {
		n += p.Errors
	}
	return n
}

// Print writes the report as plain-text tables.
func (r *Report) Print(w io.Writer) {
	where := "target " + r.Target
	if len(r.Phases) > 0 && r.Phases[0].Server != nil {
		where = "proxy in its own process at " + r.Target + " (instant upstream over loopback HTTP; that process's CPU is read apart from the load generator's)"
	}
	fmt.Fprintf(w, "\noauthproxy-load: %s, concurrency %d, GOMAXPROCS %d\n", where, r.Concurrency, r.GOMAXPROCS)
	for _, p := range r.Phases {
		fmt.Fprintf(w, "\n== %s: %d requests in %s, %.0f req/s", p.Name, p.Requests, p.Duration.Round(time.Millisecond), p.RequestsPerSecond())
		if p.Unit != "" {
			fmt.Fprintf(w, ", %d %s (%.0f %s/s)", p.Units, p.Unit, float64(p.Units)/p.Duration.Seconds(), p.Unit)
		}
		fmt.Fprintf(w, ", errors %d\n", p.Errors)
		if p.Requests > 0 {
			side := "process"
			if p.Server != nil {
				side = "load generator"
			}
			fmt.Fprintf(w, "   %s: %.1f µs CPU and %.0f allocations per request\n", side,
				float64(p.CPU.Microseconds())/float64(p.Requests), float64(p.Mallocs)/float64(p.Requests))
		}
		if p.Server != nil && p.Requests > 0 {
			fmt.Fprintf(w, "   proxy's process: %.1f µs CPU and %.0f allocations per request",
				float64(p.Server.CPU.Microseconds())/float64(p.Requests), float64(p.Server.Mallocs)/float64(p.Requests))
			if p.Unit != "" && p.Units > 0 {
				fmt.Fprintf(w, ", %.0f µs and %.0f allocations per %s", float64(p.Server.CPU.Microseconds())/float64(p.Units),
					float64(p.Server.Mallocs)/float64(p.Units), strings.TrimSuffix(p.Unit, "s"))
			}
			fmt.Fprintln(w)
		}
		fmt.Fprintf(w, "   %-30s %8s %7s %9s %9s %9s %9s\n", "endpoint", "requests", "errors", "p50", "p90", "p99", "max")
		for _, e := range p.Endpoints {
			fmt.Fprintf(w, "   %-30s %8d %7d %9s %9s %9s %9s\n", e.Endpoint, e.Requests, e.Errors,
				ms(e.P50), ms(e.P90), ms(e.P99), ms(e.Max))
			if e.FirstError != "" {
				fmt.Fprintf(w, "   %-30s first error: %s\n", "", oneLine(e.FirstError))
			}
		}
	}
	if f := r.Floor; f != nil {
		fmt.Fprintf(w, "\nproxy CPU per flow: %.0f µs (%.0f allocations, %.0f KiB, %.0f syscalls) against a floor of %.0f µs (%.0f allocations, %.0f KiB, %.0f syscalls) for the same %d round trips and %d upstream call(s) to bare net/http handlers: %.2f× the floor\n",
			f.Proxy, f.ProxyAllocs, f.ProxyBytes/1024, f.ProxySyscalls, f.Floor, f.FloorAllocs, f.FloorBytes/1024, f.FloorSyscalls, f.Steps, f.UpstreamCalls, f.Ratio())
	}
	fmt.Fprintf(w, "\npeak RSS %.1f MiB, total %s, errors %d\n", float64(r.PeakRSS)/(1<<20), r.Elapsed.Round(time.Millisecond), r.Errors())
}

func ms(d time.Duration) string { return fmt.Sprintf("%.3fms", float64(d)/float64(time.Millisecond)) }

func oneLine(s string) string {
	s = strings.Join(strings.Fields(s), " ")
	if len(s) > 200 {
		s = s[:200] + "…"
	}
	return s
}
