package host

import (
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync"
)

// Admission: which handshakes may become connections. A request that is a
// WebSocket handshake for a served endpoint is still refused when its
// browser Origin is not allowed (403) or when the server (503) or the
// client's address (429) already has as many connections as its cap.

// ValidateOrigins reports an entry of Config.AllowedOrigins that can never
// match a browser's Origin header: each must be "*" or SCHEME://HOST[:PORT]
// without a path, query or user.
func ValidateOrigins(origins []string) error {
	for _, o := range origins {
		if o == "*" {
			continue
		}
		if _, err := normalizeOrigin(o); err != nil {
			return fmt.Errorf("%w: allowed origin %q: %w", ErrConfig, o, err)
		}
	}
	return nil
}

// normalizeOrigin returns origin as browsers send it: lower-case
// scheme://host, with the port only when it is not the scheme's default.
func normalizeOrigin(origin string) (string, error) {
	u, err := url.Parse(strings.TrimSuffix(origin, "/"))
	if err != nil {
		return "", errors.New("not a URL")
	}
	switch {
	case u.Scheme == "" || u.Host == "":
		return "", errors.New("want SCHEME://HOST[:PORT], like https://chat.example.com")
	case u.Path != "" || u.RawQuery != "" || u.Fragment != "" || u.User != nil:
		return "", errors.New("an origin has no path, query, fragment or user: want SCHEME://HOST[:PORT]")
	}
	scheme, host := strings.ToLower(u.Scheme), strings.ToLower(u.Host)
	if port := u.Port(); (scheme == "http" && port == "80") || (scheme == "https" && port == "443") {
		host = strings.ToLower(u.Hostname())
		if strings.Contains(host, ":") { // IPv6
			host = "[" + host + "]"
		}
	}
	return scheme + "://" + host, nil
}

// originPolicy is Config.AllowedOrigins made ready to match. Immutable.
type originPolicy struct {
	any     bool
	allowed map[string]struct{}
}

func newOriginPolicy(origins []string) originPolicy {
	p := originPolicy{allowed: make(map[string]struct{}, len(origins))}
	for _, o := range origins {
		if o == "*" {
			p.any = true
			continue
		}
		if n, err := normalizeOrigin(o); err == nil {
			p.allowed[n] = struct{}{}
		}
	}
	return p
}

// originRefusal says why r's Origin may not connect, "" when it may: the
// same origin always may, and so may those of Config.AllowedOrigins;
// Config.CheckOrigin, when set, decides alone.
func (s *Server) originRefusal(r *http.Request) string {
	origin := r.Header.Get("Origin")
	if s.cfg.CheckOrigin != nil {
		if s.cfg.CheckOrigin(r) {
			return ""
		}
		return fmt.Sprintf("origin %q is not allowed to connect: refused by the server's origin check", origin)
	}
	if origin == "" {
		return "" // not a browser: no origin to check
	}
	if _, host, ok := strings.Cut(origin, "://"); ok && strings.EqualFold(host, r.Host) {
		return ""
	}
	if s.origins.any {
		return ""
	}
	if n, err := normalizeOrigin(origin); err == nil {
		if _, ok := s.origins.allowed[n]; ok {
			return ""
		}
	}
	allowed := "only pages served from this host (" + r.Host + ") may connect"
	if len(s.cfg.AllowedOrigins) > 0 {
		allowed = fmt.Sprintf("the allowed origins are this host (%s) and %s", r.Host, strings.Join(s.cfg.AllowedOrigins, ", "))
	}
	return fmt.Sprintf("origin %q is not allowed to connect: %s. To allow it, add it to the allowed origins "+
		"(wshost --allowed-origins=%s, or host.Config.AllowedOrigins; \"*\" allows any origin)", origin, allowed, origin)
}

// connCaps counts the connections admitted under Config.MaxConnections and
// Config.MaxConnectionsPerIP: from before Open until the Close was
// delivered (or the handshake failed).
type connCaps struct {
	mu    sync.Mutex
	total int
	perIP map[string]int // only addresses with connections
}

// clientIP is the address a per-IP cap counts: the host of r.RemoteAddr.
func clientIP(r *http.Request) string {
	if host, _, err := net.SplitHostPort(r.RemoteAddr); err == nil {
		return host
	}
	return r.RemoteAddr
}

// admitConn counts a new connection against the caps, or answers 503 (the
// server is full) or 429 (its address is) and reports false. A true result
// must be paired with releaseConn(ip).
func (s *Server) admitConn(w http.ResponseWriter, r *http.Request) (ip string, ok bool) {
	maxAll, maxIP := s.cfg.MaxConnections, s.cfg.MaxConnectionsPerIP
	if maxAll <= 0 && maxIP <= 0 {
		return "", true
	}
	ip = clientIP(r)
	caps := &s.caps
	caps.mu.Lock()
	switch {
	case maxAll > 0 && caps.total >= maxAll:
		caps.mu.Unlock()
		s.log.Debug("connection refused: server full", "remote", r.RemoteAddr, "max", maxAll)
		http.Error(w, fmt.Sprintf("server full: it already serves its maximum of %d connections "+
			"(--max-connections, host.Config.MaxConnections); try again later", maxAll), http.StatusServiceUnavailable)
		return "", false
	case maxIP > 0 && caps.perIP[ip] >= maxIP:
		caps.mu.Unlock()
		s.log.Debug("connection refused: too many from one address", "remote", r.RemoteAddr, "max", maxIP)
		http.Error(w, fmt.Sprintf("too many connections from %s: at most %d per client address "+
			"(--max-connections-per-ip, host.Config.MaxConnectionsPerIP); close one and try again", ip, maxIP),
			http.StatusTooManyRequests)
		return "", false
	}
	caps.total++
	if maxIP > 0 {
		if caps.perIP == nil {
			caps.perIP = make(map[string]int)
		}
		caps.perIP[ip]++
	}
	caps.mu.Unlock()
	return ip, true
}

// releaseConn gives back what admitConn counted.
func (s *Server) releaseConn(ip string) {
	if s.cfg.MaxConnections <= 0 && s.cfg.MaxConnectionsPerIP <= 0 {
		return
	}
	caps := &s.caps
	caps.mu.Lock()
	caps.total--
	if s.cfg.MaxConnectionsPerIP > 0 {
		if n := caps.perIP[ip] - 1; n > 0 {
			caps.perIP[ip] = n
		} else {
			delete(caps.perIP, ip)
		}
	}
	caps.mu.Unlock()
}

// serveWrongMethod answers a request to /ws/NAME that is not a GET.
func serveWrongMethod(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Allow", "GET")
	http.Error(w, fmt.Sprintf("this is a WebSocket endpoint: the handshake is a GET request, not %s", r.Method),
		http.StatusMethodNotAllowed)
}
