package upstream

import (
	"context"
	"errors"
	"fmt"
	"net"
)

// Error is a failed token request the upstream answered: an OAuth error response
// (RFC 6749 §5.2), or a non-2xx status without one, in which case Code is empty.
// Its text never holds the client secret, the code or a token.
type Error struct {
	Code        string // error; empty when the upstream sent no OAuth error
	Description string // error_description, as sent (redacted of our own secrets)
	URI         string // error_uri
	StatusCode  int    // HTTP status; GitHub sends errors with 200
}

func (e *Error) Error() string {
	switch {
	case e.Code == "":
		return fmt.Sprintf("upstream: token endpoint returned HTTP %d without an OAuth error", e.StatusCode)
	case e.Description == "":
		return "upstream: " + e.Code
	}
	return "upstream: " + e.Code + ": " + e.Description
}

// IsTimeout reports whether err comes from a deadline: the context's or the HTTP client's.
func IsTimeout(err error) bool {
	if errors.Is(err, context.DeadlineExceeded) {
		return true
	}
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}

// IsInvalidResponse reports whether err is a token response the upstream sent
// but the proxy cannot use: over the size cap, not decodable, or a success
// without access_token (RFC 6749 §5.1). The upstream was reached, so this is
// not a connection failure.
func IsInvalidResponse(err error) bool {
	return errors.Is(err, errTooLarge) || errors.Is(err, errMalformed) || errors.Is(err, errNoAccessToken)
}
