package host

import (
	"net/http"
	"net/http/httptest"
	"net/netip"
	"testing"
)

func TestForwardedClient(t *testing.T) {
	trusted := []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8"), netip.MustParsePrefix("::1/128")}
	for _, tc := range []struct {
		name, peer string
		xff        []string
		realIP     string
		want       string // "" : not forwarded
	}{
		{"untrusted peer ignores headers", "192.0.2.1:1000", []string{"203.0.113.9"}, "203.0.113.8", ""},
		{"trusted peer, one hop", "10.0.0.1:1000", []string{"203.0.113.9"}, "", "203.0.113.9"},
		{"right-most untrusted hop wins over spoofed left", "10.0.0.1:1000", []string{"6.6.6.6, 203.0.113.9"}, "", "203.0.113.9"},
		{"trusted hops are skipped", "10.0.0.1:1000", []string{"6.6.6.6, 203.0.113.9, 10.1.1.1"}, "", "203.0.113.9"},
		{"several header lines", "10.0.0.1:1000", []string{"6.6.6.6", "203.0.113.9, 10.1.1.1"}, "", "203.0.113.9"},
		{"all trusted: left-most", "10.0.0.1:1000", []string{"10.2.2.2, 10.1.1.1"}, "", "10.2.2.2"},
		{"garbage stops at the nearest proxy", "10.0.0.1:1000", []string{"203.0.113.9, junk, 10.1.1.1"}, "", "10.1.1.1"},
		{"hop with port", "10.0.0.1:1000", []string{"203.0.113.9:5555"}, "", "203.0.113.9"},
		{"ipv6 hop", "[::1]:1000", []string{"2001:db8::7"}, "", "2001:db8::7"},
		{"mapped ipv4 peer", "[::ffff:10.0.0.1]:1000", []string{"203.0.113.9"}, "", "203.0.113.9"},
		{"X-Real-IP without XFF", "10.0.0.1:1000", nil, "203.0.113.7", "203.0.113.7"},
		{"bad X-Real-IP", "10.0.0.1:1000", nil, "nope", ""},
		{"no headers", "10.0.0.1:1000", nil, "", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := http.Header{}
			for _, v := range tc.xff {
				h.Add("X-Forwarded-For", v)
			}
			if tc.realIP != "" {
				h.Set("X-Real-IP", tc.realIP)
			}
			ip, ok := forwardedClient(tc.peer, h, trusted)
			got := ""
			if ok {
				got = ip.String()
			}
			if got != tc.want {
				t.Fatalf("got %q, want %q", got, tc.want)
			}
		})
	}
}

func TestClientAddrShape(t *testing.T) {
	s := New(Config{TrustedProxies: []netip.Prefix{netip.MustParsePrefix("127.0.0.1/32")}})
	r := httptest.NewRequest("GET", "/ws/x", nil)
	r.RemoteAddr = "127.0.0.1:4444"
	r.Header.Set("X-Forwarded-For", "127.0.0.2")
	if got := s.clientAddr(r); got != "127.0.0.2:0" {
		t.Fatalf("forwarded: %q", got)
	}
	r.Header.Del("X-Forwarded-For")
	if got := s.clientAddr(r); got != "127.0.0.1:4444" {
		t.Fatalf("not forwarded: %q", got)
	}
	s = New(Config{})
	r.Header.Set("X-Forwarded-For", "127.0.0.2")
	if got := s.clientAddr(r); got != "127.0.0.1:4444" {
		t.Fatalf("no trusted proxies: %q", got)
	}
}
