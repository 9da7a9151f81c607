package host_test

import (
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/wshost/wshost/host"
	"github.com/wshost/wshost/host/hosttest"
)

// Open that rejects answers 403 (ErrRejected) or 500 (any other error) and
// no Close follows; its joins, attributes and queued messages are undone.
func TestOpenRejects(t *testing.T) {
	rec := newRecorder(t)
	rec.open = func(ep *host.Endpoint, id host.ConnID) error {
		if err := ep.Join(id, "lobby"); err != nil {
			return err
		}
		if err := ep.ConnSet(id, "nick", "x"); err != nil {
			return err
		}
		if err := ep.Send(id, []byte("welcome"), false); err != nil {
			return err
		}
		switch name, _ := ep.ConnInfo(id, "query.name"); {
		case strings.HasPrefix(name, "reject"):
			return fmt.Errorf("not you: %w", host.ErrRejected)
		case strings.HasPrefix(name, "fail"):
			return errors.New("database down")
		}
		return nil
	}
	srv := newServer(t, host.Config{})
	ep := mount(t, srv, "app", rec, host.Limits{})
	member := srv.Dial(t, "/ws/app?name=member")
	member.Expect("welcome")
	memberID := rec.id(t, "member")

	for _, tc := range []struct {
		name   string
		status int
	}{{"reject", http.StatusForbidden}, {"fail", http.StatusInternalServerError}} {
		_, resp := tryDialRaw(t, srv, "/ws/app?name="+tc.name)
		if resp.StatusCode != tc.status {
			t.Fatalf("%s: HTTP %d, want %d", tc.name, resp.StatusCode, tc.status)
		}
		id := rec.id(t, tc.name)
		if rs := ep.RoomMembers("lobby", nil); !slices.Equal(rs, []host.ConnID{memberID}) {
			t.Errorf("%s: lobby members %v, want only %d", tc.name, rs, memberID)
		}
		if _, err := ep.ConnInfo(id, "attr.nick"); !errors.Is(err, host.ErrNotFound) {
			t.Errorf("%s: attribute after rejection: %v", tc.name, err)
		}
		if err := ep.Send(id, []byte("x"), false); !isGone(err) {
			t.Errorf("%s: send after rejection: %v, want ErrNotFound or ErrClosed", tc.name, err)
		}
		if n, _ := ep.Broadcast("lobby", []byte("b-"+tc.name), false, 0); n != 1 {
			t.Errorf("%s: broadcast reached %d", tc.name, n)
		}
		member.Expect("b-" + tc.name)
	}
	// A gorilla client sees the status too.
	_, resp, err := srv.TryDial("/ws/app?name=reject2", nil)
	if err == nil || resp == nil || resp.StatusCode != http.StatusForbidden {
		t.Fatalf("dial rejected: %v, %v", err, resp)
	}
	// No Close for any of them, even after the endpoint is gone.
	drained := srv.Unmount("app")
	member.ExpectClose(1001)
	select {
	case <-drained:
	case <-time.After(timeout):
		t.Fatal("unmount did not drain")
	}
	for _, name := range []string{"reject", "fail", "reject2"} {
		if evs := rec.events(rec.id(t, name)); len(evs) != 1 {
			t.Errorf("%s: events %v, want only Open", name, evs)
		}
	}
	checkEnding(t, rec.waitClosed(t, memberID), 0, 1001)
}

