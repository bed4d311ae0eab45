package cimd

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"net/url"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/oauthproxy-go/oauthproxy/internal/displaytext"
	"github.com/oauthproxy-go/oauthproxy/internal/redirecturi"
)

// maxClientNameLength is the longest client_name accepted, in characters.
const maxClientNameLength = 200

// Document is the client metadata a Client ID Metadata Document carries (RFC 7591 section 2
// names). Unknown members are ignored.
type Document struct {
	ClientID                string   `json:"client_id"`
	ClientName              string   `json:"client_name,omitempty"`
	ClientURI               string   `json:"client_uri,omitempty"`
	LogoURI                 string   `json:"logo_uri,omitempty"`
	RedirectURIs            []string `json:"redirect_uris"`
	TokenEndpointAuthMethod string   `json:"token_endpoint_auth_method,omitempty"`
	GrantTypes              []string `json:"grant_types,omitempty"`
	ResponseTypes           []string `json:"response_types,omitempty"`
	Scope                   string   `json:"scope,omitempty"`
}

// secretMembers are decoded only to detect them: a metadata document is public, so it cannot
// carry a shared secret (CIMD draft, "client_secret" and symmetric auth methods are forbidden).
type secretMembers struct {
	ClientSecret          json.RawMessage `json:"client_secret"`
	ClientSecretExpiresAt json.RawMessage `json:"client_secret_expires_at"`
}

// knownMembers maps the folded form of every member name this package decodes to its exact
// spelling. encoding/json matches names case-insensitively; the JSON member names are
// case-sensitive, so a near miss such as Client_ID is refused rather than silently accepted.
var knownMembers = func() map[string]string {
	m := map[string]string{}
	for _, name := range []string{
		"client_id", "client_name", "client_uri", "logo_uri", "redirect_uris",
		"token_endpoint_auth_method", "grant_types", "response_types", "scope",
		"client_secret", "client_secret_expires_at",
	} {
		m[foldName(name)] = name
	}
	return m
}()

// foldName folds a member name the way encoding/json does when matching it to a field.
func foldName(s string) string {
	return strings.Map(func(r rune) rune { return unicode.ToUpper(unicode.ToLower(r)) }, s)
}

// parseDocument decodes body strictly and checks it as the document for clientID.
// Errors wrap ErrInvalidDocument.
func parseDocument(clientID string, body []byte) (*Document, error) {
	if err := checkMembers(body); err != nil {
		return nil, err
	}
	var doc Document
	if err := json.Unmarshal(body, &doc); err != nil {
		var typeErr *json.UnmarshalTypeError
		if errors.As(err, &typeErr) && safeFieldName(typeErr.Field) {
			return nil, invalid("client metadata document member %s has the wrong type", typeErr.Field)
		}
		return nil, invalid("client metadata document is not valid JSON")
	}
	var secrets secretMembers
	if err := json.Unmarshal(body, &secrets); err != nil {
		return nil, invalid("client metadata document is not valid JSON")
	}
	if secrets.ClientSecret != nil || secrets.ClientSecretExpiresAt != nil {
		return nil, invalid("client metadata document must not contain client_secret or client_secret_expires_at")
	}
	if err := validateDocument(clientID, &doc); err != nil {
		return nil, err
	}
	return &doc, nil
}

// checkMembers requires exactly one JSON object with no trailing data, no member name given
// twice, and no member that differs from a known name only in case.
func checkMembers(body []byte) error {
	errNotObject := invalid("client metadata document is not a single JSON object")
	dec := json.NewDecoder(bytes.NewReader(body))
	if tok, err := dec.Token(); err != nil || tok != json.Delim('{') {
		return errNotObject
	}
	seen := map[string]bool{}
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return errNotObject
		}
		name, ok := tok.(string)
		if !ok {
			return errNotObject
		}
		folded := foldName(name)
		if seen[folded] {
			return invalid("client metadata document repeats a member name")
		}
		seen[folded] = true
		if exact, known := knownMembers[folded]; known && exact != name {
			return invalid("client metadata document member %s is misspelled (names are case-sensitive)", exact)
		}
		var skip json.RawMessage
		if err := dec.Decode(&skip); err != nil {
			return errNotObject
		}
	}
	if tok, err := dec.Token(); err != nil || tok != json.Delim('}') {
		return errNotObject
	}
	if _, err := dec.Token(); err != io.EOF {
		return invalid("client metadata document has data after the JSON object")
	}
	return nil
}

// safeFieldName reports whether a json.UnmarshalTypeError field path is one of ours (built
// from struct tags), so echoing it cannot leak remote text into an error_description.
func safeFieldName(field string) bool {
	exact, ok := knownMembers[foldName(field)]
	return ok && exact == field
}

// validateDocument applies the CIMD draft's and this proxy's rules to a decoded document.
func validateDocument(clientID string, doc *Document) error {
	// The draft requires simple string comparison (RFC 3986 section 6.2.1), no normalization.
	if doc.ClientID != clientID {
		return invalid("client_id in the client metadata document does not equal the URL it was fetched from")
	}
	if len(doc.RedirectURIs) == 0 {
		return invalid("client metadata document must list at least one redirect_uris entry")
	}
	for _, ru := range doc.RedirectURIs {
		// The rules of SECURITY.md S01. Whether the URI is allowed for this deployment
		// (patterns) and equal to the one requested is checked at /authorize.
		if _, err := redirecturi.Parse(ru); err != nil {
			return invalid("client metadata document has an invalid redirect URI: %s", err.Error())
		}
	}
	switch doc.TokenEndpointAuthMethod {
	case "", "none":
	case "client_secret_basic", "client_secret_post", "client_secret_jwt":
		return invalid("token_endpoint_auth_method %s needs a shared secret, which a client metadata document cannot carry; use none", doc.TokenEndpointAuthMethod)
	case "private_key_jwt":
		return invalid("token_endpoint_auth_method private_key_jwt is not supported; use none")
	default:
		return invalid("token_endpoint_auth_method is not supported; use none")
	}
	for _, g := range doc.GrantTypes {
		if g != "authorization_code" && g != "refresh_token" {
			return invalid("grant_types may contain only authorization_code and refresh_token")
		}
	}
	for _, rt := range doc.ResponseTypes {
		if rt != "code" {
			return invalid("response_types may contain only code")
		}
	}
	if !utf8.ValidString(doc.ClientName) || utf8.RuneCountInString(doc.ClientName) > maxClientNameLength {
		return invalid("client_name is longer than %d characters", maxClientNameLength)
	}
	// SECURITY.md S21 (Unicode TR #36): the same rule as a dynamic registration's name.
	if !displaytext.IsClean(doc.ClientName) {
		return invalid("client_name contains control characters, line breaks or invisible or bidirectional formatting characters")
	}
	if doc.ClientURI != "" && !isHTTPSURL(doc.ClientURI) {
		return invalid("client_uri must be an https URL")
	}
	if doc.LogoURI != "" && !isHTTPSURL(doc.LogoURI) {
		return invalid("logo_uri must be an https URL")
	}
	return nil
}

// isHTTPSURL reports whether s is an absolute https URL with a host and no userinfo, so a
// consent page can link to it without risking a javascript: or data: URL.
func isHTTPSURL(s string) bool {
	if len(s) > maxURLLength {
		return false
	}
	u, err := url.Parse(s)
	return err == nil && u.Scheme == "https" && u.Host != "" && u.User == nil && strings.HasPrefix(s, "https://")
}
