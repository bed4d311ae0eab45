// Command oauthproxy is the standalone gateway: "Sign in with GitHub,
// Google, Entra or any OpenID provider" in front of an MCP server written in
// any language. See README.md beside this file.
//
//	oauthproxy [run] [-config FILE]   serve (default FILE: $OAUTHPROXY_CONFIG or oauthproxy.yaml)
//	oauthproxy check-config FILE      report every problem of a configuration
//	oauthproxy keys                   print fresh keys as environment lines
//	oauthproxy --version
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, os.Interrupt)
	defer stop()
	code := run(ctx, os.Args[1:], os.Stdout, os.Stderr, os.LookupEnv)
	stop()
	os.Exit(code)
}
