package main

import (
	"context"
	"fmt"
	"log"
	"strings"

	"github.com/oauthproxy-go/oauthproxy"
	"github.com/prometheus/client_golang/prometheus"
)

// Example_onEvent is the core of NewMetrics and OnEvent, as
// docs/operations.md shows it: every audit event increments
// oauthproxy_events_total{type,reason}.
func Example_onEvent() {
	reg := prometheus.NewRegistry()
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

	events := prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "oauthproxy_events_total",
		Help: "Security-relevant actions of the OAuth proxy, by type and reason.",
	}, []string{"type", "reason"})
	reg.MustRegister(events)
	cfg.OnEvent = func(e oauthproxy.Event) { events.WithLabelValues(string(e.Type), e.Reason).Inc() }

	p, err := oauthproxy.New(cfg)
	if err != nil {
		log.Fatal(err)
	}
	defer p.Destroy()
	for range 2 {
		if _, err := p.RegisterClient(context.Background(), &oauthproxy.ClientMetadata{
			RedirectURIs:            []string{"http://127.0.0.1/callback"},
			TokenEndpointAuthMethod: "none",
		}); err != nil {
			log.Fatal(err)
		}
	}
	families, err := reg.Gather()
	if err != nil {
		log.Fatal(err)
	}
	for _, family := range families {
		for _, m := range family.GetMetric() {
			fmt.Print(family.GetName())
			for _, l := range m.GetLabel() {
				fmt.Printf(" %s=%q", l.GetName(), l.GetValue())
			}
			fmt.Println(":", m.GetCounter().GetValue())
		}
	}
	// Output:
	// oauthproxy_events_total reason="none" type="client.registered": 2
}
