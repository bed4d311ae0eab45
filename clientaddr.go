package oauthproxy

import (
	"context"
	"errors"
	"fmt"
	"iter"
	"net/http"
	"net/netip"
	"slices"
	"strings"
)

// maxForwardedHops bounds how many list elements of a forwarding header are
// read, from the right: a client can send a header of up to a megabyte, and no
// real chain of proxies is 16 deep.
const maxForwardedHops = 16

// clientAddr is the one place that decides which address a request comes from
// (S20): the IP of the TCP peer, without port. Only when the peer is one of the
// trusted proxies are X-Forwarded-For and Forwarded (RFC 7239) believed; they
// are read from the right, where the trusted proxies appended, skipping trusted
// hops, and the first untrusted hop is the client. Everything to its left was
// written by the client and is ignored. A malformed or over-long header, or two
// headers that name different clients, leave the peer's address. A RemoteAddr
// that is not an IP (a custom server) is returned as it is.
func clientAddr(r *http.Request, trusted []netip.Prefix) string {
	peer, ok := parseHop(r.RemoteAddr)
	if !ok {
		return r.RemoteAddr
	}
	if isTrustedProxy(peer, trusted) {
		if client, ok := forwardedClient(r.Header, trusted); ok {
			return client.String()
		}
	}
	return hopText(peer, r.RemoteAddr)
}

// hopText is addr.String() for the address parseHop read from hop. An IPv4
// hop's host part is already that text (netip reads only the canonical
// dotted quad: no leading zeros, four fields), so it is returned as a slice
// of hop instead of a new string (issue 16: every request names its client).
func hopText(addr netip.Addr, hop string) string {
	host := hop
	if i := strings.LastIndexByte(hop, ':'); i >= 0 {
		host = hop[:i]
	}
	// An IPv4-mapped IPv6 hop ("[::ffff:a.b.c.d]:port") is Is4 after
	// canonicalAddr but not written as one: it has brackets and colons.
	if addr.Is4() && strings.IndexByte(host, ':') < 0 && !strings.HasPrefix(host, "[") {
		return host
	}
	return addr.String()
}

// forwardedClient reads the client from the forwarding headers a trusted proxy
// sent. When both are present they must agree: a proxy that sets one header
// passes the other through from the client, so disagreement means a forgery.
func forwardedClient(h http.Header, trusted []netip.Prefix) (netip.Addr, bool) {
	xff, xffOK := walkHops(h.Values("X-Forwarded-For"), parseHop, trusted)
	fwd, fwdOK := walkHops(h.Values("Forwarded"), parseForwardedElement, trusted)
	_, hasXFF := h["X-Forwarded-For"]
	_, hasFwd := h["Forwarded"]
	switch {
	case hasXFF && hasFwd:
		return xff, xffOK && fwdOK && xff == fwd
	case hasXFF:
		return xff, xffOK
	case hasFwd:
		return fwd, fwdOK
	}
	return netip.Addr{}, false
}

// walkHops returns the right-most hop that is not a trusted proxy, or, when
// every hop is trusted, the left-most one (the client is inside the trusted
// network). It gives up on a hop it cannot parse or after maxForwardedHops.
func walkHops(lines []string, parse func(string) (netip.Addr, bool), trusted []netip.Prefix) (netip.Addr, bool) {
	var last netip.Addr
	seen := 0
	for hop := range hopsFromRight(lines) {
		if seen++; seen > maxForwardedHops {
			return netip.Addr{}, false
		}
		if hop == "" {
			continue // RFC 9110 §5.6.1: empty list elements are allowed and mean nothing
		}
		addr, ok := parse(hop)
		if !ok {
			return netip.Addr{}, false
		}
		if !isTrustedProxy(addr, trusted) {
			return addr, true
		}
		last = addr
	}
	return last, last.IsValid()
}

// hopsFromRight yields the comma-separated elements of header lines, last line
// and last element first, trimmed; only what is consumed is scanned.
func hopsFromRight(lines []string) iter.Seq[string] {
	return func(yield func(string) bool) {
		for i := len(lines) - 1; i >= 0; i-- {
			rest := lines[i]
			for {
				j := strings.LastIndexByte(rest, ',')
				if !yield(strings.Trim(rest[j+1:], " \t")) {
					return
				}
				if j < 0 {
					break
				}
				rest = rest[:j]
			}
		}
	}
}

