// Command oauthproxy-abuse is issue 11's hostile-load run (make abuse): a
// proxy in process with its default Config and the memory store, users
// signed in beforehand who keep refreshing, calling a protected endpoint and
// redeeming issued codes, and from 127.0.0.1 hostile requests at the largest
// size every anonymous endpoint lets through (-n of them, -c at a time). A
// legitimate user signs in from 127.0.0.2 before and during the attack.
//
// It prints heap and RSS before and after, live records in storage by
// namespace, the statuses each kind of request got, how the established
// sessions and the legitimate flows fared, and issue 11's figures; it exits
// 1 when a figure is missed.
//
// Issue 11's two repros on their own:
//
//	oauthproxy-abuse -kinds authorize-state -n 300 -figure-mib 16
//	oauthproxy-abuse -kinds register-max -n 3000 -c 8 -figure-mib 16
//
// Everything stays on loopback: the upstream answers in process and the CIMD
// document server listens on 127.0.0.1.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"strings"
	"syscall"

	"github.com/oauthproxy-go/oauthproxy/internal/abuse"
)

func main() {
	var cfg abuse.Config
	var kinds string
	var quiet bool
	var maxGrowthMiB, figureMiB int64
	flag.IntVar(&cfg.Requests, "n", 100_000, "hostile requests to send")
	flag.IntVar(&cfg.Concurrency, "c", 16, "concurrent hostile workers")
	flag.Float64Var(&cfg.Rate, "rate", 0, "cap the attack at this many requests a second (default: as fast as -c workers can)")
	flag.StringVar(&kinds, "kinds", "", "comma-separated kinds of hostile request to send (default all: "+kindNames()+")")
	flag.IntVar(&cfg.Sessions, "sessions", 32, "users signed in before the attack, each from its own loopback address")
	flag.IntVar(&cfg.PendingCodes, "codes", 16, "established users that also hold an issued code, redeemed during the attack")
	flag.IntVar(&cfg.SessionWorkers, "session-workers", 4, "workers keeping the established sessions busy")
	flag.DurationVar(&cfg.SessionPause, "session-pause", 0, "pause between a session worker's rounds (default 1s)")
	flag.IntVar(&cfg.QuietFlows, "quiet-flows", 60, "legitimate flows measured before the attack")
	flag.DurationVar(&cfg.LegitInterval, "legit-interval", 0, "time from one legitimate flow to the next (default 250ms)")
	flag.BoolVar(&cfg.RateLimits, "ratelimit", false, "turn rate limiting on")
	flag.IntVar(&cfg.MaxClients, "max-clients", 0, "the proxy's MaxClients (default its own)")
	flag.IntVar(&cfg.MaxPendingAuthorizations, "max-pending", 0, "the proxy's MaxPendingAuthorizations (default its own)")
	flag.IntVar(&cfg.MaxHeaderBytes, "max-header-bytes", 0, "the proxy's http.Server MaxHeaderBytes (default net/http's 1 MiB)")
	flag.StringVar(&cfg.CIMD, "cimd", abuse.CIMDNotFound, "CIMD document server: "+abuse.CIMDNotFound+" (TLS, answers 404), "+abuse.CIMDSlow+" (TLS, 404 after -cimd-delay) or "+abuse.CIMDRefused)
	flag.DurationVar(&cfg.CIMDDelay, "cimd-delay", 0, "how long the slow CIMD server waits (default 2s)")
	flag.Int64Var(&maxGrowthMiB, "max-growth", 1024, "stop the attack when RSS has grown by this many MiB")
	flag.Int64Var(&figureMiB, "figure-mib", 0, "the most RSS may grow, in MiB, for the memory figure (default 64 per 100,000 requests; 16 for issue 11's repros)")
	flag.DurationVar(&cfg.MaxTime, "max-time", 0, "stop the attack after this long (default 30m)")
	flag.BoolVar(&quiet, "quiet", false, "no progress line")
	flag.Parse()
	if kinds != "" {
		cfg.Kinds = strings.Split(kinds, ",")
	}
	cfg.MaxGrowth = maxGrowthMiB << 20
	cfg.MemoryFigure = figureMiB << 20
	cfg.Logs = os.Stderr
	if !quiet {
		cfg.Progress = os.Stderr
	}

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	rep, err := abuse.Run(ctx, cfg)
	if err != nil {
		fmt.Fprintln(os.Stderr, "oauthproxy-abuse:", err)
		os.Exit(2)
	}
	rep.Print(os.Stdout)
	if !rep.OK() {
		os.Exit(1)
	}
}

func kindNames() string {
	names := make([]string, len(abuse.Kinds))
	for i, k := range abuse.Kinds {
		names[i] = k.Name
	}
	return strings.Join(names, ",")
}
