// Package httpx holds the proxy's HTTP plumbing: strict request decoding with
// capped bodies, no-store JSON responses, and CORS for the endpoints browser
// based MCP clients call.
package httpx

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"mime"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"unsafe"

	"github.com/oauthproxy-go/oauthproxy/internal/bufpool"
	segjson "github.com/segmentio/encoding/json"
)

// MaxBodySize caps every request body the proxy reads (SECURITY.md S14).
const MaxBodySize = 1 << 20

// ErrBadRequest wraps every decoding failure; its text is safe to show a client.
var ErrBadRequest = errors.New("bad request")

func badRequest(format string, args ...any) error {
	return fmt.Errorf("%w: %s", ErrBadRequest, fmt.Sprintf(format, args...))
}

// ReadForm parses an application/x-www-form-urlencoded body (RFC 6749 §3.2)
// capped at MaxBodySize. It refuses other content types and any parameter sent
// more than once (RFC 6749 §3.1). Query parameters are ignored: credentials and
// codes belong in the body.
func ReadForm(w http.ResponseWriter, r *http.Request) (url.Values, error) {
	if !hasMediaType(r, "application/x-www-form-urlencoded") {
		return nil, badRequest("content type must be application/x-www-form-urlencoded")
	}
	body, err := ReadBody(http.MaxBytesReader(w, r.Body, MaxBodySize), r.ContentLength)
	if err != nil {
		return nil, badRequest("request body is too large or unreadable")
	}
	// The body is this request's own and never written again, so the values
	// may be slices of it rather than of a copy.
	form, err := ParseQuery(unsafe.String(unsafe.SliceData(body), len(body)))
	if err != nil {
		return nil, badRequest("request body is not valid form encoding")
	}
	if err := Single(form); err != nil {
		return nil, err
	}
	return form, nil
}

// hasMediaType reports whether the request's Content-Type is mediaType,
// parameters allowed (RFC 9110 §8.3.1). The common exact value is checked
// first, sparing mime.ParseMediaType's allocations on every token request.
func hasMediaType(r *http.Request, mediaType string) bool {
	ct := r.Header.Get("Content-Type")
	if ct == mediaType {
		return true
	}
	mt, _, err := mime.ParseMediaType(ct)
	return err == nil && mt == mediaType
}

// Single refuses parameters that appear more than once (RFC 6749 §3.1).
func Single(v url.Values) error {
	for _, vs := range v {
		if len(vs) > 1 {
			// The name is the client's input: never echoed (S21).
			return badRequest("a parameter is repeated")
		}
	}
	return nil
}

// ReadJSON decodes a single JSON object from an application/json body capped
// at MaxBodySize into v. Unknown fields are allowed (RFC 7591 §2 says to ignore
// them); trailing data is not.
func ReadJSON(w http.ResponseWriter, r *http.Request, v any) error {
	if !hasMediaType(r, "application/json") {
		return badRequest("content type must be application/json")
	}
	body, err := ReadBody(http.MaxBytesReader(w, r.Body, MaxBodySize), r.ContentLength)
	if err != nil {
		return badRequest("request body is too large or unreadable")
	}
	if trimmed := bytes.TrimLeft(body, " \t\r\n"); len(trimmed) == 0 || trimmed[0] != '{' {
		return badRequest("request body must be a JSON object")
	}
	// segmentio/encoding/json decodes as encoding/json does (its UnmarshalTypeError
	// is encoding/json's, Field included) in a third of the time (issue 16).
	rest, err := segjson.Parse(body, v, 0)
	if err != nil {
		var typeErr *json.UnmarshalTypeError
		if errors.As(err, &typeErr) && fieldName(typeErr.Field) {
			return badRequest("field %s has the wrong type", typeErr.Field)
		}
		return badRequest("request body is not a valid JSON object")
	}
	if len(bytes.TrimLeft(rest, " \t\r\n")) != 0 {
		return badRequest("request body has data after the JSON object")
	}
	return nil
}

// fieldName reports whether a json.UnmarshalTypeError field path is safe to
// name in an error_description (SECURITY.md S21): decoded into a struct, it is
// built from the struct's JSON names, not the request's. Anything else, such
// as a map key taken from the request, is not named.
func fieldName(field string) bool {
	if field == "" || len(field) > 64 {
		return false
	}
	for i := 0; i < len(field); i++ {
		if c := field[i]; !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '_' || c == '.') {
			return false
		}
	}
	return true
}

// NoStore marks a response as uncacheable (RFC 6749 §5.1; SECURITY.md S13).
func NoStore(w http.ResponseWriter) {
	SetHeaders(w.Header(), "Cache-Control", "no-store", "Pragma", "no-cache")
}

// WriteJSON writes v as JSON with status: the bytes json.NewEncoder(w).Encode
// writes, made by segmentio/encoding/json in a reused buffer, in one write
// with their Content-Length (issue 16: the token and registration responses
// of every sign-in).
func WriteJSON(w http.ResponseWriter, status int, v any) {
	buf := jsonBufs.Get()
	defer jsonBufs.Put(buf)
	b, err := segjson.Append(*buf, v, segjson.EscapeHTML|segjson.SortMapKeys)
	*buf = b
	if err != nil {
		// Only a value no JSON can express gets here: a bug, not a client error.
		http.Error(w, "internal error encoding the response", http.StatusInternalServerError)
		return
	}
	b = append(b, '\n')
	*buf = b
	SetHeaders(w.Header(), "Content-Type", "application/json", "Content-Length", strconv.Itoa(len(b)))
	w.WriteHeader(status)
	_, _ = w.Write(b)
}

// jsonBufs are WriteJSON's buffers; one grown past 16 KiB by an unusually
// large response (a client with many redirect URIs) is left to the GC.
var jsonBufs = bufpool.New(16 << 10)

// WriteBearerChallenge answers a refused bearer request (RFC 6750 §3) with a
// challenge naming the protected resource's metadata (RFC 9728 §5.1): 401
// with error="invalid_token", or none when no token was sent (§3.1), or 403
// insufficient_scope with scope. desc must be clean NQSCHAR text: it goes
// into a quoted-string.
func WriteBearerChallenge(w http.ResponseWriter, status int, resourceMetadataURL, code, desc, scope string) {
	params := []string{`resource_metadata="` + resourceMetadataURL + `"`}
	if code != "" {
		params = append(params, `error="`+code+`"`, `error_description="`+desc+`"`)
	}
	if scope != "" {
		params = append(params, `scope="`+scope+`"`)
	}
	w.Header().Set("WWW-Authenticate", "Bearer "+strings.Join(params, ", "))
	body := map[string]string{"error": code, "error_description": desc}
	if code == "" {
		// RFC 6750 §3.1: a request without credentials gets no error code.
		body = map[string]string{"error_description": "an access token is required"}
	}
	WriteJSON(w, status, body)
}
