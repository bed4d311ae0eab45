package upstream

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/url"
)

// Revoke asks the upstream's RFC 7009 revocation endpoint to invalidate token,
// with hint "refresh_token" or "access_token" (§2.1). A 200 means revoked or
// unknown, which §2.2 treats alike; anything else is an error that names only
// the status, never the token.
func (c *Client) Revoke(ctx context.Context, endpoint, token, hint string) error {
	form := url.Values{"token": {token}}
	if hint != "" {
		form.Set("token_type_hint", hint)
	}
	resp, err := c.post(ctx, endpoint, form)
	if err != nil {
		return fmt.Errorf("upstream: revocation request: %w", err)
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, maxResponseBytes))
	if resp.StatusCode != http.StatusOK {
		return &Error{StatusCode: resp.StatusCode}
	}
	return nil
}
