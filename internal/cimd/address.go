package cimd

import (
	"context"
	"errors"
	"net/netip"
	"syscall"
)

// errBlockedAddress is the cause when the dial check refuses an address.
var errBlockedAddress = errors.New("cimd: refusing to connect to a non-public address")

// nonPublic lists special-purpose ranges (IANA IPv4 and IPv6 Special-Purpose Address
// Registries) that netip's own predicates do not cover but that must never be fetched from:
// they are shared, reserved, documentation, or embed an IPv4 address that could be private.
var nonPublic = []netip.Prefix{
	netip.MustParsePrefix("0.0.0.0/8"),       // "this network" (RFC 791); 0.0.0.0 reaches localhost
	netip.MustParsePrefix("100.64.0.0/10"),   // shared address space, CGNAT (RFC 6598)
	netip.MustParsePrefix("192.0.0.0/24"),    // IETF protocol assignments (RFC 6890)
	netip.MustParsePrefix("192.0.2.0/24"),    // TEST-NET-1 (RFC 5737)
	netip.MustParsePrefix("192.88.99.0/24"),  // 6to4 relay anycast, deprecated (RFC 7526)
	netip.MustParsePrefix("198.18.0.0/15"),   // benchmarking (RFC 2544)
	netip.MustParsePrefix("198.51.100.0/24"), // TEST-NET-2 (RFC 5737)
	netip.MustParsePrefix("203.0.113.0/24"),  // TEST-NET-3 (RFC 5737)
	netip.MustParsePrefix("240.0.0.0/4"),     // reserved, and 255.255.255.255 broadcast (RFC 1112)
	netip.MustParsePrefix("::/96"),           // unspecified, loopback, IPv4-compatible (RFC 4291)
	netip.MustParsePrefix("::ffff:0:0:0/96"), // IPv4-translated (RFC 2765)
	netip.MustParsePrefix("64:ff9b::/96"),    // NAT64 well-known prefix, embeds IPv4 (RFC 6052)
	netip.MustParsePrefix("64:ff9b:1::/48"),  // NAT64 local use (RFC 8215)
	netip.MustParsePrefix("100::/64"),        // discard-only (RFC 6666)
	netip.MustParsePrefix("2001::/23"),       // IETF protocol assignments, incl. Teredo (RFC 2928, 4380)
	netip.MustParsePrefix("2001:db8::/32"),   // documentation (RFC 3849)
	netip.MustParsePrefix("2002::/16"),       // 6to4, embeds IPv4 (RFC 3056)
	netip.MustParsePrefix("3fff::/20"),       // documentation (RFC 9637)
	netip.MustParsePrefix("5f00::/16"),       // SRv6 SIDs (RFC 9602)
	netip.MustParsePrefix("fec0::/10"),       // site-local, deprecated (RFC 3879)
}

// isPublicAddress reports whether a is a global unicast address that a metadata fetch may
// connect to. It refuses loopback, private (RFC 1918, fc00::/7), link-local (169.254/16,
// fe80::/10), unspecified, multicast, CGNAT, 0.0.0.0/8, the special-purpose ranges above,
// and the IPv4-mapped IPv6 form (::ffff:a.b.c.d) of every refused IPv4 address.
func isPublicAddress(a netip.Addr) bool {
	a = a.Unmap()
	if !a.IsValid() || a.Zone() != "" {
		return false
	}
	if !a.IsGlobalUnicast() || a.IsPrivate() {
		// IsGlobalUnicast is false for loopback, link-local, multicast and unspecified.
		return false
	}
	for _, p := range nonPublic {
		if p.Contains(a) {
			return false
		}
	}
	return true
}

// dialControl is the net.Dialer ControlContext hook: it runs after DNS resolution, on the very
// address about to be connected to, before the connect system call. A check before resolution
// (or on a separate lookup) could be bypassed by DNS rebinding; this one cannot.
func dialControl(_ context.Context, network, address string, _ syscall.RawConn) error {
	switch network {
	case "tcp4", "tcp6":
	default:
		return errBlockedAddress
	}
	ap, err := netip.ParseAddrPort(address)
	if err != nil || !isPublicAddress(ap.Addr()) {
		return errBlockedAddress
	}
	return nil
}
