package host_test

import (
	"errors"
	"strings"
	"sync"
	"testing"

	"github.com/wshost/wshost/host"
	"github.com/wshost/wshost/host/hosttest"
)

// The peer closes with 4001 and a reason: the handler gets Close(4001,
// reason) without Error, the server echoes the code and drops the TCP
// connection.
func TestPeerClose(t *testing.T) {
	rec := newRecorder(t)
	srv := newServer(t, host.Config{})
	mount(t, srv, "echo", rec, host.Limits{})

	c := dialRaw(t, srv, "/ws/echo?name=a")
	id := rec.id(t, "a")
	c.write(textFrame("hi"), closeFrame(4001, "going home"))
	msgs, _ := c.expectClose(4001)
	if len(msgs) != 1 || msgs[0] != "hi" {
		t.Errorf("before the close frame: %q, want [hi]", msgs)
	}
	c.expectEOF()
	closeEv, _ := checkEnding(t, rec.waitClosed(t, id), 0, 4001)
	if closeEv.Data != "going home" {
		t.Errorf("close reason %q, want %q", closeEv.Data, "going home")
	}
}

// A close frame without a body is reported as 1005.
func TestPeerCloseNoStatus(t *testing.T) {
	rec := newRecorder(t)
	srv := newServer(t, host.Config{})
	mount(t, srv, "echo", rec, host.Limits{})

	c := dialRaw(t, srv, "/ws/echo?name=a")
	id := rec.id(t, "a")
	c.write(frame(true, 0, opClose, nil, true))
	c.expectClose(1005)
	checkEnding(t, rec.waitClosed(t, id), 0, 1005)
}

// The TCP connection drops without a close frame: Error(IO), Close(1006).
func TestAbruptClose(t *testing.T) {
	rec := newRecorder(t)
	srv := newServer(t, host.Config{})
	mount(t, srv, "echo", rec, host.Limits{})

	c := dialRaw(t, srv, "/ws/echo?name=a")
	id := rec.id(t, "a")
	c.write(textFrame("one"))
	if got := c.readMessage(); got != "one" {
		t.Fatalf("echo %q", got)
	}
	_ = c.nc.Close()
	evs := rec.waitClosed(t, id)
	_, errEv := checkEnding(t, evs, host.KindIO, 1006)
	if !strings.Contains(errEv.Data, "without a close frame") {
		t.Errorf("IO error text %q", errEv.Data)
	}
	if got := messages(evs); len(got) != 1 || got[0] != "one" {
		t.Errorf("messages %q", got)
	}
}

// Endpoint.Close: what was queued before arrives first, then the close frame
// with the handler's code and reason; later sends answer ErrClosed, also in
// the handler's own Close.
func TestEndpointClose(t *testing.T) {
	rec := newRecorder(t)
	var mu sync.Mutex
	var sendAfterClose, sendInClose, closeTwice error
	rec.message = func(ep *host.Endpoint, id host.ConnID, msg []byte, binary bool) error {
		if string(msg) != "bye" {
			return echo(ep, id, msg, binary)
		}
		for _, m := range []string{"q1", "q2", "q3"} {
			if err := ep.Send(id, []byte(m), false); err != nil {
				t.Errorf("send %s: %v", m, err)
			}
		}
		if err := ep.Close(id, 4000, "bye"); err != nil {
			t.Errorf("close: %v", err)
		}
		mu.Lock()
		defer mu.Unlock()
		sendAfterClose = ep.Send(id, []byte("late"), false)
		closeTwice = ep.Close(id, 4000, "again")
		return nil
	}
	rec.onClose = func(ep *host.Endpoint, id host.ConnID, _ int, _ string) {
		mu.Lock()
		defer mu.Unlock()
		sendInClose = ep.Send(id, []byte("in close"), false)
	}
	srv := newServer(t, host.Config{})
	mount(t, srv, "echo", rec, host.Limits{})

	c := dialRaw(t, srv, "/ws/echo?name=a")
	id := rec.id(t, "a")
	c.write(textFrame("bye"))
	msgs, reason := c.expectClose(4000)
	if strings.Join(msgs, ",") != "q1,q2,q3" || reason != "bye" {
		t.Errorf("got %q then close 4000 %q; want q1,q2,q3 then %q", msgs, reason, "bye")
	}
	c.write(closeFrame(4000, ""))
	c.expectEOF()
	closeEv, _ := checkEnding(t, rec.waitClosed(t, id), 0, 4000)
	if closeEv.Data != "bye" {
		t.Errorf("Close reason %q, want bye", closeEv.Data)
	}
	mu.Lock()
	defer mu.Unlock()
	for what, err := range map[string]error{"send after close": sendAfterClose, "close twice": closeTwice, "send in Close": sendInClose} {
		if !errors.Is(err, host.ErrClosed) {
			t.Errorf("%s: %v, want ErrClosed", what, err)
		}
	}
}

