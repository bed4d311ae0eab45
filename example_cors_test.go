package oauthproxy_test

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"

	"github.com/oauthproxy-go/oauthproxy"
)

// ExampleProxy_CORS narrows the web origins that may call the protected
// resource, as docs/browser-clients.md shows: the listed origin's
// preflight is answered without a token and its 401 is readable; another
// origin's preflight is refused before the MCP handler.
func ExampleProxy_CORS() {
	cfg := oauthproxy.Config{
		BaseURL:                       "https://mcp.example.com",
		UpstreamAuthorizationEndpoint: "https://idp.example.com/authorize",
		UpstreamTokenEndpoint:         "https://idp.example.com/token",
		UpstreamClientID:              "proxy",
		UpstreamClientSecret:          "s3cret",
		JWTSigningKey:                 []byte(strings.Repeat("j", 32)),
		EncryptionKey:                 []byte(strings.Repeat("e", 32)),
		ConsentSigningKey:             []byte(strings.Repeat("c", 32)),
	}
	cfg.ResourceAllowedOrigins = []string{"https://app.example.com"} // default: any origin
	p, err := oauthproxy.New(cfg)
	if err != nil {
		panic(err)
	}
	defer p.Destroy()
	mcpHandler := http.HandlerFunc(func(http.ResponseWriter, *http.Request) { panic("not reached") })
	mux := http.NewServeMux()
	mux.Handle("/", p.Handler())
	mux.Handle("/mcp", p.RequireBearer(mcpHandler)) // CORS included; p.CORS(h) wraps other stacks

	for _, origin := range []string{"https://app.example.com", "https://elsewhere.example"} {
		for _, method := range []string{http.MethodOptions, http.MethodPost} {
			r := httptest.NewRequest(method, "https://mcp.example.com/mcp", nil)
			r.Header.Set("Origin", origin)
			if method == http.MethodOptions {
				r.Header.Set("Access-Control-Request-Method", "POST")
			}
			w := httptest.NewRecorder()
			mux.ServeHTTP(w, r)
			fmt.Printf("%s %s: %d, Access-Control-Allow-Origin %q\n", origin, method, w.Code, w.Header().Get("Access-Control-Allow-Origin"))
		}
	}
	// Output:
	// https://app.example.com OPTIONS: 204, Access-Control-Allow-Origin "https://app.example.com"
	// https://app.example.com POST: 401, Access-Control-Allow-Origin "https://app.example.com"
	// https://elsewhere.example OPTIONS: 403, Access-Control-Allow-Origin ""
	// https://elsewhere.example POST: 401, Access-Control-Allow-Origin ""
}
