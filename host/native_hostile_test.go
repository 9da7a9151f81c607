package host_test

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/wshost/wshost/host"
	"github.com/wshost/wshost/host/hosttest"
)

// Tests of what the host does against hostile or broken clients: origins,
// rate limits, connection caps, bad and slow handshakes.

func readBody(t testing.TB, resp *http.Response) string {
	t.Helper()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("read body: %v", err)
	}
	return string(b)
}

// Config.AllowedOrigins lets the listed origins' pages connect besides the
// same origin; "*" any. A refusal says which origin and how to allow it.
func TestAllowedOrigins(t *testing.T) {
	rec := newRecorder(t)
	srv := newServer(t, host.Config{AllowedOrigins: []string{"https://chat.example.com", "http://localhost:3000/"}})
	mount(t, srv, "echo", rec, host.Limits{})
	for _, tc := range []struct {
		origin string
		status int
	}{
		{"", 101},
		{"http://" + hostPort(srv), 101},
		{"https://chat.example.com", 101},
		{"HTTPS://Chat.Example.COM", 101},
		{"https://chat.example.com:443", 101},
		{"http://localhost:3000", 101},
		{"http://chat.example.com", 403}, // another scheme is another origin
		{"https://chat.example.com:8443", 403},
		{"http://localhost:3001", 403},
		{"https://evil.example", 403},
		{"null", 403},
	} {
		var extra []string
		if tc.origin != "" {
			extra = []string{"Origin: " + tc.origin}
		}
		_, resp := tryDialRaw(t, srv, "/ws/echo?name=o", extra...)
		if resp.StatusCode != tc.status {
			t.Errorf("origin %q: HTTP %d, want %d", tc.origin, resp.StatusCode, tc.status)
			continue
		}
		if tc.status == 403 {
			body := readBody(t, resp)
			for _, want := range []string{fmt.Sprintf("%q", tc.origin), "--allowed-origins", "https://chat.example.com"} {
				if !strings.Contains(body, want) {
					t.Errorf("origin %q: body %q does not contain %q", tc.origin, body, want)
				}
			}
		}
	}
	if n := rec.numOpened(); n != 6 {
		t.Errorf("%d opened, want 6: Open must not run for a refused origin", n)
	}

	// The default, same origin only, says how to allow another.
	recDefault := newRecorder(t) // before its server: checked after it shut down
	srvDefault := newServer(t, host.Config{})
	mount(t, srvDefault, "echo", recDefault, host.Limits{})
	_, resp := tryDialRaw(t, srvDefault, "/ws/echo", "Origin: https://chat.example.com")
	body := readBody(t, resp)
	if resp.StatusCode != 403 || !strings.Contains(body, `"https://chat.example.com"`) ||
		!strings.Contains(body, "--allowed-origins=https://chat.example.com") {
		t.Errorf("default: HTTP %d %q", resp.StatusCode, body)
	}

	// "*" allows any origin.
	recAny := newRecorder(t) // before its server: checked after it shut down
	srvAny := newServer(t, host.Config{AllowedOrigins: []string{"*"}})
	mount(t, srvAny, "echo", recAny, host.Limits{})
	for _, origin := range []string{"https://evil.example", "null", "http://" + hostPort(srvAny)} {
		if _, resp := tryDialRaw(t, srvAny, "/ws/echo", "Origin: "+origin); resp.StatusCode != 101 {
			t.Errorf("*: origin %q: HTTP %d", origin, resp.StatusCode)
		}
	}

	// CheckOrigin decides alone.
	recCheck := newRecorder(t) // before its server: checked after it shut down
	srvCheck := newServer(t, host.Config{AllowedOrigins: []string{"*"}, CheckOrigin: func(*http.Request) bool { return false }})
	mount(t, srvCheck, "echo", recCheck, host.Limits{})
	_, resp = tryDialRaw(t, srvCheck, "/ws/echo", "Origin: https://chat.example.com")
	if body := readBody(t, resp); resp.StatusCode != 403 || !strings.Contains(body, "origin check") {
		t.Errorf("CheckOrigin: HTTP %d %q", resp.StatusCode, body)
	}
}

func TestValidateOrigins(t *testing.T) {
	if err := host.ValidateOrigins([]string{"*", "https://a.example", "http://localhost:3000", "https://a.example/", "http://[::1]:8080"}); err != nil {
		t.Errorf("valid origins: %v", err)
	}
	for _, bad := range []string{"", "a.example", "https://a.example/chat", "https://a.example?x=1", "https://u@a.example", "*.example.com"} {
		err := host.ValidateOrigins([]string{bad})
		if !errors.Is(err, host.ErrConfig) || !strings.Contains(err.Error(), fmt.Sprintf("%q", bad)) {
			t.Errorf("origin %q: %v, want ErrConfig naming it", bad, err)
		}
	}
}