// What Open sends arrives right after the handshake, before the room's
// broadcasts that race it; Open may also close at once.
func TestOpenSendsFirst(t *testing.T) {
	rec := newRecorder(t)
	rec.open = func(ep *host.Endpoint, id host.ConnID) error {
		_ = ep.Send(id, []byte("welcome 1"), false)
		if err := ep.Join(id, "busy"); err != nil {
			return err
		}
		_ = ep.Send(id, []byte("welcome 2"), false)
		if name, _ := ep.ConnInfo(id, "query.name"); name == "closer" {
			return ep.Close(id, 4002, "go away")
		}
		return nil
	}
	srv := newServer(t, host.Config{})
	ep := mount(t, srv, "app", rec, host.Limits{})

	// Something keeps broadcasting to the room the new connections join.
	stop := make(chan struct{})
	done := make(chan struct{})
	var sent atomic.Int64
	go func() {
		defer close(done)
		for {
			select {
			case <-stop:
				return
			default:
			}
			if n, _ := ep.Broadcast("busy", []byte("noise"), false, 0); n > 0 {
				sent.Add(1)
			}
			time.Sleep(50 * time.Microsecond)
		}
	}()
	defer func() { close(stop); <-done }()

	for i := range 10 {
		c := dialRaw(t, srv, fmt.Sprintf("/ws/app?name=c%d", i))
		if got := c.readMessage(); got != "welcome 1" {
			t.Fatalf("first message %q", got)
		}
		for {
			got := c.readMessage()
			if got == "welcome 2" {
				break
			}
			if got != "noise" {
				t.Fatalf("got %q", got)
			}
		}
		_ = c.nc.Close()
	}
	hosttest.Eventually(t, "some noise", func() bool { return sent.Load() > 0 })

	c := dialRaw(t, srv, "/ws/app?name=closer")
	id := rec.id(t, "closer")
	msgs, reason := c.expectClose(4002)
	if len(msgs) < 2 || msgs[0] != "welcome 1" || reason != "go away" {
		t.Fatalf("got %q then close %q", msgs, reason)
	}
	c.write(closeFrame(4002, ""))
	c.expectEOF()
	closeEv, _ := checkEnding(t, rec.waitClosed(t, id), 0, 4002)
	if closeEv.Data != "go away" {
		t.Errorf("reason %q", closeEv.Data)
	}
}

// Requests that are not WebSocket handshakes get a 400 that says what is
// missing; no Open runs for them.
func TestHandshakeProblems(t *testing.T) {
	rec := newRecorder(t)
	srv := newServer(t, host.Config{})
	mount(t, srv, "echo", rec, host.Limits{})
	hp := hostPort(srv)
	cases := []struct {
		name   string
		lines  []string
		status int
		body   string
	}{
		{"plain GET", []string{"GET /ws/echo HTTP/1.1", "Host: " + hp}, 400, "'Upgrade: websocket'"},
		{"no Connection", []string{"GET /ws/echo HTTP/1.1", "Host: " + hp, "Upgrade: websocket",
			"Sec-WebSocket-Key: " + wsKey(), "Sec-WebSocket-Version: 13"}, 400, "'Connection: Upgrade'"},
		{"Connection keep-alive", []string{"GET /ws/echo HTTP/1.1", "Host: " + hp, "Upgrade: websocket", "Connection: keep-alive",
			"Sec-WebSocket-Key: " + wsKey(), "Sec-WebSocket-Version: 13"}, 400, "'Connection: Upgrade'"},
		{"version 8", []string{"GET /ws/echo HTTP/1.1", "Host: " + hp, "Upgrade: websocket", "Connection: Upgrade",
			"Sec-WebSocket-Key: " + wsKey(), "Sec-WebSocket-Version: 8"}, 400, "Sec-WebSocket-Version"},
		{"no key", []string{"GET /ws/echo HTTP/1.1", "Host: " + hp, "Upgrade: websocket", "Connection: Upgrade",
			"Sec-WebSocket-Version: 13"}, 400, "Sec-WebSocket-Key"},
		{"unknown plugin", []string{"GET /ws/nope HTTP/1.1", "Host: " + hp, "Upgrade: websocket", "Connection: Upgrade",
			"Sec-WebSocket-Key: " + wsKey(), "Sec-WebSocket-Version: 13"}, 404, "/ws/nope"},
		{"invalid name", []string{"GET /ws/Echo HTTP/1.1", "Host: " + hp, "Upgrade: websocket", "Connection: Upgrade",
			"Sec-WebSocket-Key: " + wsKey(), "Sec-WebSocket-Version: 13"}, 404, ""},
		{"unknown plugin plain GET", []string{"GET /ws/nope HTTP/1.1", "Host: " + hp}, 404, ""},
		{"other path", []string{"GET /index.html HTTP/1.1", "Host: " + hp}, 404, ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			resp, body := rawRequest(t, srv, tc.lines...)
			if resp.StatusCode != tc.status || !strings.Contains(body, tc.body) {
				t.Errorf("HTTP %d %q; want %d with %q", resp.StatusCode, body, tc.status, tc.body)
			}
		})
	}
	if n := rec.numOpened(); n != 0 {
		t.Errorf("Open ran %d times", n)
	}
	// Upgrade and Connection tokens are case-insensitive and may be lists.
	c, resp := tryDialRaw(t, srv, "/ws/echo?name=ok")
	if resp.StatusCode != 101 {
		t.Fatalf("HTTP %d", resp.StatusCode)
	}
	c.write(textFrame("x"))
	if got := c.readMessage(); got != "x" {
		t.Errorf("echo %q", got)
	}
	resp, _ = rawRequest(t, srv, "GET /ws/echo?name=mixed HTTP/1.1", "Host: "+hp, "Upgrade: WebSocket",
		"Connection: keep-alive, upgrade", "Sec-WebSocket-Key: "+wsKey(), "Sec-WebSocket-Version: 13")
	if resp.StatusCode != 101 {
		t.Errorf("mixed-case tokens: HTTP %d", resp.StatusCode)
	}
}