// parseHop reads "ip", "ip:port" or "[ipv6]:port", as RemoteAddr and
// X-Forwarded-For carry it.
func parseHop(s string) (netip.Addr, bool) {
	// At most one of the two forms parses; the likelier one is tried first,
	// as a failed parse allocates its error (RemoteAddr always has a port,
	// which an IPv4 "ip:port" shows by its single colon).
	withPort := strings.HasPrefix(s, "[") || strings.Count(s, ":") == 1
	addr, ok := parseAddr(s, withPort)
	if !ok {
		if addr, ok = parseAddr(s, !withPort); !ok {
			return netip.Addr{}, false
		}
	}
	return canonicalAddr(addr), true
}

// parseAddr reads s as "ip:port" (withPort) or a bare "ip".
func parseAddr(s string, withPort bool) (netip.Addr, bool) {
	if withPort {
		ap, err := netip.ParseAddrPort(s)
		return ap.Addr(), err == nil
	}
	addr, err := netip.ParseAddr(s)
	return addr, err == nil
}

// parseForwardedElement reads the for= node of one RFC 7239 §4 element, such
// as `for=192.0.2.60;proto=https` or `for="[2001:db8::17]:4711"`. "unknown"
// and obfuscated identifiers (§6) name no address, so they count as malformed.
func parseForwardedElement(element string) (netip.Addr, bool) {
	for pair := range strings.SplitSeq(element, ";") {
		name, value, ok := strings.Cut(strings.TrimSpace(pair), "=")
		if !ok || !strings.EqualFold(name, "for") {
			continue
		}
		if len(value) >= 2 && value[0] == '"' && value[len(value)-1] == '"' {
			value = value[1 : len(value)-1]
		}
		if strings.HasPrefix(value, "[") {
			// §6: an IPv6 node is bracketed, with or without a port.
			end := strings.IndexByte(value, ']')
			if end < 0 || (end+1 < len(value) && value[end+1] != ':') {
				return netip.Addr{}, false
			}
			if end+1 < len(value) {
				return parseHop(value)
			}
			value = value[1:end]
		}
		return parseHop(value)
	}
	return netip.Addr{}, false
}

// canonicalAddr drops an IPv6 zone and unmaps IPv4-mapped IPv6, so one client
// has one spelling and IPv4 prefixes match it.
func canonicalAddr(a netip.Addr) netip.Addr {
	return a.WithZone("").Unmap()
}

func isTrustedProxy(a netip.Addr, trusted []netip.Prefix) bool {
	return slices.ContainsFunc(trusted, func(p netip.Prefix) bool { return p.Contains(a) })
}

// parseTrustedProxies reads Config.TrustedProxies: CIDRs ("10.0.0.0/8") or
// single addresses ("10.0.0.1"), reporting every bad entry.
func parseTrustedProxies(list []string) ([]netip.Prefix, error) {
	var out []netip.Prefix
	var errs []error
	for _, s := range list {
		if p, err := netip.ParsePrefix(s); err == nil {
			if p.Addr().Is4In6() || p.Addr().Zone() != "" {
				errs = append(errs, fmt.Errorf("TrustedProxies: %q: write IPv4 ranges as IPv4, without zones", s))
				continue
			}
			out = append(out, p.Masked())
			continue
		}
		a, err := netip.ParseAddr(s)
		if err != nil {
			errs = append(errs, fmt.Errorf("TrustedProxies: %q is neither a CIDR nor an IP address", s))
			continue
		}
		a = canonicalAddr(a)
		out = append(out, netip.PrefixFrom(a, a.BitLen()))
	}
	return out, errors.Join(errs...)
}

// requestContext is r's context carrying the client's address, for the audit
// events of the typed methods a handler calls.
func (p *Proxy) requestContext(r *http.Request) context.Context {
	return WithRemoteAddr(r.Context(), clientAddr(r, p.cfg.trustedProxies))
}
