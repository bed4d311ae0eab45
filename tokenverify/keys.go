package tokenverify

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/url"
	"time"

	"github.com/oauthproxy-go/oauthproxy"
)

// maxDocumentSize caps the metadata, JWKS and introspection answers read.
const maxDocumentSize = 64 << 10

// maxKeys caps the keys kept from one JWKS.
const maxKeys = 100

var (
	// errUnknownKey: the token names a key the proxy does not publish.
	errUnknownKey = errors.New("unknown key id")
	// errNoKeys: the keys were never fetched, and the last try was less
	// than MinRefetchInterval ago.
	errNoKeys = errors.New("the proxy's keys could not be fetched; retrying later")
)

// keySet is one fetch of the proxy's metadata and JWKS.
type keySet struct {
	keys                  map[string]*ecdsa.PublicKey // kid → key
	introspectionEndpoint string
	fetched               time.Time
}

// key returns the public key called kid, fetching the keys when there are
// none yet, when they are older than oauthproxy.JWKSMaxAge, or when kid is
// unknown (a new key of the proxy's ring) — the last two at most once per
// MinRefetchInterval. A stale set keeps serving when a refetch fails.
func (v *Verifier) key(ctx context.Context, kid string) (*ecdsa.PublicKey, error) {
	ks := v.keys.Load()
	if ks != nil {
		k, ok := ks.keys[kid]
		if ok && v.cfg.Now().Sub(ks.fetched) < oauthproxy.JWKSMaxAge {
			return k, nil
		}
	}
	if !v.mayRefetch() {
		switch {
		case ks == nil:
			return nil, errNoKeys
		case ks.keys[kid] != nil:
			return ks.keys[kid], nil
		default:
			return nil, errUnknownKey
		}
	}
	ks, err := v.refresh(ctx)
	if err != nil {
		if old := v.keys.Load(); old != nil {
			v.log.Warn("tokenverify: could not refresh the proxy's keys; using the ones fetched before", "error", err)
			if k, ok := old.keys[kid]; ok {
				return k, nil
			}
			return nil, errUnknownKey
		}
		return nil, err
	}
	if k, ok := ks.keys[kid]; ok {
		return k, nil
	}
	return nil, errUnknownKey
}

// mayRefetch reports whether MinRefetchInterval has passed since the last
// fetch, and if so counts this one.
func (v *Verifier) mayRefetch() bool {
	v.mu.Lock()
	defer v.mu.Unlock()
	now := v.cfg.Now()
	if now.Sub(v.lastFetch) < v.cfg.MinRefetchInterval {
		return false
	}
	v.lastFetch = now
	return true
}

// refresh fetches the keys once for every concurrent caller. The fetch runs
// on its own context, bounded by HTTPClient's timeout: one caller giving up
// must not fail the others.
func (v *Verifier) refresh(ctx context.Context) (*keySet, error) {
	ch := v.fetches.DoChan("keys", func() (any, error) {
		ks, err := v.fetchKeys(context.WithoutCancel(ctx))
		if err != nil {
			return nil, err
		}
		v.keys.Store(ks)
		return ks, nil
	})
	select {
	case res := <-ch:
		if res.Err != nil {
			return nil, res.Err
		}
		return res.Val.(*keySet), nil
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

// authServerMetadata is what the verifier reads of RFC 8414 §2.
type authServerMetadata struct {
	Issuer                string `json:"issuer"`
	JWKSURI               string `json:"jwks_uri"`
	IntrospectionEndpoint string `json:"introspection_endpoint"`
}

// fetchKeys discovers the JWKS from the proxy's metadata and fetches it.
func (v *Verifier) fetchKeys(ctx context.Context) (*keySet, error) {
	var md authServerMetadata
	if err := v.getJSON(ctx, v.metadataURL, &md); err != nil {
		return nil, fmt.Errorf("authorization server metadata: %w", err)
	}
	if md.Issuer != v.cfg.Issuer {
		// RFC 8414 §3.3: the document must be the issuer's own.
		return nil, fmt.Errorf("authorization server metadata names issuer %q, not %q", md.Issuer, v.cfg.Issuer)
	}
	if md.JWKSURI == "" {
		return nil, errors.New("the proxy publishes no jwks_uri: set its AccessTokenSigningKeys")
	}
	if _, err := checkURL("jwks_uri", md.JWKSURI); err != nil {
		return nil, err
	}
	ks := &keySet{keys: map[string]*ecdsa.PublicKey{}, fetched: v.cfg.Now()}
	if v.cfg.IntrospectionClientID != "" {
		if _, err := checkURL("introspection_endpoint", md.IntrospectionEndpoint); err != nil {
			return nil, err
		}
		ks.introspectionEndpoint = md.IntrospectionEndpoint
	}
	var set oauthproxy.JSONWebKeySet
	if err := v.getJSON(ctx, md.JWKSURI, &set); err != nil {
		return nil, fmt.Errorf("JWKS: %w", err)
	}
	for _, jwk := range set.Keys {
		if len(ks.keys) == maxKeys {
			break
		}
		if k, ok := es256Key(jwk); ok {
			ks.keys[jwk.KeyID] = k
		}
	}
	return ks, nil
}

// es256Key reads a P-256 signing key (RFC 7518 §6.2.1); other keys are
// skipped, as RFC 7517 §5 says.
func es256Key(jwk oauthproxy.JSONWebKey) (*ecdsa.PublicKey, bool) {
	if jwk.KeyType != "EC" || jwk.Curve != "P-256" || jwk.KeyID == "" ||
		(jwk.Algorithm != "" && jwk.Algorithm != "ES256") || (jwk.Use != "" && jwk.Use != "sig") {
		return nil, false
	}
	x, err1 := base64.RawURLEncoding.DecodeString(jwk.X)
	y, err2 := base64.RawURLEncoding.DecodeString(jwk.Y)
	if err1 != nil || err2 != nil || len(x) != 32 || len(y) != 32 {
		return nil, false
	}
	k, err := ecdsa.ParseUncompressedPublicKey(elliptic.P256(), append(append([]byte{4}, x...), y...))
	return k, err == nil
}

// getJSON GETs u and decodes at most maxDocumentSize of JSON into dst.
func (v *Verifier) getJSON(ctx context.Context, u string, dst any) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return err
	}
	req.Header.Set("Accept", "application/json")
	resp, err := v.cfg.HTTPClient.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	return readJSON(resp, dst)
}

// readJSON decodes a 200 JSON answer of at most maxDocumentSize.
func readJSON(resp *http.Response, dst any) error {
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("%s answered %d", redact(resp.Request.URL), resp.StatusCode)
	}
	if mt, _, _ := mime.ParseMediaType(resp.Header.Get("Content-Type")); mt != "application/json" && mt != "application/jwk-set+json" {
		return fmt.Errorf("%s answered %q, not JSON", redact(resp.Request.URL), mt)
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxDocumentSize+1))
	if err != nil {
		return err
	}
	if len(body) > maxDocumentSize {
		return fmt.Errorf("%s answered more than %d bytes", redact(resp.Request.URL), maxDocumentSize)
	}
	return json.Unmarshal(body, dst)
}

// redact is u for a log line, without query.
func redact(u *url.URL) string {
	c := *u
	c.RawQuery = ""
	return c.String()
}
