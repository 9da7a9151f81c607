//go:build linux

package host_test

import (
	"bytes"
	"fmt"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/wshost/wshost/host"
	"github.com/wshost/wshost/host/hosttest"
)

// readerWaits says where the connections' readers wait: idle (parked, or
// in the shallow wait on the socket), or inside gorilla/websocket's
// NextReader.
func readerWaits(srv *hosttest.Server) (idle, inGorilla int) {
	fresh, inPlace, inGorilla := readerGoroutines()
	return srv.ParkedReaders() + fresh + inPlace, inGorilla
}

// readerGoroutines says where the connections' readers wait: in the idle
// wait in a goroutine started for it (fresh) or in the one that read the
// last message (inPlace), or inside gorilla/websocket's NextReader.
func readerGoroutines() (fresh, inPlace, inGorilla int) {
	buf := make([]byte, 1<<20)
	for {
		n := runtime.Stack(buf, true)
		if n < len(buf) {
			buf = buf[:n]
			break
		}
		buf = make([]byte, 2*len(buf))
	}
	for _, g := range bytes.Split(buf, []byte("\n\n")) {
		run := bytes.Contains(g, []byte("host.(*reader).run"))
		switch {
		case bytes.Contains(g, []byte("host.(*idleReader).awaitData")) && run:
			inPlace++
		case bytes.Contains(g, []byte("host.(*idleReader).awaitData")):
			fresh++
		case run && bytes.Contains(g, []byte("websocket.(*Conn).NextReader")):
			inGorilla++
		}
	}
	return fresh, inPlace, inGorilla
}

func waitShallow(t *testing.T, srv *hosttest.Server, what string) {
	t.Helper()
	hosttest.Eventually(t, what, func() bool {
		s, g := readerWaits(srv)
		return s == 1 && g == 0
	})
}

// An idle reader is parked, or waits on the socket in a shallow frame, not
// in NextReader; messages that arrive in pieces, several in one segment,
// and pongs (which the wait consumes itself) are all handled on that path.
func TestIdleReaderWaitsOnTheSocket(t *testing.T) {
	rec := newRecorder(t)
	srv := newServer(t, host.Config{})
	mount(t, srv, "iw", rec, host.Limits{})
	c := dialRaw(t, srv, "/ws/iw?name=a")
	id := rec.id(t, "a")
	hosttest.Eventually(t, "the reader is parked after the handshake", func() bool {
		f, p, g := readerGoroutines()
		return srv.ParkedReaders() == 1 && f+p+g == 0
	})

	// A message in pieces: the wait ends with its first bytes, and gorilla
	// reads the rest.
	f := textFrame("in pieces")
	c.write(f[:3])
	hosttest.Eventually(t, "the reader reads the message's frame", func() bool {
		_, g := readerWaits(srv)
		return g == 1
	})
	c.write(f[3:])
	if got := c.readMessage(); got != "in pieces" {
		t.Fatalf("echo %q", got)
	}
	waitShallow(t, srv, "the reader waits on the socket again")

	// Two messages in one segment: the second is already in gorilla's
	// buffer when the first is handled, so the reader does not wait.
	c.write(textFrame("one"), textFrame("two"))
	for _, want := range []string{"one", "two"} {
		if got := c.readMessage(); got != want {
			t.Fatalf("echo %q, want %q", got, want)
		}
	}
	waitShallow(t, srv, "the reader waits on the socket after two")

	// Pongs: alone, several with a message behind them in one segment,
	// with a payload; the wait takes them and the message comes through.
	pong := frame(true, 0, opPong, nil, true)
	c.write(pong) // unsolicited, as RFC 6455 allows: it parks the reader
	hosttest.Eventually(t, "a pong parks the reader", func() bool {
		f, p, g := readerGoroutines()
		return srv.ParkedReaders() == 1 && f+p+g == 0
	})
	c.write(pong, frame(true, 0, opPong, []byte(strings.Repeat("p", 125)), true), textFrame("after pongs"))
	if got := c.readMessage(); got != "after pongs" {
		t.Fatalf("echo %q", got)
	}
	waitShallow(t, srv, "the reader waits on the socket after pongs")

	// A pong split across segments is left to gorilla, which reads it whole;
	// the next message brings the reader back to the wait.
	c.write(pong[:1])
	hosttest.Eventually(t, "gorilla reads the split pong", func() bool {
		_, g := readerWaits(srv)
		return g == 1
	})
	c.write(pong[1:])
	c.write(textFrame("after a split pong"))
	if got := c.readMessage(); got != "after a split pong" {
		t.Fatalf("echo %q", got)
	}
	waitShallow(t, srv, "the reader waits on the socket after the split pong")

	c.write(closeFrame(1000, "bye"))
	c.expectClose(1000)
	if got := messages(rec.waitClosed(t, id)); strings.Join(got, "|") != "in pieces|one|two|after pongs|after a split pong" {
		t.Errorf("messages %q", got)
	}
}