// Past its message rate a connection gets Error(Protocol, "rate limit: …")
// and Close(1008); the replies queued before still arrive before the close
// frame, and nothing past the limit is dispatched.
func TestRateLimitMessages(t *testing.T) {
	rec := newRecorder(t)
	srv := newServer(t, host.Config{})
	mount(t, srv, "echo", rec, host.Limits{RateMessages: 1, RateMessagesBurst: 3})
	c := dialRaw(t, srv, "/ws/echo?name=flood")
	id := rec.id(t, "flood")
	c.write(textFrame("1"), textFrame("2"), textFrame("3"), textFrame("4"), textFrame("5"))
	msgs, reason := c.expectClose(1008)
	if strings.Join(msgs, ",") != "1,2,3" {
		t.Errorf("echoes before the close frame %q, want 1,2,3", msgs)
	}
	if reason != "rate limit exceeded" {
		t.Errorf("close reason %q", reason)
	}
	c.write(closeFrame(1008, ""))
	c.expectEOF()
	evs := rec.waitClosed(t, id)
	_, errEv := checkEnding(t, evs, host.KindProtocol, 1008)
	if !strings.HasPrefix(errEv.Data, "rate limit: ") || !strings.Contains(errEv.Data, "1 messages per second (burst 3)") {
		t.Errorf("error text %q", errEv.Data)
	}
	if got := messages(evs); strings.Join(got, ",") != "1,2,3" {
		t.Errorf("dispatched %q, want 1,2,3", got)
	}
}

func TestRateLimitBytes(t *testing.T) {
	rec := newRecorder(t)
	srv := newServer(t, host.Config{})
	mount(t, srv, "echo", rec, host.Limits{MaxMessageBytes: 100, RateBytes: 10, RateBytesBurst: 100})
	c := dialRaw(t, srv, "/ws/echo?name=big")
	id := rec.id(t, "big")
	a, b := strings.Repeat("a", 60), strings.Repeat("b", 40)
	c.write(textFrame(a), textFrame(b), textFrame(strings.Repeat("c", 20)))
	msgs, _ := c.expectClose(1008)
	if len(msgs) != 2 || msgs[0] != a || msgs[1] != b {
		t.Errorf("echoes before the close frame %.30q, want the first two", msgs)
	}
	c.write(closeFrame(1008, ""))
	evs := rec.waitClosed(t, id)
	_, errEv := checkEnding(t, evs, host.KindProtocol, 1008)
	if !strings.Contains(errEv.Data, "10 bytes per second (burst 100)") || !strings.Contains(errEv.Data, "20 bytes") {
		t.Errorf("error text %q", errEv.Data)
	}
}

// A client within its rate is never cut off: the buckets refill.
func TestRateLimitRefills(t *testing.T) {
	rec := newRecorder(t)
	srv := newServer(t, host.Config{})
	mount(t, srv, "echo", rec, host.Limits{RateMessages: 50, RateMessagesBurst: 1, RateBytes: 5000, MaxMessageBytes: 100})
	c := srv.Dial(t, "/ws/echo?name=polite")
	for i := range 5 {
		if i > 0 {
			time.Sleep(40 * time.Millisecond) // a token takes 20ms
		}
		msg := fmt.Sprint("m", i)
		if got := c.Call(msg); got != msg {
			t.Fatalf("echo %q, want %q", got, msg)
		}
	}
	if evs := rec.events(rec.id(t, "polite")); len(evs) != 6 {
		t.Errorf("events %v", evs)
	}
}

func TestRateLimitValidation(t *testing.T) {
	for _, l := range []host.Limits{
		{RateMessages: -1},
		{RateBytes: 10, RateBytesBurst: -1},
		{RateMessagesBurst: 5},
		{RateBytesBurst: 5},
		{RateBytes: 1000, RateBytesBurst: 1000}, // cannot take a 1 MiB message
		{MaxMessageBytes: 100, RateBytes: 10, RateBytesBurst: 99},
	} {
		if err := l.Validate(); !errors.Is(err, host.ErrConfig) {
			t.Errorf("%+v: %v, want ErrConfig", l, err)
		}
	}
	l := host.Limits{RateMessages: 7, RateBytes: 10}.WithDefaults()
	if l.RateMessagesBurst != 7 || l.RateBytesBurst != host.DefaultMaxMessageBytes {
		t.Errorf("default bursts %d, %d", l.RateMessagesBurst, l.RateBytesBurst)
	}
	if err := l.Validate(); err != nil {
		t.Errorf("defaults: %v", err)
	}
	if l := (host.Limits{}).WithDefaults(); l.RateMessagesBurst != 0 || l.RateBytesBurst != 0 {
		t.Errorf("no rates, bursts %d, %d", l.RateMessagesBurst, l.RateBytesBurst)
	}
}

