package oauthproxy

import (
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"time"
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
	Code        string // RFC 6749 §5.2 error code
	Description string // human-readable text safe to show the client
	Status      int    // HTTP status for the JSON response
	// NoRedirect marks errors that must never be sent to a redirect URI: errors about
	// client_id or redirect_uri (RFC 6749 §4.1.2.1), and anything raised before the
	// redirect URI was validated.
	NoRedirect bool
	// BasicAuth records that the client authenticated with HTTP Basic, so a 401
	// carries WWW-Authenticate (RFC 6749 §5.2).
	BasicAuth bool
	// RetryAfter, when positive, is sent as a Retry-After header in whole
	// seconds (RFC 9110 §10.2.3) with a temporary refusal, such as 503
	// temporarily_unavailable.
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

// setRetryAfter writes e.RetryAfter, rounded up to whole seconds, as the
// Retry-After header (RFC 9110 §10.2.3).
func setRetryAfter(h http.Header, e *Error) {
	if e.RetryAfter > 0 {
		h.Set("Retry-After", strconv.FormatInt(int64((e.RetryAfter+time.Second-1)/time.Second), 10))
	}
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
