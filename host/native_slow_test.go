package host_test

import (
	"errors"
	"fmt"
	"net"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/wshost/wshost/host"
	"github.com/wshost/wshost/host/hosttest"
)

// A client that never reads: its queue overflows once the socket buffers are
// full, it is closed with 1008 and its handler gets Error(Slow), Close(1008).
// Another client is not affected.
func TestSlowConsumer(t *testing.T) {
	rec := newRecorder(t)
	var floodErr atomic.Pointer[error]
	var floodSent atomic.Int64
	chunk := []byte(strings.Repeat("s", 64<<10))
	rec.open = func(ep *host.Endpoint, id host.ConnID) error { return ep.Join(id, "room") }
	rec.message = func(ep *host.Endpoint, id host.ConnID, msg []byte, binary bool) error {
		if string(msg) != "flood" {
			return echo(ep, id, msg, binary)
		}
		for range 100000 {
			if err := ep.Send(id, chunk, false); err != nil {
				floodErr.Store(&err)
				return nil
			}
			floodSent.Add(1)
		}
		return nil
	}
	srv := newServer(t, host.Config{WriteTimeout: 300 * time.Millisecond, CloseTimeout: 300 * time.Millisecond})
	ep := mount(t, srv, "slow", rec, host.Limits{
		MaxMessageBytes:   64 << 10,
		SendQueueMessages: 16,
		SendQueueBytes:    256 << 10,
	})
	fast := srv.Dial(t, "/ws/slow?name=fast")
	slow := dialRaw(t, srv, "/ws/slow?name=slow")
	slowID := rec.id(t, "slow")

	slow.write(textFrame("flood"))
	evs := rec.waitClosed(t, slowID)
	_, errEv := checkEnding(t, evs, host.KindSlow, 1008)
	if !strings.Contains(errEv.Data, "send queue") {
		t.Errorf("slow error text %q", errEv.Data)
	}
	if p := floodErr.Load(); p == nil || !errors.Is(*p, host.ErrClosed) {
		t.Fatalf("flood ended with %v, want ErrClosed", p)
	}

	// The other client is served as before, alone in the room now.
	if got := fast.Call("still fine"); got != "still fine" {
		t.Fatalf("fast client: %q", got)
	}
	if n, err := ep.Broadcast("room", []byte("to the room"), false, 0); n != 1 || err != nil {
		t.Errorf("broadcast: %d, %v; want 1 (the slow one is gone)", n, err)
	}
	fast.Expect("to the room")

	// What reached the slow client: whole data messages, perhaps a truncated
	// one where the timed-out write stopped, a close frame 1008 if it made
	// it, and then the end of the stream: the server dropped the connection.
	got, sawClose := 0, false
	for {
		f, err := slow.readFrame(timeout)
		if err != nil {
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() {
				t.Fatalf("slow client still connected after %d messages", got)
			}
			break
		}
		if sawClose {
			t.Fatalf("a frame after the close frame")
		}
		switch f.op {
		case opText:
			got++
		case opClose:
			sawClose = true
			if code := int(f.payload[0])<<8 | int(f.payload[1]); code != 1008 {
				t.Errorf("close code %d, want 1008", code)
			}
		}
	}
	if int64(got) > floodSent.Load() {
		t.Errorf("slow client read %d messages, only %d were queued", got, floodSent.Load())
	}
	t.Logf("slow client: %d of %d queued messages arrived; close frame: %v", got, floodSent.Load(), sawClose)
}

