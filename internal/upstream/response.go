package upstream

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"mime"
	"net/url"
	"strconv"
	"strings"
	"time"

	segjson "github.com/segmentio/encoding/json"
)

// maxResponseBytes caps the token response body (SECURITY.md S14).
const maxResponseBytes = 1 << 20

var (
	errTooLarge      = errors.New("upstream: token response is larger than 1 MiB")
	errMalformed     = errors.New("upstream: malformed token response")
	errNoAccessToken = errors.New("upstream: token response has no access_token (RFC 6749 section 5.1)")
)

// knownFields are the RFC 6749 §5.1 and OpenID Connect fields Token has a place for.
var knownFields = map[string]bool{
	"access_token": true, "token_type": true, "refresh_token": true,
	"id_token": true, "scope": true, "expires_in": true,
}

// decodeFields reads a token response body by its Content-Type: JSON as RFC 6749 §5.1 says,
// or form-encoded as GitHub sends without Accept; anything else is sniffed.
func decodeFields(contentType string, body []byte) (map[string]any, error) {
	if contentType == "application/json" || contentType == "application/json; charset=utf-8" {
		// What mime.ParseMediaType reads these two as, without its
		// allocations (issue 16: every sign-in's token response).
		return decodeJSON(body)
	}
	mediaType, _, _ := mime.ParseMediaType(contentType)
	switch {
	case mediaType == "application/json" || strings.HasSuffix(mediaType, "+json"):
		return decodeJSON(body)
	case mediaType == "application/x-www-form-urlencoded":
		return decodeForm(body)
	case bytes.HasPrefix(bytes.TrimSpace(body), []byte("{")):
		return decodeJSON(body)
	}
	return decodeForm(body)
}

// decodeJSON decodes one JSON object, numbers as json.Number, nothing but
// whitespace after it; the decoder's message is dropped, as it may quote the
// body. segmentio/encoding/json decodes as encoding/json does
// (TestDecodeJSONMatchesEncodingJSON) in a sixth of the time: the token
// response, id_token included, is decoded on every sign-in (issue 16).
func decodeJSON(body []byte) (map[string]any, error) {
	// Made here: segmentio/encoding/json makes a missing map with room for
	// 64 entries, ~5 KiB for the dozen a token response has (issue 16).
	fields := make(map[string]any, smallObject)
	rest, err := segjson.Parse(body, &fields, segjson.UseNumber)
	if err != nil || fields == nil || len(bytes.TrimLeft(rest, jsonSpace)) != 0 {
		return nil, errMalformed
	}
	return fields, nil
}

// smallObject is room for the members of a usual token response or id_token.
const smallObject = 16

// jsonSpace is JSON's insignificant whitespace (RFC 8259 §2).
const jsonSpace = " \t\r\n"

func decodeForm(body []byte) (map[string]any, error) {
	values, err := url.ParseQuery(string(body))
	if err != nil {
		return nil, errMalformed
	}
	fields := make(map[string]any, len(values))
	for k, v := range values {
		fields[k] = v[0]
	}
	return fields, nil
}

// oauthError returns the OAuth error response in fields (RFC 6749 §5.2), or nil when there is
// none. Any error field counts, whatever the status: GitHub sends errors with HTTP 200.
func oauthError(fields map[string]any, status int, redact func(string) string) (*Error, error) {
	v, ok := fields["error"]
	if !ok || v == nil || v == "" {
		return nil, nil
	}
	code, ok := v.(string)
	if !ok {
		return nil, fmt.Errorf("%w: error is not a string (HTTP %d)", errMalformed, status)
	}
	desc, _ := fields["error_description"].(string)
	uri, _ := fields["error_uri"].(string)
	return &Error{Code: redact(code), Description: redact(desc), URI: redact(uri), StatusCode: status}, nil
}

// tokenFromFields builds a Token from a successful response (RFC 6749 §5.1).
func tokenFromFields(fields map[string]any, now time.Time) (*Token, error) {
	t := &Token{}
	for _, f := range [...]struct {
		key string
		dst *string
	}{
		{"access_token", &t.AccessToken}, {"token_type", &t.TokenType}, {"refresh_token", &t.RefreshToken},
		{"id_token", &t.IDToken}, {"scope", &t.Scope},
	} {
		key, dst := f.key, f.dst
		v, ok := fields[key]
		if !ok || v == nil {
			continue
		}
		s, ok := v.(string)
		if !ok {
			return nil, fmt.Errorf("%w: %s is not a string", errMalformed, key)
		}
		*dst = s
	}
	if t.AccessToken == "" {
		return nil, errNoAccessToken
	}
	expiresIn, err := parseExpiresIn(fields["expires_in"])
	if err != nil {
		return nil, err
	}
	t.ExpiresIn = expiresIn
	if expiresIn > 0 { // like golang.org/x/oauth2, 0 means "not said"
		t.Expiry = now.Add(time.Duration(expiresIn) * time.Second)
	}
	for k, v := range fields {
		if !knownFields[k] {
			if t.Extra == nil {
				t.Extra = make(map[string]any)
			}
			t.Extra[k] = v
		}
	}
	return t, nil
}

// parseExpiresIn accepts a JSON number or a numeric string (some providers quote it), in whole
// seconds; absent means 0.
func parseExpiresIn(v any) (int64, error) {
	var s string
	switch v := v.(type) {
	case nil:
		return 0, nil
	case json.Number:
		s = v.String()
	case string:
		s = strings.TrimSpace(v)
		if s == "" {
			return 0, nil
		}
	default:
		return 0, fmt.Errorf("%w: expires_in is not a number", errMalformed)
	}
	const maxSeconds = math.MaxInt64 / int64(time.Second)
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		f, ferr := strconv.ParseFloat(s, 64)
		if ferr != nil || f != math.Trunc(f) || f < 0 || f > float64(maxSeconds) {
			return 0, fmt.Errorf("%w: expires_in is not a whole number of seconds", errMalformed)
		}
		n = int64(f)
	}
	if n < 0 || n > maxSeconds {
		return 0, fmt.Errorf("%w: expires_in is out of range", errMalformed)
	}
	return n, nil
}