// dialFrom tries the handshake from local address ip and returns the status
// (0 when that address cannot be used here).
func dialFrom(t *testing.T, srv *hosttest.Server, ip, path string) int {
	t.Helper()
	d := net.Dialer{Timeout: timeout, LocalAddr: &net.TCPAddr{IP: net.ParseIP(ip)}}
	nc, err := d.Dial("tcp", hostPort(srv))
	if err != nil {
		t.Logf("dial from %s: %v", ip, err)
		return 0
	}
	t.Cleanup(func() { _ = nc.Close() })
	_ = nc.SetDeadline(time.Now().Add(timeout))
	fmt.Fprintf(nc, "GET %s HTTP/1.1\r\nHost: %s\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"+
		"Sec-WebSocket-Key: %s\r\nSec-WebSocket-Version: 13\r\n\r\n", path, hostPort(srv), wsKey())
	resp, err := http.ReadResponse(bufio.NewReader(nc), nil)
	if err != nil {
		t.Fatalf("handshake from %s: %v", ip, err)
	}
	return resp.StatusCode
}

// Config.MaxConnections: a connection counts from before Open, so a full
// server answers 503 while Opens are still running; rejected and failed
// Opens give their place back.
func TestMaxConnections(t *testing.T) {
	gate := make(chan struct{})
	rec := newRecorder(t)
	rec.open = func(ep *host.Endpoint, id host.ConnID) error {
		switch name, _ := ep.ConnInfo(id, "query.name"); {
		case strings.HasPrefix(name, "hold"):
			select {
			case <-gate:
			case <-time.After(timeout):
			}
		case strings.HasPrefix(name, "reject"):
			return host.ErrRejected
		case strings.HasPrefix(name, "fail"):
			return errors.New("boom")
		}
		return nil
	}
	srv := newServer(t, host.Config{MaxConnections: 3})
	mount(t, srv, "echo", rec, host.Limits{})

	var wg sync.WaitGroup
	held := make([]*hosttest.Client, 3)
	for i := range held {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c, _, err := srv.TryDial(fmt.Sprintf("/ws/echo?name=hold%d", i), nil)
			if err != nil {
				t.Errorf("hold%d: %v", i, err)
				return
			}
			held[i] = c
		}()
	}
	hosttest.EventuallyEqual(t, "three Opens running", 3, rec.numOpened)
	_, resp := tryDialRaw(t, srv, "/ws/echo?name=extra")
	if body := readBody(t, resp); resp.StatusCode != 503 || !strings.Contains(body, "server full") || !strings.Contains(body, "3 connections") {
		t.Errorf("full server: HTTP %d %q", resp.StatusCode, body)
	}
	close(gate)
	wg.Wait()
	if t.Failed() {
		t.FailNow()
	}
	for _, c := range held {
		c.Bind(t)
	}
	if n := rec.numOpened(); n != 3 {
		t.Errorf("Open ran %d times, want 3: not for a refused connection", n)
	}
	_, resp = tryDialRaw(t, srv, "/ws/echo?name=extra2")
	if resp.StatusCode != 503 {
		t.Errorf("still full: HTTP %d", resp.StatusCode)
	}

	// One leaves: its place is free once its Close was delivered.
	held[0].Send("bye")
	held[0].Expect("bye")
	_ = held[0].Close()
	var next *rawClient
	hosttest.Eventually(t, "a free place", func() bool {
		c, resp := tryDialRaw(t, srv, "/ws/echo?name=next")
		next = c
		return resp.StatusCode == 101
	})
	next.write(textFrame("hi"))
	if got := next.readMessage(); got != "hi" {
		t.Errorf("echo %q", got)
	}

	// Full again; now free two places and fill them with Opens that reject
	// or fail, many times: each gives its place back.
	if _, resp := tryDialRaw(t, srv, "/ws/echo?name=extra3"); resp.StatusCode != 503 {
		t.Errorf("full again: HTTP %d", resp.StatusCode)
	}
	_ = held[1].Close()
	_ = held[2].Close()
	hosttest.EventuallyEqual(t, "two connections left", 1, func() int { total, _ := host.AdmittedConns(srv.Server); return total })
	for i := range 10 {
		name, want := "reject", 403
		if i%2 == 1 {
			name, want = "fail", 500
		}
		if _, resp := tryDialRaw(t, srv, fmt.Sprintf("/ws/echo?name=%s%d", name, i)); resp.StatusCode != want {
			t.Fatalf("%s%d: HTTP %d, want %d", name, i, resp.StatusCode, want)
		}
	}
	if total, _ := host.AdmittedConns(srv.Server); total != 1 {
		t.Errorf("admitted %d after rejections, want 1", total)
	}
	for i := range 2 {
		dialRaw(t, srv, fmt.Sprintf("/ws/echo?name=last%d", i))
	}
}

