package oauthproxy_test

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"

	"github.com/oauthproxy-go/oauthproxy"
	"github.com/oauthproxy-go/oauthproxy/oauthproxytest"
	"github.com/oauthproxy-go/oauthproxy/ratelimit"
)

// ExampleRateLimits turns rate limiting on, as docs/limits.md
// shows: the eleventh registration from one address within a
// minute is refused with 429 and Retry-After.
func ExampleRateLimits() {
	idp := oauthproxytest.NewServer(oauthproxytest.Options{ClientID: "proxy", ClientSecret: "s3cret"})
	defer idp.Close()
	srv := httptest.NewUnstartedServer(nil)
	srv.Start()
	defer srv.Close()

	cfg := oauthproxy.Config{
		BaseURL:                       srv.URL,
		UpstreamAuthorizationEndpoint: idp.AuthorizationEndpoint(),
		UpstreamTokenEndpoint:         idp.TokenEndpoint(),
		UpstreamClientID:              "proxy",
		UpstreamClientSecret:          "s3cret",
		JWTSigningKey:                 []byte(strings.Repeat("j", 32)),
		EncryptionKey:                 []byte(strings.Repeat("e", 32)),
		ConsentSigningKey:             []byte(strings.Repeat("c", 32)),
	}
	cfg.RateLimits = oauthproxy.RateLimits{
		Register:  ratelimit.PerMinute(10),
		Authorize: ratelimit.PerMinute(30),
		Consent:   ratelimit.PerMinute(30), // the consent page, its POST and the callback
		Token:     ratelimit.PerMinute(60),
		Revoke:    ratelimit.PerMinute(30),
	}
	cfg.TrustedProxies = []string{"10.0.0.0/8"} // only these peers' X-Forwarded-For is believed
	// With replicas, share the counts: cfg.RateLimiter = redislimit.New(redisClient)
	// (import redislimit "github.com/oauthproxy-go/oauthproxy/ratelimit/redis").
	p, err := oauthproxy.New(cfg)
	if err != nil {
		panic(err)
	}
	defer p.Destroy()
	srv.Config.Handler = p.Handler()

	for i := 1; i <= 11; i++ {
		resp, err := http.Post(srv.URL+"/oauth/register", "application/json",
			strings.NewReader(`{"redirect_uris":["http://127.0.0.1/cb"],"token_endpoint_auth_method":"none"}`))
		if err != nil {
			panic(err)
		}
		resp.Body.Close()
		if i >= 10 {
			fmt.Printf("registration %d: %d, Retry-After %q\n", i, resp.StatusCode, resp.Header.Get("Retry-After"))
		}
	}
	// Output:
	// registration 10: 201, Retry-After ""
	// registration 11: 429, Retry-After "6"
}
