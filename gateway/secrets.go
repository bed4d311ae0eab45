package gateway

import (
	"encoding/base64"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"strings"
)

// Secrets are the gateway's secrets. They come only from the environment,
// each variable NAME either holding the value or, as NAME_FILE, naming a file
// that holds it (container secrets), never from the configuration file or
// flags, and they are never logged. Keys are base64 (standard or URL
// alphabet); `oauthproxy keys` prints fresh ones. A key variable may list
// several keys separated by commas for rotation: the first signs or seals,
// every one verifies or opens.
type Secrets struct {
	UpstreamClientSecret string   // OAUTHPROXY_UPSTREAM_CLIENT_SECRET; required
	JWTSigningKeys       [][]byte // OAUTHPROXY_JWT_SIGNING_KEY; ≥ 32 bytes each
	EncryptionKeys       [][]byte // OAUTHPROXY_ENCRYPTION_KEY; 32 bytes each
	ConsentSigningKey    []byte   // OAUTHPROXY_CONSENT_SIGNING_KEY; ≥ 32 bytes
	RedisPassword        string   // OAUTHPROXY_REDIS_PASSWORD
	AssertionKey         []byte   // OAUTHPROXY_ASSERTION_KEY; ≥ 32 bytes, HS256 for Backend.SignAssertion
}

// Environment variables of the secrets.
const (
	EnvUpstreamClientSecret = "OAUTHPROXY_UPSTREAM_CLIENT_SECRET"
	EnvJWTSigningKey        = "OAUTHPROXY_JWT_SIGNING_KEY"
	EnvEncryptionKey        = "OAUTHPROXY_ENCRYPTION_KEY"
	EnvConsentSigningKey    = "OAUTHPROXY_CONSENT_SIGNING_KEY"
	EnvRedisPassword        = "OAUTHPROXY_REDIS_PASSWORD"
	EnvAssertionKey         = "OAUTHPROXY_ASSERTION_KEY"
)

// String hides the values, so a Config printed by mistake leaks nothing.
func (Secrets) String() string { return "[secrets redacted]" }

// GoString hides the values from %#v too.
func (s Secrets) GoString() string { return s.String() }

// MarshalJSON hides the values from encoding/json, which slog's JSON
// handler uses for a Config logged whole.
func (s Secrets) MarshalJSON() ([]byte, error) { return []byte(`"[secrets redacted]"`), nil }

// LogValue logs which secrets are set, never their values.
func (s Secrets) LogValue() slog.Value {
	return slog.GroupValue(
		slog.Bool("upstream_client_secret", s.UpstreamClientSecret != ""),
		slog.Int("jwt_signing_keys", len(s.JWTSigningKeys)),
		slog.Int("encryption_keys", len(s.EncryptionKeys)),
		slog.Bool("consent_signing_key", len(s.ConsentSigningKey) > 0),
		slog.Bool("redis_password", s.RedisPassword != ""),
		slog.Bool("assertion_key", len(s.AssertionKey) > 0),
	)
}

// loadSecrets reads every secret from env, reporting every problem.
func loadSecrets(env func(string) (string, bool)) (Secrets, error) {
	var s Secrets
	var errs []error
	text := func(name string) string {
		v, err := secretValue(env, name)
		if err != nil {
			errs = append(errs, err)
		}
		return v
	}
	keys := func(name string) [][]byte {
		v := text(name)
		if v == "" {
			return nil
		}
		var out [][]byte
		for i, part := range strings.Split(v, ",") {
			k, err := decodeKey(strings.TrimSpace(part))
			if err != nil {
				errs = append(errs, fmt.Errorf("%s: key %d is not base64", name, i+1))
				continue
			}
			out = append(out, k)
		}
		return out
	}
	one := func(name string) []byte {
		ks := keys(name)
		if len(ks) > 1 {
			errs = append(errs, fmt.Errorf("%s takes one key", name))
		}
		if len(ks) == 0 {
			return nil
		}
		return ks[0]
	}
	s.UpstreamClientSecret = text(EnvUpstreamClientSecret)
	s.JWTSigningKeys = keys(EnvJWTSigningKey)
	s.EncryptionKeys = keys(EnvEncryptionKey)
	s.ConsentSigningKey = one(EnvConsentSigningKey)
	s.RedisPassword = text(EnvRedisPassword)
	s.AssertionKey = one(EnvAssertionKey)
	return s, errors.Join(errs...)
}

// secretValue reads NAME, or the file NAME_FILE names, without the file's
// trailing newline. Both set is an error: which one wins would be a guess.
func secretValue(env func(string) (string, bool), name string) (string, error) {
	v, inline := env(name)
	path, fromFile := env(name + "_FILE")
	switch {
	case inline && fromFile:
		return "", fmt.Errorf("%s and %s_FILE are both set; set one", name, name)
	case fromFile:
		b, err := os.ReadFile(path)
		if err != nil {
			// The path is not secret; the error names it, not the content.
			return "", fmt.Errorf("%s_FILE: %w", name, err)
		}
		return strings.TrimRight(string(b), "\r\n"), nil
	}
	return v, nil
}

// decodeKey accepts standard or URL-safe base64, padded or not.
func decodeKey(s string) ([]byte, error) {
	for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.RawStdEncoding, base64.URLEncoding, base64.RawURLEncoding} {
		if b, err := enc.DecodeString(s); err == nil {
			return b, nil
		}
	}
	return nil, errors.New("not base64")
}