// Config.MaxConnectionsPerIP answers 429 past the cap of one address;
// other addresses are not affected.
func TestMaxConnectionsPerIP(t *testing.T) {
	rec := newRecorder(t)
	srv := newServer(t, host.Config{MaxConnectionsPerIP: 2})
	mount(t, srv, "echo", rec, host.Limits{})
	a := srv.Dial(t, "/ws/echo?name=a")
	srv.Dial(t, "/ws/echo?name=b")
	_, resp := tryDialRaw(t, srv, "/ws/echo?name=c")
	if body := readBody(t, resp); resp.StatusCode != 429 || !strings.Contains(body, "127.0.0.1") || !strings.Contains(body, "at most 2") {
		t.Errorf("third from 127.0.0.1: HTTP %d %q", resp.StatusCode, body)
	}
	if status := dialFrom(t, srv, "127.0.0.2", "/ws/echo?name=other"); status != 0 && status != 101 {
		t.Errorf("from 127.0.0.2: HTTP %d, want 101", status)
	}
	_ = a.Close()
	hosttest.Eventually(t, "a free place for 127.0.0.1", func() bool {
		_, resp := tryDialRaw(t, srv, "/ws/echo?name=d")
		return resp.StatusCode == 101
	})
}

// Under concurrency the cap holds: never more live connections than it.
func TestMaxConnectionsConcurrent(t *testing.T) {
	const capacity, clients = 4, 40
	var live, peak atomic.Int32
	rec := newRecorder(t)
	rec.open = func(*host.Endpoint, host.ConnID) error {
		n := live.Add(1)
		for p := peak.Load(); n > p && !peak.CompareAndSwap(p, n); p = peak.Load() {
		}
		return nil
	}
	rec.onClose = func(*host.Endpoint, host.ConnID, int, string) { live.Add(-1) }
	srv := newServer(t, host.Config{MaxConnections: capacity, MaxConnectionsPerIP: capacity})
	mount(t, srv, "echo", rec, host.Limits{})
	var wg sync.WaitGroup
	var accepted, refused atomic.Int32
	for i := range clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c, resp, err := srv.TryDial(fmt.Sprintf("/ws/echo?name=c%d", i), nil)
			if err != nil {
				if resp == nil || (resp.StatusCode != 503 && resp.StatusCode != 429) {
					t.Errorf("c%d: %v", i, err)
				}
				refused.Add(1)
				return
			}
			accepted.Add(1)
			time.Sleep(5 * time.Millisecond)
			_ = c.Close()
		}()
	}
	wg.Wait()
	if p := peak.Load(); p > capacity {
		t.Errorf("peak of %d live connections, over the cap of %d", p, capacity)
	}
	if accepted.Load() == 0 {
		t.Errorf("none accepted (%d refused)", refused.Load())
	}
	hosttest.EventuallyEqual(t, "every place given back", [2]int{0, 0}, func() [2]int {
		total, addrs := host.AdmittedConns(srv.Server)
		return [2]int{total, addrs}
	})
}

