package oauthproxy_test

import (
	"fmt"
	"log"
	"os"

	"github.com/oauthproxy-go/oauthproxy"
	"github.com/oauthproxy-go/oauthproxy/storage"
)

// ExampleConfig_keyRotation rotates the keys as docs/deployment.md's
// "Rotating keys" shows. A client registered under the old encryption key
// is still known with the ring [new, old]; once the old key is dropped,
// its record no longer opens, and the proxy answers server_error rather
// than taking the client for an unknown one.
func ExampleConfig_keyRotation() {
	defer setenv(deploymentEnvironment())()
	store := storage.NewMemory() // stands for the bolt file or Redis, which outlive a restart
	cfg := deploymentConfig()
	cfg.TokenStorage = store
	p, err := oauthproxy.New(cfg)
	if err != nil {
		log.Fatal(err)
	}
	client := registerExampleClient(p)
	p.Destroy()

	// In the secret store, the current keys become the old ones and new keys are made.
	moveKeyToOld("OAUTHPROXY_JWT_KEY")
	moveKeyToOld("OAUTHPROXY_ENCRYPTION_KEY")
	cfg = deploymentConfig()
	cfg.TokenStorage = store

	cfg.JWTSigningKey, cfg.EncryptionKey = nil, nil // the rings replace them
	cfg.JWTSigningKeys = [][]byte{mustKey("OAUTHPROXY_JWT_KEY"), mustKey("OAUTHPROXY_JWT_KEY_OLD")}
	cfg.EncryptionKeys = [][]byte{mustKey("OAUTHPROXY_ENCRYPTION_KEY"), mustKey("OAUTHPROXY_ENCRYPTION_KEY_OLD")}
	p, err = oauthproxy.New(cfg)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("with [new, old]:", authorizeOutcome(p, client))
	p.Destroy()

	cfg.EncryptionKeys = cfg.EncryptionKeys[:1] // the old key dropped too soon
	p, err = oauthproxy.New(cfg)
	if err != nil {
		log.Fatal(err)
	}
	defer p.Destroy()
	fmt.Println("with [new]:", authorizeOutcome(p, client))
	// Output:
	// with [new, old]: client known
	// with [new]: server_error
}

// moveKeyToOld does in the environment what a rotation does in the secret
// store: name's key becomes name_OLD, and name gets a new key.
func moveKeyToOld(name string) {
	_ = os.Setenv(name+"_OLD", os.Getenv(name))
	_ = os.Setenv(name, newKey())
}
