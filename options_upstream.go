package oauthproxy

import (
	"errors"
	"fmt"
	"maps"
	"slices"

	"github.com/oauthproxy-go/oauthproxy/internal/upstream"
)

// upstreamClientDefaults checks how the proxy authenticates at the upstream
// token endpoint (RFC 6749 §2.3.1) and what else it sends there.
func (s *settings) upstreamClientDefaults() error {
	var errs []error
	switch s.UpstreamTokenEndpointAuthMethod {
	case "":
		s.UpstreamTokenEndpointAuthMethod = AuthMethodClientSecretBasic
	case AuthMethodClientSecretBasic, AuthMethodClientSecretPost, AuthMethodNone:
	default:
		errs = append(errs, fmt.Errorf("UpstreamTokenEndpointAuthMethod %q is not one of %q, %q, %q",
			s.UpstreamTokenEndpointAuthMethod, AuthMethodClientSecretBasic, AuthMethodClientSecretPost, AuthMethodNone))
	}
	switch {
	case s.UpstreamTokenEndpointAuthMethod == AuthMethodNone && s.UpstreamClientSecret != "":
		// A public client has no secret (RFC 6749 §2.1). A secret here means
		// one of the two settings is wrong: a confidential client would fail
		// every sign-in with invalid_client, so say so now, not at login.
		errs = append(errs, errors.New(`UpstreamClientSecret must be empty when UpstreamTokenEndpointAuthMethod is "none" (a public client has no secret)`))
	case s.UpstreamTokenEndpointAuthMethod != AuthMethodNone && s.UpstreamClientSecret == "":
		errs = append(errs, errors.New(`UpstreamClientSecret is required (or set UpstreamTokenEndpointAuthMethod to "none" for a public upstream client)`))
	}
	for _, name := range slices.Sorted(maps.Keys(s.ExtraTokenParams)) {
		switch {
		case name == "":
			errs = append(errs, errors.New("ExtraTokenParams has an empty parameter name"))
		case upstream.ReservedTokenParam(name):
			errs = append(errs, fmt.Errorf("ExtraTokenParams may not set %q: the proxy sets it", name))
		}
	}
	return errors.Join(errs...)
}
