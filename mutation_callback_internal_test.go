package oauthproxy

import (
	"fmt"
	"testing"

	"github.com/oauthproxy-go/oauthproxy/internal/upstream"
	"github.com/stretchr/testify/assert"
)

// Edges of the callback code that mutation testing found unpinned
// (docs/mutation.md). Named TestMethods_HandleCallback… so scripts/mutate.sh's
// selection for the callback group runs them.

// TestMethods_HandleCallback_UpstreamFailureMapping: what a client sees for
// each kind of upstream token-endpoint failure (S18): temporarily_unavailable
// exactly for the transient HTTP statuses without an OAuth error; the
// upstream's relayable code with its sanitized description (and no dangling
// colon without one); invalid_grant only at the proxy's token endpoint.
func TestMethods_HandleCallback_UpstreamFailureMapping(t *testing.T) {
	const refused = "the identity provider refused the request"
	for _, tc := range []struct {
		err     *upstream.Error
		atToken bool
		code    string
		desc    string
	}{
		{&upstream.Error{StatusCode: 502}, false, ErrCodeTemporarilyUnavailable, ""},
		{&upstream.Error{StatusCode: 503}, true, ErrCodeTemporarilyUnavailable, ""},
		{&upstream.Error{StatusCode: 504}, false, ErrCodeTemporarilyUnavailable, ""},
		{&upstream.Error{StatusCode: 429}, true, ErrCodeTemporarilyUnavailable, ""},
		{&upstream.Error{StatusCode: 500}, false, ErrCodeServerError, refused},
		{&upstream.Error{StatusCode: 501}, true, ErrCodeServerError, refused},
		{&upstream.Error{StatusCode: 400}, false, ErrCodeServerError, refused},
		// An OAuth error is relayed whatever the status.
		{&upstream.Error{Code: "invalid_request", StatusCode: 503}, false, ErrCodeInvalidRequest, refused},
		{&upstream.Error{Code: "invalid_request", Description: "bad <thing>", StatusCode: 400}, true,
			ErrCodeInvalidRequest, refused + ": bad thing"},
		{&upstream.Error{Code: "invalid_scope", Description: "<>", StatusCode: 400}, false, ErrCodeInvalidScope, refused},
		// invalid_grant is not an authorization-response code: only the
		// token endpoint passes it on, as "the grant is gone".
		{&upstream.Error{Code: "invalid_grant", Description: "expired", StatusCode: 400}, true,
			ErrCodeInvalidGrant, refused + ": expired"},
		{&upstream.Error{Code: "invalid_grant", StatusCode: 400}, false, ErrCodeServerError, refused},
	} {
		name := fmt.Sprintf("%+v at token endpoint %v", *tc.err, tc.atToken)
		got := upstreamFailure(tc.err, tc.atToken)
		assert.Equal(t, tc.code, got.Code, name)
		if tc.desc != "" {
			assert.Equal(t, tc.desc, got.Description, name)
		}
	}
}
