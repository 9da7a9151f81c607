package host_test

import (
	"errors"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/wshost/wshost/host"
	"github.com/wshost/wshost/host/hosttest"
)

func faultyMessage(ep *host.Endpoint, id host.ConnID, msg []byte, binary bool) error {
	switch string(msg) {
	case "panic":
		panic("boom")
	case "panic-error":
		panic(errors.New("boom as an error"))
	case "fault":
		return fmt.Errorf("trap: on_message: unreachable: %w", host.ErrFault)
	case "error":
		return errors.New("just an error")
	}
	return echo(ep, id, msg, binary)
}

// A handler that panics in Message does not take the process down: the
// panic is a fault, reported with Error(Fault) to that connection, which
// stays open and keeps being served in order. A returned ErrFault is
// reported the same way; another error is only counted.
func TestHandlerPanicInMessage(t *testing.T) {
	rec := newRecorder(t)
	rec.message = faultyMessage
	srv := newServer(t, host.Config{})
	ep := mount(t, srv, "f", rec, host.Limits{})
	c := srv.Dial(t, "/ws/f?name=a")
	id := rec.id(t, "a")
	for _, m := range []string{"one", "panic", "two", "panic-error", "fault", "error", "three"} {
		c.Send(m)
	}
	c.Expect("one")
	c.Expect("two")
	c.Expect("three")
	// Other connections are served all along.
	if got := srv.Dial(t, "/ws/f?name=b").Call("hi"); got != "hi" {
		t.Fatalf("other connection: %q", got)
	}
	if n := ep.HandlerErrors(); n != 1 {
		t.Errorf("HandlerErrors %d, want 1", n)
	}
	_ = c.Close()
	evs := rec.waitClosed(t, id)
	checkEnding(t, evs, host.KindIO, 1006)
	var faults []string
	var seq []string
	for _, e := range evs {
		switch e.Kind {
		case evMessage:
			seq = append(seq, e.Data)
		case evError:
			if e.ErrKind == host.KindFault {
				faults = append(faults, e.Data)
				seq = append(seq, "FAULT")
			}
		}
	}
	if want := "one panic FAULT two panic-error FAULT fault FAULT error three"; strings.Join(seq, " ") != want {
		t.Errorf("events %q, want %q", strings.Join(seq, " "), want)
	}
	if len(faults) == 3 {
		for i, want := range []string{"boom", "boom as an error"} {
			if !strings.HasPrefix(faults[i], "panic:") || !strings.Contains(faults[i], "Message") || !strings.Contains(faults[i], want) {
				t.Errorf("fault text %q: want a panic in Message with %q", faults[i], want)
			}
		}
		if !strings.HasPrefix(faults[2], "trap: on_message") {
			t.Errorf("fault text %q", faults[2])
		}
	}
}

// With CloseOnFault, a faulted connection is closed with 1011.
func TestHandlerPanicCloseOnFault(t *testing.T) {
	rec := newRecorder(t)
	rec.message = faultyMessage
	srv := newServer(t, host.Config{})
	mount(t, srv, "f", rec, host.Limits{CloseOnFault: true})
	c := srv.Dial(t, "/ws/f?name=a")
	id := rec.id(t, "a")
	c.Send("one")
	c.Send("panic")
	if before := c.ExpectClose(1011); len(before) != 1 || before[0] != "one" {
		t.Errorf("before the close: %q", before)
	}
	evs := rec.waitClosed(t, id)
	checkEnding(t, evs, 0, 1011)
	if e := evs[len(evs)-2]; e.Kind != evError || e.ErrKind != host.KindFault {
		t.Errorf("events %v: want Error(Fault) before Close", evs)
	}
}

// A panic in Open is a fault: 500, no Close, its joins undone, and the
// endpoint still drains on Unmount (nothing is left registered).
func TestHandlerPanicInOpen(t *testing.T) {
	rec := newRecorder(t)
	rec.open = func(ep *host.Endpoint, id host.ConnID) error {
		if err := ep.Join(id, "room"); err != nil {
			return err
		}
		if name, _ := ep.ConnInfo(id, "query.name"); name == "bad" {
			panic("open exploded")
		}
		return nil
	}
	srv := newServer(t, host.Config{})
	ep := mount(t, srv, "f", rec, host.Limits{})
	_, resp := tryDialRaw(t, srv, "/ws/f?name=bad")
	if resp.StatusCode != http.StatusInternalServerError {
		t.Fatalf("HTTP %d, want 500", resp.StatusCode)
	}
	id := rec.id(t, "bad")
	if n := ep.RoomSize("room"); n != 0 {
		t.Errorf("room size %d after the faulted Open", n)
	}
	if err := ep.Send(id, []byte("x"), false); !isGone(err) {
		t.Errorf("send: %v, want ErrNotFound or ErrClosed", err)
	}
	c := srv.Dial(t, "/ws/f?name=good")
	if got := c.Call("ok"); got != "ok" {
		t.Fatalf("echo %q", got)
	}
	drained := srv.Unmount("f")
	c.ExpectClose(1001)
	select {
	case <-drained:
	case <-time.After(timeout):
		t.Fatal("Unmount never drained: the faulted connection is still registered")
	}
	if evs := rec.events(id); len(evs) != 1 {
		t.Errorf("faulted Open: events %v, want only Open", evs)
	}
}

// Panics in Error and Close do not stop the host from finishing the
// connection: Close still follows Error, the rooms are left, and the
// endpoint drains.
func TestHandlerPanicInErrorAndClose(t *testing.T) {
	rec := newRecorder(t)
	rec.open = func(ep *host.Endpoint, id host.ConnID) error { return ep.Join(id, "room") }
	rec.message = faultyMessage
	rec.onError = func(*host.Endpoint, host.ConnID, host.ErrorKind, string) { panic("error exploded") }
	rec.onClose = func(*host.Endpoint, host.ConnID, int, string) { panic("close exploded") }
	srv := newServer(t, host.Config{})
	ep := mount(t, srv, "f", rec, host.Limits{})

	c := srv.Dial(t, "/ws/f?name=a")
	id := rec.id(t, "a")
	c.Send("panic") // Message panics, then Error panics too
	c.Send("still")
	c.Expect("still")
	_ = c.Close()
	evs := rec.waitClosed(t, id)
	checkEnding(t, evs, host.KindIO, 1006)
	hosttest.EventuallyEqual(t, "room size", 0, func() int { return ep.RoomSize("room") })
	if err := ep.Send(id, []byte("x"), false); !isGone(err) {
		t.Errorf("send after Close: %v, want ErrNotFound or ErrClosed", err)
	}

	c2 := srv.Dial(t, "/ws/f?name=b")
	if got := c2.Call("served"); got != "served" {
		t.Fatalf("echo %q", got)
	}
	drained := srv.Unmount("f")
	c2.ExpectClose(1001)
	select {
	case <-drained:
	case <-time.After(timeout):
		t.Fatal("Unmount never drained")
	}
}
