package mcpauth

import (
	"context"
	"fmt"

	"github.com/modelcontextprotocol/go-sdk/mcp"
	"github.com/oauthproxy-go/oauthproxy"
	"golang.org/x/oauth2"
)

// UpstreamTokenSource returns the upstream provider's access token of the
// user who sent req (a *mcp.CallToolRequest …), for calling the provider's
// API as that user:
//
//	ts, err := mcpauth.UpstreamTokenSource(ctx, p, req)
//	if err != nil {
//		return nil, nil, err
//	}
//	resp, err := oauth2.NewClient(ctx, ts).Get("https://api.github.com/user")
//
// It is p.UpstreamTokenSource for the claims TokenVerifier stored for this
// call (ClaimsFromRequest), so it follows the token of each call, not of the
// request that opened the session; see oauthproxy.Proxy.UpstreamTokenSource
// for refresh, pass-through mode and errors. A request that came without
// them gets an error wrapping oauthproxy.ErrInvalidToken.
func UpstreamTokenSource(ctx context.Context, p *oauthproxy.Proxy, req mcp.Request) (oauth2.TokenSource, error) {
	c, ok := ClaimsFromRequest(req)
	if !ok {
		return nil, fmt.Errorf("%w: the request carries no claims from mcpauth.TokenVerifier", oauthproxy.ErrInvalidToken)
	}
	return p.UpstreamTokenSource(ctx, c)
}