// A client that sends request after request and reads none of the replies
// is a slow consumer too: the reader holds while the writer makes progress,
// not when the writer is stuck, so the queue overflows: 1008, Error(Slow).
func TestSlowConsumerPipelining(t *testing.T) {
	rec := newRecorder(t)
	reply := []byte(strings.Repeat("r", 64<<10))
	rec.message = func(ep *host.Endpoint, id host.ConnID, _ []byte, _ bool) error {
		return echo(ep, id, reply, false)
	}
	// A stuck write ends after WriteTimeout, and with it the connection: the
	// queue must overflow well before.
	srv := newServer(t, host.Config{WriteTimeout: 1500 * time.Millisecond})
	mount(t, srv, "slow", rec, host.Limits{MaxMessageBytes: 64 << 10, SendQueueMessages: 32, SendQueueBytes: 4 << 20})
	c := dialRaw(t, srv, "/ws/slow?name=a")
	id := rec.id(t, "a")
	var reqs [][]byte
	for range 2000 { // 125 MiB of replies
		reqs = append(reqs, textFrame("more"))
	}
	c.write(reqs...)
	evs := rec.waitClosed(t, id)
	checkEnding(t, evs, host.KindSlow, 1008)
	if n := len(messages(evs)); n >= 2000 {
		t.Errorf("all %d requests were handled", n)
	}
}

// A queue that overflows while the writer is free to write (here in Open,
// before the writer runs) ends with a visible close frame 1008: what was
// queued is dropped.
func TestSlowOverflowCloseFrame(t *testing.T) {
	cases := []struct {
		name   string
		limits host.Limits
		size   int
		n      int // sends; the last one overflows
	}{
		{"messages", host.Limits{SendQueueMessages: 4}, 10, 5},
		{"bytes", host.Limits{MaxMessageBytes: 1000, SendQueueBytes: 3000}, 1000, 3},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			rec := newRecorder(t)
			var mu sync.Mutex
			var errs []error
			rec.open = func(ep *host.Endpoint, id host.ConnID) error {
				mu.Lock()
				defer mu.Unlock()
				for i := range tc.n {
					errs = append(errs, ep.Send(id, []byte(fmt.Sprintf("%0*d", tc.size, i)), false))
				}
				return nil
			}
			srv := newServer(t, host.Config{})
			mount(t, srv, "q", rec, tc.limits)
			c := dialRaw(t, srv, "/ws/q?name=a")
			id := rec.id(t, "a")
			msgs, reason := c.expectClose(1008)
			if len(msgs) != 0 {
				t.Errorf("%d messages arrived; the overflow dropped them", len(msgs))
			}
			if !strings.Contains(reason, "overflow") {
				t.Errorf("close reason %q", reason)
			}
			c.write(closeFrame(1008, ""))
			c.expectEOF()
			checkEnding(t, rec.waitClosed(t, id), host.KindSlow, 1008)
			mu.Lock()
			defer mu.Unlock()
			for i, err := range errs {
				if last := i == tc.n-1; last != (err != nil) || (last && !errors.Is(err, host.ErrClosed)) {
					t.Errorf("send %d of %d: %v", i+1, tc.n, err)
				}
			}
		})
	}
}

// A client that completed the handshake and then answers nothing, not even
// pings, is dropped after PingInterval+PongTimeout: Error(IO), Close(1006).
func TestHeartbeatDropsSilentPeer(t *testing.T) {
	rec := newRecorder(t)
	srv := newServer(t, host.Config{PingInterval: 100 * time.Millisecond, PongTimeout: 100 * time.Millisecond})
	mount(t, srv, "hb", rec, host.Limits{})
	c := dialRaw(t, srv, "/ws/hb?name=silent")
	start := time.Now()
	id := rec.id(t, "silent")
	evs := rec.waitClosed(t, id)
	elapsed := time.Since(start)
	_, errEv := checkEnding(t, evs, host.KindIO, 1006)
	if !strings.Contains(errEv.Data, "presumed dead") {
		t.Errorf("error text %q", errEv.Data)
	}
	if elapsed < 150*time.Millisecond || elapsed > 5*time.Second {
		t.Errorf("dropped after %v, want about 200ms", elapsed)
	}
	// It was pinged, then the stream ended.
	pings := 0
	for {
		f, err := c.readFrame(timeout)
		if err != nil {
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() {
				t.Fatal("the server did not drop the connection")
			}
			break
		}
		if f.op != opPing {
			t.Fatalf("unexpected frame op %d", f.op)
		}
		pings++
	}
	if pings == 0 {
		t.Errorf("no ping before the drop")
	}
}