// Endpoint.Close checks its arguments before anything else.
func TestEndpointCloseArgs(t *testing.T) {
	rec := newRecorder(t)
	srv := newServer(t, host.Config{})
	ep := mount(t, srv, "echo", rec, host.Limits{})
	c := srv.Dial(t, "/ws/echo?name=a")
	id := rec.id(t, "a")

	for _, code := range []int{0, 999, 1001, 1002, 1005, 1006, 1011, 1015, 2999, 5000, 65535, -1} {
		if err := ep.Close(id, code, ""); !errors.Is(err, host.ErrBadArg) {
			t.Errorf("close code %d: %v, want ErrBadArg", code, err)
		}
	}
	if err := ep.Close(id, 4000, "\xff"); !errors.Is(err, host.ErrBadArg) {
		t.Errorf("invalid UTF-8 reason: %v, want ErrBadArg", err)
	}
	if err := ep.Close(id, 4000, strings.Repeat("x", 124)); !errors.Is(err, host.ErrTooLarge) {
		t.Errorf("124-byte reason: %v, want ErrTooLarge", err)
	}
	if err := ep.Close(id+1000, 4000, ""); !errors.Is(err, host.ErrNotFound) {
		t.Errorf("unknown connection: %v, want ErrNotFound", err)
	}
	if err := ep.Send(id+1000, []byte("x"), false); !errors.Is(err, host.ErrNotFound) {
		t.Errorf("send to unknown connection: %v, want ErrNotFound", err)
	}
	// The connection is still open: none of the above closed it.
	if got := c.Call("still here"); got != "still here" {
		t.Fatalf("echo %q", got)
	}
	// 3000, 4999 and a 123-byte reason are fine.
	reason := strings.Repeat("r", 123)
	if err := ep.Close(id, 4999, reason); err != nil {
		t.Fatalf("close 4999: %v", err)
	}
	c.ExpectClose(4999)
	closeEv, _ := checkEnding(t, rec.waitClosed(t, id), 0, 4999)
	if closeEv.Data != reason {
		t.Errorf("reason %q", closeEv.Data)
	}
	for _, code := range []int{1000, 3000} {
		c2 := srv.Dial(t, "/ws/echo?name=c"+string(rune('0'+code/1000)))
		id2 := rec.id(t, "c"+string(rune('0'+code/1000)))
		if err := ep.Close(id2, code, ""); err != nil {
			t.Fatalf("close %d: %v", code, err)
		}
		c2.ExpectClose(code)
		checkEnding(t, rec.waitClosed(t, id2), 0, code)
	}
}

// Send checks size and UTF-8 before the connection.
func TestSendArgs(t *testing.T) {
	rec := newRecorder(t)
	srv := newServer(t, host.Config{})
	ep := mount(t, srv, "echo", rec, host.Limits{MaxMessageBytes: 100})
	c := srv.Dial(t, "/ws/echo?name=a")
	id := rec.id(t, "a")
	if err := ep.Send(id, make([]byte, 101), true); !errors.Is(err, host.ErrTooLarge) {
		t.Errorf("101 bytes: %v, want ErrTooLarge", err)
	}
	if err := ep.Send(id, []byte("a\xffb"), false); !errors.Is(err, host.ErrBadArg) {
		t.Errorf("invalid UTF-8 text: %v, want ErrBadArg", err)
	}
	if err := ep.Send(id, []byte("a\xffb"), true); err != nil {
		t.Errorf("the same bytes as binary: %v", err)
	}
	if err := ep.Send(id, []byte(strings.Repeat("z", 100)), false); err != nil {
		t.Errorf("exactly the limit: %v", err)
	}
	if _, msg := c.Read(); string(msg) != "a\xffb" {
		t.Errorf("got %q", msg)
	}
	if got := c.ReadText(); len(got) != 100 {
		t.Errorf("got %d bytes", len(got))
	}
	hosttest.EventuallyEqual(t, "opened", 1, rec.numOpened)
}