// A request to /ws/NAME that is not a GET gets a 405 that says so.
func TestHandshakeWrongMethod(t *testing.T) {
	rec := newRecorder(t)
	srv := newServer(t, host.Config{})
	mount(t, srv, "echo", rec, host.Limits{})
	hp := hostPort(srv)
	for _, method := range []string{"POST", "PUT", "DELETE"} {
		resp, body := rawRequest(t, srv, method+" /ws/echo HTTP/1.1", "Host: "+hp, "Upgrade: websocket",
			"Connection: Upgrade", "Sec-WebSocket-Key: "+wsKey(), "Sec-WebSocket-Version: 13", "Content-Length: 0")
		if resp.StatusCode != 405 || resp.Header.Get("Allow") != "GET" || !strings.Contains(body, "GET request, not "+method) {
			t.Errorf("%s: HTTP %d (Allow %q) %q", method, resp.StatusCode, resp.Header.Get("Allow"), body)
		}
	}
	// As a proxy that drops hop-by-hop headers would send it.
	resp, body := rawRequest(t, srv, "GET /ws/echo HTTP/1.1", "Host: "+hp, "Upgrade: websocket",
		"Sec-WebSocket-Key: "+wsKey(), "Sec-WebSocket-Version: 13")
	if resp.StatusCode != 400 || !strings.Contains(body, "'Connection: Upgrade'") || !strings.Contains(body, "proxy") {
		t.Errorf("no Connection: HTTP %d %q", resp.StatusCode, body)
	}
	if n := rec.numOpened(); n != 0 {
		t.Errorf("Open ran %d times", n)
	}
}

// runServer serves srv with Server.Run on 127.0.0.1 until cleanup.
func runServer(t *testing.T, cfg host.Config) (*host.Server, string) {
	t.Helper()
	if cfg.Logger == nil {
		cfg.Logger = testLogger()
	}
	srv := host.New(cfg)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- srv.Run(ctx, ln, timeout) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("run: %v", err)
		}
	})
	return srv, ln.Addr().String()
}

// A client that sends its request header slowly (slowloris) or stops half
// way is cut off after Config.HandshakeTimeout; a connection that completed
// its handshake is not.
func TestSlowHandshakeCutOff(t *testing.T) {
	const handshakeTimeout = 300 * time.Millisecond
	rec := newRecorder(t)
	srv, addr := runServer(t, host.Config{HandshakeTimeout: handshakeTimeout})
	if _, err := srv.Mount("echo", rec, host.Limits{}); err != nil {
		t.Fatal(err)
	}
	dial := func() net.Conn {
		nc, err := net.DialTimeout("tcp", addr, timeout)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = nc.Close() })
		return nc
	}

	// A completed handshake outlives the timeout.
	ok := dial()
	key := wsKey()
	fmt.Fprintf(ok, "GET /ws/echo HTTP/1.1\r\nHost: %s\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"+
		"Sec-WebSocket-Key: %s\r\nSec-WebSocket-Version: 13\r\n\r\n", addr, key)
	okr := bufio.NewReader(ok)
	_ = ok.SetReadDeadline(time.Now().Add(timeout))
	resp, err := http.ReadResponse(okr, nil)
	if err != nil || resp.StatusCode != 101 {
		t.Fatalf("handshake: %v %v", resp, err)
	}

	for _, tc := range []struct {
		name    string
		trickle bool
	}{{"half a request line", false}, {"one byte at a time", true}} {
		t.Run(tc.name, func(t *testing.T) {
			nc := dial()
			start := time.Now()
			if _, err := io.WriteString(nc, "GET /ws/echo HT"); err != nil {
				t.Fatal(err)
			}
			rest := []byte("TP/1.1\r\nHost: " + addr + "\r\nX-Slow: ")
			buf := make([]byte, 512)
			for {
				if time.Since(start) > timeout {
					t.Fatal("the server did not cut off the slow client")
				}
				if tc.trickle {
					b := byte('a')
					if len(rest) > 0 {
						b, rest = rest[0], rest[1:]
					}
					_, _ = nc.Write([]byte{b}) // fails once the server is gone
				}
				_ = nc.SetReadDeadline(time.Now().Add(50 * time.Millisecond))
				n, err := nc.Read(buf)
				var ne net.Error
				if errors.As(err, &ne) && ne.Timeout() {
					continue
				}
				if n > 0 && !strings.HasPrefix(string(buf[:n]), "HTTP/1.1 4") {
					t.Errorf("unexpected answer %q", buf[:n])
				}
				break // EOF, a reset or an error answer: cut off
			}
			if d := time.Since(start); d < handshakeTimeout-50*time.Millisecond || d > handshakeTimeout+2*time.Second {
				t.Errorf("cut off after %v, want about %v", d, handshakeTimeout)
			}
		})
	}

	// The upgraded connection still works, well past the timeout.
	if _, err := ok.Write(textFrame("still here")); err != nil {
		t.Fatal(err)
	}
	c := &rawClient{t: t, nc: ok, br: okr}
	if got := c.readMessage(); got != "still here" {
		t.Errorf("echo %q", got)
	}
	if n := rec.numOpened(); n != 1 {
		t.Errorf("Open ran %d times", n)
	}
}