// A client that reads (so it answers pings) stays connected through many
// ping periods, each longer than... well, the idle timeout is two of them.
func TestHeartbeatKeepsLiveClient(t *testing.T) {
	rec := newRecorder(t)
	srv := newServer(t, host.Config{PingInterval: 100 * time.Millisecond, PongTimeout: 100 * time.Millisecond})
	mount(t, srv, "hb", rec, host.Limits{})
	c := srv.Dial(t, "/ws/hb?name=live")
	id := rec.id(t, "live")
	var pings atomic.Int32
	c.SetPingHandler(func(data string) error {
		pings.Add(1)
		return c.WriteControl(websocket.PongMessage, []byte(data), time.Now().Add(timeout))
	})
	msgs := make(chan string, 1)
	done := make(chan error, 1)
	go func() {
		for {
			_, msg, err := c.ReadMessage()
			if err != nil {
				done <- err
				return
			}
			msgs <- string(msg)
		}
	}()
	hosttest.Eventually(t, "8 pings (4 idle timeouts)", func() bool { return pings.Load() >= 8 })
	if rec.isClosed(id) {
		t.Fatalf("dropped: %v", rec.events(id))
	}
	c.Send("alive")
	select {
	case m := <-msgs:
		if m != "alive" {
			t.Fatalf("echo %q", m)
		}
	case err := <-done:
		t.Fatalf("read: %v", err)
	case <-time.After(timeout):
		t.Fatal("no echo")
	}
	_ = c.WriteControl(websocket.CloseMessage, websocket.FormatCloseMessage(1000, ""), time.Now().Add(timeout))
	var ce *websocket.CloseError
	if err := <-done; !errors.As(err, &ce) || ce.Code != 1000 {
		t.Fatalf("read ended with %v, want close 1000", err)
	}
	checkEnding(t, rec.waitClosed(t, id), 0, 1000)
}

// A protocol error while the writer is stuck writing a backlog to a client
// that does not read: the backlog and then the close frame still arrive
// once the client reads, within WriteTimeout. (gorilla/websocket sets a 1s
// write deadline on the socket when it reports the error; the host's writer
// must not inherit it.)
func TestProtocolErrorDuringBacklog(t *testing.T) {
	rec := newRecorder(t)
	chunk := []byte(strings.Repeat("b", 256<<10))
	const chunks = 32 // 8 MiB
	rec.message = func(ep *host.Endpoint, id host.ConnID, msg []byte, binary bool) error {
		for range chunks {
			if err := ep.Send(id, chunk, false); err != nil {
				return err
			}
		}
		return nil
	}
	srv := newServer(t, host.Config{})
	ep := mount(t, srv, "b", rec, host.Limits{SendQueueBytes: 64 << 20})
	c := dialRaw(t, srv, "/ws/b?name=a")
	id := rec.id(t, "a")
	c.write(textFrame("fill"))
	hosttest.Eventually(t, "the backlog queued", func() bool {
		evs := rec.events(id)
		return len(evs) == 2
	})
	c.write(frame(true, 0x40, opText, []byte("bad"), true))
	probes := 0
	hosttest.Eventually(t, "the host closing", func() bool {
		if err := ep.Send(id, []byte("probe"), false); err != nil {
			return true
		}
		probes++
		return false
	})
	time.Sleep(1500 * time.Millisecond) // past gorilla's 1s write deadline
	msgs, _ := c.expectClose(1002)
	if len(msgs) != chunks+probes {
		t.Fatalf("%d messages before the close frame, want %d", len(msgs), chunks+probes)
	}
	checkEnding(t, rec.waitClosed(t, id), host.KindProtocol, 1002)
}