// A browser's Origin must be the same origin by default; Config.CheckOrigin
// replaces that rule.
func TestOrigin(t *testing.T) {
	rec := newRecorder(t)
	srv := newServer(t, host.Config{})
	mount(t, srv, "echo", rec, host.Limits{})
	same := "http://" + hostPort(srv)
	for _, tc := range []struct {
		origin string
		status int
	}{
		{"", 101},
		{same, 101},
		{strings.ToUpper(same[:4]) + same[4:], 101},
		{"https://evil.example", 403},
		{"http://" + hostPort(srv) + ".evil.example", 403},
		{"null", 403},
	} {
		var extra []string
		if tc.origin != "" {
			extra = []string{"Origin: " + tc.origin}
		}
		_, resp := tryDialRaw(t, srv, "/ws/echo?name=o", extra...)
		if resp.StatusCode != tc.status {
			t.Errorf("origin %q: HTTP %d, want %d", tc.origin, resp.StatusCode, tc.status)
		}
	}
	opened := rec.numOpened()
	if opened != 3 {
		t.Errorf("%d opened, want 3: Open must not run for a refused origin", opened)
	}

	rec2 := newRecorder(t)
	srv2 := newServer(t, host.Config{CheckOrigin: func(r *http.Request) bool {
		return r.Header.Get("Origin") == "https://trusted.example"
	}})
	mount(t, srv2, "echo", rec2, host.Limits{})
	for _, tc := range []struct {
		origin string
		status int
	}{
		{"https://trusted.example", 101},
		{"http://" + hostPort(srv2), 403},
		{"https://evil.example", 403},
	} {
		_, resp := tryDialRaw(t, srv2, "/ws/echo?name=o", "Origin: "+tc.origin)
		if resp.StatusCode != tc.status {
			t.Errorf("CheckOrigin, origin %q: HTTP %d, want %d", tc.origin, resp.StatusCode, tc.status)
		}
	}
}

// /healthz answers 503 until SetReady(true), then 200.
func TestHealthz(t *testing.T) {
	srv := newServer(t, host.Config{})
	get := func() int {
		resp, _ := rawRequest(t, srv, "GET /healthz HTTP/1.1", "Host: "+hostPort(srv))
		return resp.StatusCode
	}
	if s := get(); s != 503 {
		t.Errorf("before ready: %d", s)
	}
	srv.SetReady(true)
	if s := get(); s != 200 {
		t.Errorf("ready: %d", s)
	}
	srv.SetReady(false)
	if s := get(); s != 503 {
		t.Errorf("not ready again: %d", s)
	}
}

// Config.Pages serves the other paths.
func TestPages(t *testing.T) {
	srv := newServer(t, host.Config{Pages: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprint(w, "page "+r.URL.Path)
	})})
	resp, body := rawRequest(t, srv, "GET /chat.html HTTP/1.1", "Host: "+hostPort(srv))
	if resp.StatusCode != 200 || body != "page /chat.html" {
		t.Errorf("HTTP %d %q", resp.StatusCode, body)
	}
}
