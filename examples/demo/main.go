// Command demo runs, in one process, everything needed to try oauthproxy with
// a real MCP client:
//
//   - a stand-in upstream identity provider (oauthproxytest) whose login page
//     signs in "Test User" with one click, or GitHub when GITHUB_CLIENT_ID and
//     GITHUB_CLIENT_SECRET are set;
//   - the proxy, the OAuth 2.1 authorization server MCP clients talk to;
//   - an MCP server (official go-sdk) at /mcp, behind the proxy, with a
//     "whoami" tool that returns the caller's token claims.
//
// Run it with
//
//	go run ./examples/demo [-addr 127.0.0.1:8080] [-rate-limit]
//
// and point an MCP client at the printed URL. Ctrl-C stops it. -rate-limit
// turns on the proxy's per-address rate limits (Config.RateLimits) with the
// example limits in demoRateLimits.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	addr := flag.String("addr", "127.0.0.1:8080",
		"loopback `address` to listen on; if the port is busy a random free port is used")
	rateLimit := flag.Bool("rate-limit", false,
		"limit requests per client address and endpoint, with example limits the banner shows")
	flag.Parse()

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, options{addr: *addr, rateLimit: *rateLimit}, os.Stdout, nil); err != nil {
		fmt.Fprintln(os.Stderr, "demo:", err)
		os.Exit(1)
	}
}