// Pongs taken by the idle wait keep the connection alive as gorilla's pong
// handler does: a client that answers every ping with a raw pong frame, and
// sends nothing else, outlives many idle timeouts without its reader
// leaving the wait (each ping unparks it to wait for the pong, each pong
// parks it again); one that stops answering is dropped.
func TestIdleWaitPongsExtendTheDeadline(t *testing.T) {
	rec := newRecorder(t)
	srv := newServer(t, host.Config{PingInterval: 50 * time.Millisecond, PongTimeout: 50 * time.Millisecond})
	mount(t, srv, "iw", rec, host.Limits{})
	c := dialRaw(t, srv, "/ws/iw?name=a")
	id := rec.id(t, "a")
	// After a message the reader waits in the goroutine that handled it.
	c.write(textFrame("hi"))
	if got := c.readMessage(); got != "hi" {
		t.Fatalf("echo %q", got)
	}
	hosttest.Eventually(t, "the reader waits where it handled the message", func() bool {
		f, p, g := readerGoroutines()
		return f == 0 && p == 1 && g == 0
	})
	for pings := 0; pings < 10; {
		f, err := c.readFrame(timeout)
		if err != nil {
			t.Fatalf("after %d pings: %v (events %v)", pings, err, rec.events(id))
		}
		if f.op != opPing {
			t.Fatalf("frame op %d, want a ping", f.op)
		}
		pings++
		c.write(frame(true, 0, opPong, f.payload, true))
		// Had gorilla read the pong, its reader would stay in NextReader.
		// Parked until the next ping, then waiting for its pong in a fresh
		// goroutine: never in the goroutine that handled the message, nor
		// in gorilla.
		hosttest.Eventually(t, "the reader idles after a pong", func() bool {
			f, p, g := readerGoroutines()
			return srv.ParkedReaders()+f == 1 && p+g == 0
		})
	}
	if rec.isClosed(id) {
		t.Fatalf("dropped although it answered: %v", rec.events(id))
	}
	// Now silent: dropped after PingInterval+PongTimeout.
	evs := rec.waitClosed(t, id)
	_, errEv := checkEnding(t, evs, host.KindIO, 1006)
	if !strings.Contains(errEv.Data, "presumed dead") {
		t.Errorf("error text %q", errEv.Data)
	}
}

// stackInuse returns the bytes of goroutine stacks in use, after the GC
// shrank what it could.
func stackInuse() uint64 {
	for range 4 {
		runtime.GC()
	}
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return ms.StackInuse
}

// An idle connection's reader holds no stack: it is parked, without a
// goroutine.
func TestIdleReaderHoldsNoStack(t *testing.T) {
	const n = 500
	rec := newRecorder(t)
	srv := newServer(t, host.Config{})
	mount(t, srv, "iw", rec, host.Limits{})
	before := stackInuse()
	clients := make([]*hosttest.Client, n)
	for i := range clients {
		clients[i] = srv.Dial(t, fmt.Sprintf("/ws/iw?name=c%d", i))
	}
	hosttest.Eventually(t, "every reader is parked", func() bool { return srv.ParkedReaders() == n })
	perConn := (int64(stackInuse()) - int64(before)) / n
	t.Logf("%d bytes of stack per idle connection", perConn)
	if perConn > 1<<10 {
		t.Errorf("%d bytes of stack per idle connection, want none", perConn)
	}
}

// Two Servers in one process number their connections alike: parked
// readers of both are told apart, and each wakes for its own socket.
func TestParkedReadersOfTwoServers(t *testing.T) {
	rec1, rec2 := newRecorder(t), newRecorder(t)
	srv1, srv2 := newServer(t, host.Config{}), newServer(t, host.Config{})
	mount(t, srv1, "p", rec1, host.Limits{})
	mount(t, srv2, "p", rec2, host.Limits{})
	c1 := dialRaw(t, srv1, "/ws/p?name=a")
	c2 := dialRaw(t, srv2, "/ws/p?name=a")
	id1, id2 := rec1.id(t, "a"), rec2.id(t, "a")
	if id1 != id2 {
		t.Fatalf("ids %v and %v: the test wants them equal", id1, id2)
	}
	hosttest.Eventually(t, "both parked", func() bool { return srv1.ParkedReaders()+srv2.ParkedReaders() == 2 })
	c2.write(textFrame("two"))
	if got := c2.readMessage(); got != "two" {
		t.Fatalf("echo %q", got)
	}
	c1.write(textFrame("one"))
	if got := c1.readMessage(); got != "one" {
		t.Fatalf("echo %q", got)
	}
	_ = c1.nc.Close()
	rec1.waitClosed(t, id1)
	if rec2.isClosed(id2) {
		t.Fatal("the other server's connection closed")
	}
	c2.write(closeFrame(1000, ""))
	c2.expectClose(1000)
}

// A parked reader learns that the host closed the socket: a close the
// peer never answers ends when CloseTimeout drops the connection, with the
// reader parked all along (a ping would unpark it only after 20 s).
func TestParkedReaderSeesTheHostDropTheSocket(t *testing.T) {
	rec := newRecorder(t)
	srv := newServer(t, host.Config{CloseTimeout: 50 * time.Millisecond})
	ep := mount(t, srv, "p", rec, host.Limits{})
	c := dialRaw(t, srv, "/ws/p?name=silent")
	id := rec.id(t, "silent")
	hosttest.Eventually(t, "parked", func() bool { return srv.ParkedReaders() == 1 })
	if err := ep.Close(id, 4000, "bye"); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	checkEnding(t, rec.waitClosed(t, id), 0, 4000)
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("Close after %v, want about CloseTimeout", d)
	}
	c.expectClose(4000)
}
