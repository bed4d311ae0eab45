package gateway

import (
	"encoding/base64"
	"fmt"
	"io"

	opcrypto "github.com/oauthproxy-go/oauthproxy/crypto"
)

// WriteKeys writes fresh random keys (crypto/rand, 32 bytes each, base64)
// for every key secret, as environment lines to put in a secret store:
// `oauthproxy keys > oauthproxy.env`.
func WriteKeys(w io.Writer) error {
	for _, name := range []string{EnvJWTSigningKey, EnvEncryptionKey, EnvConsentSigningKey, EnvAssertionKey} {
		k, err := opcrypto.GenerateKey()
		if err != nil {
			return fmt.Errorf("gateway: keys: %w", err)
		}
		if _, err := fmt.Fprintf(w, "%s=%s\n", name, base64.StdEncoding.EncodeToString(k)); err != nil {
			return err
		}
	}
	return nil
}
