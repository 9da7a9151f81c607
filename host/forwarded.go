package host

import (
	"net"
	"net/http"
	"net/netip"
	"strings"
)

// Forwarded client addresses: behind a reverse proxy every TCP peer is the
// proxy, so the client's own address travels in X-Forwarded-For (each proxy
// appends the address it got the request from) or X-Real-IP. Anyone can
// send those headers, so they are believed only from Config.TrustedProxies,
// and in X-Forwarded-For only up to the first hop that is not trusted:
// everything left of it was written by the client.

// clientAddr is r's client address as IP:PORT: r.RemoteAddr, unless its
// peer is a trusted proxy that forwarded the client's address (then
// CLIENT-IP:0, the proxy not forwarding the client's port).
func (s *Server) clientAddr(r *http.Request) string {
	if len(s.cfg.TrustedProxies) == 0 {
		return r.RemoteAddr
	}
	if ip, ok := forwardedClient(r.RemoteAddr, r.Header, s.cfg.TrustedProxies); ok {
		return netip.AddrPortFrom(ip, 0).String()
	}
	return r.RemoteAddr
}

// forwardedClient returns the client address that trusted proxies
// forwarded for a request from peer (IP:PORT), and false when peer is not
// trusted or forwarded nothing usable.
func forwardedClient(peer string, h http.Header, trusted []netip.Prefix) (netip.Addr, bool) {
	host, _, err := net.SplitHostPort(peer)
	if err != nil {
		host = peer
	}
	ip, err := netip.ParseAddr(host)
	if err != nil || !isTrusted(ip, trusted) {
		return netip.Addr{}, false
	}
	var hops []string
	for _, v := range h.Values("X-Forwarded-For") {
		hops = append(hops, strings.Split(v, ",")...)
	}
	if len(hops) > 0 {
		// Right to left: the right-most hop was written by the peer, each
		// one left of a trusted hop by that trusted proxy.
		client := ip
		for i := len(hops) - 1; i >= 0; i-- {
			hop, ok := parseHop(hops[i])
			if !ok {
				break // garbage: the nearest proxy's address is all we know
			}
			client = hop
			if !isTrusted(hop, trusted) {
				break
			}
		}
		return client, client != ip
	}
	if hop, ok := parseHop(h.Get("X-Real-IP")); ok {
		return hop, true
	}
	return netip.Addr{}, false
}

// parseHop parses one X-Forwarded-For entry: an IP, maybe with a port
// ("1.2.3.4:5678", "[::1]:5678") as some proxies write it.
func parseHop(s string) (netip.Addr, bool) {
	s = strings.TrimSpace(s)
	if ap, err := netip.ParseAddrPort(s); err == nil {
		return ap.Addr().Unmap(), true
	}
	ip, err := netip.ParseAddr(strings.Trim(s, "[]"))
	if err != nil || ip.Zone() != "" {
		return netip.Addr{}, false
	}
	return ip.Unmap(), true
}

func isTrusted(ip netip.Addr, trusted []netip.Prefix) bool {
	ip = ip.Unmap()
	for _, p := range trusted {
		if p.Contains(ip) {
			return true
		}
	}
	return false
}
