// Command split runs the proxy and an MCP server as two services that share
// nothing but URLs:
//
//   - the proxy (with the oauthproxytest stand-in identity provider) signs
//     access tokens with an ES256 key and publishes the public key at
//     /.well-known/jwks.json;
//   - the MCP server (official go-sdk), on another port, verifies them with
//     package tokenverify: it discovers the JWKS from the proxy's metadata,
//     and with -introspect also asks the proxy's introspection endpoint, so a
//     revoked session is refused within seconds instead of at token expiry.
//
// Run it with
//
//	go run ./examples/split [-introspect]
//
// and point an MCP client at the printed MCP URL. Ctrl-C stops it.
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
	var opts options
	flag.StringVar(&opts.proxyAddr, "proxy-addr", "127.0.0.1:8080", "loopback `address` of the proxy")
	flag.StringVar(&opts.mcpAddr, "mcp-addr", "127.0.0.1:8081", "loopback `address` of the MCP server")
	flag.BoolVar(&opts.introspect, "introspect", false, "the MCP server also asks the proxy's introspection endpoint (revocation seen at once)")
	flag.Parse()

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, opts, os.Stdout, nil); err != nil {
		fmt.Fprintln(os.Stderr, "split:", err)
		os.Exit(1)
	}
}
