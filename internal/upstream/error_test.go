package upstream

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestError_Error(t *testing.T) {
	tests := []struct {
		err  *Error
		want string
	}{
		{&Error{Code: "invalid_grant", Description: "code expired", StatusCode: 400}, "upstream: invalid_grant: code expired"},
		{&Error{Code: "access_denied", StatusCode: 200}, "upstream: access_denied"},
		{&Error{StatusCode: 503}, "upstream: token endpoint returned HTTP 503 without an OAuth error"},
	}
	for _, tt := range tests {
		t.Run(tt.want, func(t *testing.T) {
			assert.Equal(t, tt.want, tt.err.Error())
		})
	}
}

func TestIsTimeout(t *testing.T) {
	tests := []struct {
		name string
		err  error
		want bool
	}{
		{"nil", nil, false},
		{"plain", errors.New("boom"), false},
		{"canceled", fmt.Errorf("x: %w", context.Canceled), false},
		{"deadline", fmt.Errorf("x: %w", context.DeadlineExceeded), true},
		{"net timeout", &net.OpError{Op: "dial", Err: os.ErrDeadlineExceeded}, true},
		{"net non-timeout", &net.OpError{Op: "dial", Err: errors.New("refused")}, false},
		{"oauth error", &Error{Code: "temporarily_unavailable"}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assert.Equal(t, tt.want, IsTimeout(tt.err))
		})
	}
}

func TestIsInvalidResponse(t *testing.T) {
	tests := []struct {
		name string
		err  error
		want bool
	}{
		{"nil", nil, false},
		{"too large", errTooLarge, true},
		{"malformed", fmt.Errorf("%w: expires_in is not a number", errMalformed), true},
		{"no access_token", errNoAccessToken, true},
		{"connection refused", fmt.Errorf("upstream: token request: %w", &net.OpError{Op: "dial", Err: errors.New("refused")}), false},
		{"timeout", fmt.Errorf("x: %w", context.DeadlineExceeded), false},
		{"oauth error", &Error{Code: "invalid_grant"}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assert.Equal(t, tt.want, IsInvalidResponse(tt.err))
		})
	}
}
