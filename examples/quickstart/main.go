// Command quickstart is the README's quick start: "Sign in with GitHub" in
// front of an HTTP endpoint at /mcp. Set GITHUB_CLIENT_ID and
// GITHUB_CLIENT_SECRET (an OAuth app whose callback URL is
// http://127.0.0.1:8080/oauth/callback) and run it.
package main

import (
	"fmt"
	"log"
	"net/http"
	"os"

	"github.com/oauthproxy-go/oauthproxy"
	"github.com/oauthproxy-go/oauthproxy/providers"
)

func main() {
	cfg, err := providers.GitHub(oauthproxy.Config{
		BaseURL:              "http://127.0.0.1:8080", // your public https URL in production
		UpstreamClientID:     os.Getenv("GITHUB_CLIENT_ID"),
		UpstreamClientSecret: os.Getenv("GITHUB_CLIENT_SECRET"),
	})
	if err != nil {
		log.Fatal(err)
	}
	p, err := oauthproxy.New(cfg) // keys generated: fine until the first restart
	if err != nil {
		log.Fatal(err)
	}
	defer p.Destroy()
	log.Fatal(http.ListenAndServe("127.0.0.1:8080", newMux(p)))
}

// newMux serves the proxy's endpoints and, behind them, the MCP endpoint.
func newMux(p *oauthproxy.Proxy) *http.ServeMux {
	mux := http.NewServeMux()
	mux.Handle("/", p.Handler())                  // /.well-known/…, /oauth/register, /oauth/authorize, /oauth/token, …
	mux.Handle("/mcp", p.RequireBearer(whoami{})) // only the proxy's own tokens get through
	return mux
}

// whoami stands for your MCP server (go-sdk, mcp-go or plain net/http).
type whoami struct{}

func (whoami) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	c, _ := oauthproxy.ClaimsFromContext(r.Context()) // who called, with which scopes
	fmt.Fprintf(w, "hello %s (client %s)\n", c.Subject, c.ClientID)
}
