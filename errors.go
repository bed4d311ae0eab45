package oauthproxy

import (
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// OAuth error codes (RFC 6749 §4.1.2.1 and §5.2, RFC 7591 §3.2.2, RFC 8707 §2,
// RFC 6750 §3.1).
const (
	ErrCodeInvalidRequest          = "invalid_request"
	ErrCodeInvalidClient           = "invalid_client"
	ErrCodeInvalidGrant            = "invalid_grant"
	ErrCodeUnauthorizedClient      = "unauthorized_client"
	ErrCodeUnsupportedGrantType    = "unsupported_grant_type"
	ErrCodeUnsupportedResponseType = "unsupported_response_type"
	ErrCodeInvalidScope            = "invalid_scope"
	ErrCodeAccessDenied            = "access_denied"
	ErrCodeServerError             = "server_error"
	ErrCodeTemporarilyUnavailable  = "temporarily_unavailable"
	ErrCodeInvalidRedirectURI      = "invalid_redirect_uri"
	ErrCodeInvalidClientMetadata   = "invalid_client_metadata"
	ErrCodeInvalidTarget           = "invalid_target"
	ErrCodeInvalidToken            = "invalid_token"
	ErrCodeInsufficientScope       = "insufficient_scope"
)

// Error is the one OAuth error type the proxy puts on the wire (RFC 6749 §5.2).
// Code and Description are public; Cause is private detail for logs and errors.Is,
// and never reaches a client. Find it with errors.As.
type Error struct {
	Code string // RFC 6749 §5.2 error code
	// Description is human-readable text for the client: fixed text that
	// never quotes request input. On the wire every character outside RFC
	// 6749 NQSCHAR, and '<' and '>', becomes '?' (S21).
	Description string
	Status      int // HTTP status for the JSON response
	// NoRedirect marks errors that must never be sent to a redirect URI: errors about
	// client_id or redirect_uri (RFC 6749 §4.1.2.1), and anything raised before the
	// redirect URI was validated.
	NoRedirect bool
	// BasicAuth records that the client authenticated with HTTP Basic, so a 401
	// carries WWW-Authenticate (RFC 6749 §5.2).
	BasicAuth bool
	// RetryAfter, when set, says when the client may try again: the HTTP layer
	// sends it as Retry-After in whole seconds (RFC 9110 §10.2.3) on refusals
	// such as a full quota (S19).
	RetryAfter time.Duration
	Cause      error // private; logged, never sent
}

// Error implements error. It includes the cause for logs; clients only ever see
// Code and Description.
func (e *Error) Error() string {
	msg := e.Code
	if e.Description != "" {
		msg += ": " + e.Description
	}
	if e.Cause != nil {
		msg += ": " + e.Cause.Error()
	}
	return "oauthproxy: " + msg
}

// Unwrap returns the private cause.
func (e *Error) Unwrap() error { return e.Cause }

// Is reports whether target is an *Error with the same Code, so callers can write
// errors.Is(err, &oauthproxy.Error{Code: oauthproxy.ErrCodeInvalidGrant}).
func (e *Error) Is(target error) bool {
	var t *Error
	if !errors.As(target, &t) {
		return false
	}
	return t.Code == e.Code
}

// newError builds an Error with the status RFC 6749 §5.2 implies for code.
// Constructors return fresh values so no caller mutates a shared one.
func newError(code, description string) *Error {
	return &Error{Code: code, Description: description, Status: statusFor(code)}
}

func errorf(code, format string, args ...any) *Error {
	return newError(code, fmt.Sprintf(format, args...))
}

// withCause attaches private detail.
func (e *Error) withCause(err error) *Error {
	e.Cause = err
	return e
}

// noRedirect marks the error as one that must be shown, never redirected.
func (e *Error) noRedirect() *Error {
	e.NoRedirect = true
	return e
}

// setRetryAfter sends e.RetryAfter as a Retry-After header, rounded up to
// whole seconds (RFC 9110 §10.2.3 takes delay-seconds).
func setRetryAfter(w http.ResponseWriter, e *Error) {
	if e.RetryAfter > 0 {
		w.Header().Set("Retry-After", strconv.FormatInt(retryAfterSeconds(e.RetryAfter), 10))
	}
}

// retryAfterSeconds is wait in whole seconds, rounded up and at least 1: the
// delay-seconds of RFC 9110 §10.2.3.
func retryAfterSeconds(wait time.Duration) int64 {
	return max(1, int64((wait+time.Second-1)/time.Second))
}

func statusFor(code string) int {
	switch code {
	case ErrCodeInvalidClient, ErrCodeInvalidToken:
		return http.StatusUnauthorized
	case ErrCodeInsufficientScope, ErrCodeAccessDenied:
		return http.StatusForbidden
	case ErrCodeServerError:
		return http.StatusInternalServerError
	case ErrCodeTemporarilyUnavailable:
		return http.StatusServiceUnavailable
	default:
		return http.StatusBadRequest
	}
}

// errServer wraps an unexpected internal failure; its text never reaches a client.
func errServer(err error) *Error {
	return newError(ErrCodeServerError, "internal error").withCause(err)
}

// errUnavailable reports a dependency (storage, upstream) that failed transiently.
func errUnavailable(description string, err error) *Error {
	return newError(ErrCodeTemporarilyUnavailable, description).withCause(err)
}

// publicDescription is the last line of defence for text on the wire (S21):
// every error_description the proxy sends (JSON body, redirect, error page,
// WWW-Authenticate) passes through it. RFC 6749 §5.2 and §4.1.2.1 allow only
// NQSCHAR (%x20-21 / %x23-5B / %x5D-7E); '<' and '>' are refused too, so a
// client that shows the text as HTML shows no markup. Any other character
// becomes '?'. Descriptions are fixed text that never quotes request input;
// this only keeps a future message from breaking the rule.
func publicDescription(s string) string {
	clean := true
	for i := 0; i < len(s); i++ {
		if !descriptionByte(s[i]) {
			clean = false
			break
		}
	}
	if clean {
		return s
	}
	var b strings.Builder
	b.Grow(len(s))
	for _, r := range s { // one '?' per character, whatever its UTF-8 length
		if r < utf8.RuneSelf && descriptionByte(byte(r)) {
			b.WriteRune(r)
		} else {
			b.WriteByte('?')
		}
	}
	return b.String()
}

// descriptionByte reports whether c is NQSCHAR other than '<' and '>'.
func descriptionByte(c byte) bool {
	return c >= 0x20 && c <= 0x7e && c != '"' && c != '\\' && c != '<' && c != '>'
}

// asError converts any error into the wire error, hiding internal detail.
func asError(err error) *Error {
	var e *Error
	if errors.As(err, &e) {
		return e
	}
	return errServer(err)
}

// Sentinel errors for callers of LoadUpstreamTokens and the bearer check, tested
// with errors.Is.
var (
	// ErrInvalidToken: the token is malformed, has a bad signature, the wrong type,
	// issuer or audience, or was not issued by this proxy.
	ErrInvalidToken = errors.New("oauthproxy: invalid token")
	// ErrTokenExpired: the token was valid but has expired.
	ErrTokenExpired = errors.New("oauthproxy: token expired")
	// ErrTokenRevoked: the grant the token belongs to no longer exists.
	ErrTokenRevoked = errors.New("oauthproxy: token revoked")
	// ErrIdentityRejected is wrapped by a ClaimsExtractor that refuses the
	// signed-in account (a wrong tenant or hosted domain, say): the client
	// then gets access_denied instead of server_error.
	ErrIdentityRejected = errors.New("oauthproxy: identity rejected")
)
