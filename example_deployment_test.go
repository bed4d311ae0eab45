package oauthproxy_test

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"log"
	"os"
	"path/filepath"
	"time"

	"github.com/oauthproxy-go/oauthproxy"
	"github.com/oauthproxy-go/oauthproxy/storage/bolt"
)

// The examples of docs/deployment.md. The doc's "Keys" block is mustKey
// and the start of deploymentConfig; every other block starts from that
// cfg, with the keys in the environment (deploymentEnvironment).

// mustKey decodes a base64 key from the environment; it must be 32 bytes.
func mustKey(name string) []byte {
	k, err := base64.StdEncoding.DecodeString(os.Getenv(name))
	if err != nil || len(k) != 32 {
		log.Fatalf("%s must be 32 random bytes, base64 (openssl rand -base64 32)", name)
	}
	return k
}

// deploymentConfig is the cfg docs/deployment.md starts from.
func deploymentConfig() oauthproxy.Config {
	cfg := oauthproxy.Config{
		BaseURL:                       "https://mcp.example.com",
		UpstreamAuthorizationEndpoint: "https://github.com/login/oauth/authorize",
		UpstreamTokenEndpoint:         "https://github.com/login/oauth/access_token",
		UpstreamClientID:              os.Getenv("GITHUB_CLIENT_ID"),
		UpstreamClientSecret:          os.Getenv("GITHUB_CLIENT_SECRET"),
		JWTSigningKey:                 mustKey("OAUTHPROXY_JWT_KEY"),
		EncryptionKey:                 mustKey("OAUTHPROXY_ENCRYPTION_KEY"),
		ConsentSigningKey:             mustKey("OAUTHPROXY_CONSENT_KEY"),
	}
	return cfg
}

// ExampleConfig_memory runs the proxy on its default store, as
// docs/deployment.md's "One process" shows: a restart forgets every
// registered client.
func ExampleConfig_memory() {
	defer setenv(deploymentEnvironment())()
	cfg := deploymentConfig()

	p, err := oauthproxy.New(cfg) // TokenStorage nil: encrypted in-memory store
	if err != nil {
		log.Fatal(err)
	}
	client := registerExampleClient(p)
	fmt.Println("before the restart:", authorizeOutcome(p, client))
	p.Destroy()

	p, err = oauthproxy.New(cfg) // the restart
	if err != nil {
		log.Fatal(err)
	}
	defer p.Destroy()
	fmt.Println("after the restart:", authorizeOutcome(p, client))
	// Output:
	// before the restart: client known
	// after the restart: invalid_client
}

// ExampleConfig_bolt keeps the proxy's state in one local file, as
// docs/deployment.md's "One durable node" shows: the file is private to
// its owner, and a second process cannot open it while this one runs.
func ExampleConfig_bolt() {
	defer setenv(deploymentEnvironment())()
	cfg := deploymentConfig()
	dir, err := os.MkdirTemp("", "oauthproxy-example")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)
	dbPath := filepath.Join(dir, "oauthproxy.db")

	store, err := bolt.Open(dbPath) // e.g. /var/lib/mcp-proxy/oauthproxy.db, created with mode 0600
	if err != nil {
		log.Fatal(err)
	}
	defer store.Close() // deferred first, so it runs after p.Destroy

	cfg.TokenStorage = store
	p, err := oauthproxy.New(cfg)
	if err != nil {
		log.Fatal(err)
	}
	defer p.Destroy()

	info, err := os.Stat(dbPath)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("file mode:", info.Mode())
	_, err = bolt.Open(dbPath, bolt.WithLockTimeout(50*time.Millisecond))
	fmt.Println("a second process gets bolt.ErrLocked:", errors.Is(err, bolt.ErrLocked))
	// Output:
	// file mode: -rw-------
	// a second process gets bolt.ErrLocked: true
}

// deploymentEnvironment is what docs/deployment.md has the process find in
// its environment: each key as `openssl rand -base64 32` prints one, and
// the GitHub app's client ID and secret.
func deploymentEnvironment() map[string]string {
	env := map[string]string{"GITHUB_CLIENT_ID": "Iv1.example", "GITHUB_CLIENT_SECRET": "example-secret"}
	for _, name := range []string{
		"OAUTHPROXY_JWT_KEY", "OAUTHPROXY_JWT_KEY_OLD",
		"OAUTHPROXY_ENCRYPTION_KEY", "OAUTHPROXY_ENCRYPTION_KEY_OLD",
		"OAUTHPROXY_CONSENT_KEY",
	} {
		env[name] = newKey()
	}
	return env
}

// newKey is what `openssl rand -base64 32` prints.
func newKey() string {
	key := make([]byte, 32)
	_, _ = rand.Read(key) // crypto/rand.Read never fails
	return base64.StdEncoding.EncodeToString(key)
}

// setenv sets env for an example, which has no t.Setenv, and returns what
// restores the environment.
func setenv(env map[string]string) (restore func()) {
	var undo []func()
	for name, value := range env {
		if old, ok := os.LookupEnv(name); ok {
			undo = append(undo, func() { _ = os.Setenv(name, old) })
		} else {
			undo = append(undo, func() { _ = os.Unsetenv(name) })
		}
		_ = os.Setenv(name, value)
	}
	return func() {
		for _, u := range undo {
			u()
		}
	}
}

// registerExampleClient registers a public client of the examples.
func registerExampleClient(p *oauthproxy.Proxy) *oauthproxy.ClientInformation {
	client, err := p.RegisterClient(context.Background(), &oauthproxy.ClientMetadata{
		RedirectURIs:            []string{"http://127.0.0.1/callback"},
		TokenEndpointAuthMethod: "none",
		ClientName:              "Example client",
	})
	if err != nil {
		log.Fatal(err)
	}
	return client
}

// authorizeOutcome starts an authorization for client: "client known", or
// the OAuth error code the proxy answers with.
func authorizeOutcome(p *oauthproxy.Proxy, client *oauthproxy.ClientInformation) string {
	_, err := p.Authorize(context.Background(), &oauthproxy.AuthorizationRequest{
		ResponseType:        "code",
		ClientID:            client.ClientID,
		RedirectURI:         "http://127.0.0.1/callback",
		State:               "xyz",
		CodeChallenge:       "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM", // RFC 7636 Appendix B
		CodeChallengeMethod: "S256",
	})
	var oerr *oauthproxy.Error
	switch {
	case err == nil:
		return "client known"
	case errors.As(err, &oerr):
		return oerr.Code
	default:
		return err.Error()
	}
}
