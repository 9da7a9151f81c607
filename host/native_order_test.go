package host_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/wshost/wshost/host"
)

// Many numbered messages, written back to back while the echoes are read,
// reach the handler and come back in order; a normal close ends with
// Close(1000) and no Error.
func TestPerConnectionOrder(t *testing.T) {
	rec := newRecorder(t)
	srv := newServer(t, host.Config{})
	mount(t, srv, "echo", rec, host.Limits{})

	c := srv.Dial(t, "/ws/echo?name=a")
	id := rec.id(t, "a")
	const n = 2000
	werr := make(chan error, 1)
	go func() {
		for i := range n {
			msg := fmt.Sprintf("m%d", i)
			typ := websocket.TextMessage
			if i%3 == 0 {
				typ = websocket.BinaryMessage
			}
			if err := c.WriteMessage(typ, []byte(msg)); err != nil {
				werr <- err
				return
			}
		}
		werr <- nil
	}()
	for i := range n {
		typ, msg := c.Read()
		want := fmt.Sprintf("m%d", i)
		wantTyp := websocket.TextMessage
		if i%3 == 0 {
			wantTyp = websocket.BinaryMessage
		}
		if string(msg) != want || typ != wantTyp {
			t.Fatalf("message %d: got %q (type %d), want %q (type %d)", i, msg, typ, want, wantTyp)
		}
	}
	if err := <-werr; err != nil {
		t.Fatal(err)
	}
	if err := c.WriteControl(websocket.CloseMessage, websocket.FormatCloseMessage(1000, "done"), time.Now().Add(timeout)); err != nil {
		t.Fatal(err)
	}
	c.ExpectClose(1000)

	evs := rec.waitClosed(t, id)
	checkEnding(t, evs, 0, 1000)
	got := messages(evs)
	if len(got) != n {
		t.Fatalf("handler got %d messages, want %d", len(got), n)
	}
	for i, m := range got {
		if m != fmt.Sprintf("m%d", i) {
			t.Fatalf("handler message %d is %q", i, m)
		}
		if b := evs[i+1].Binary; b != (i%3 == 0) {
			t.Fatalf("handler message %d: binary=%v", i, b)
		}
	}
	if evs[n+1].Data != "done" {
		t.Errorf("close reason %q, want %q", evs[n+1].Data, "done")
	}
}

// Several connections at once each keep their own order.
func TestPerConnectionOrderConcurrent(t *testing.T) {
	rec := newRecorder(t)
	srv := newServer(t, host.Config{})
	mount(t, srv, "echo", rec, host.Limits{})
	const conns, n = 6, 300
	errc := make(chan error, conns)
	for k := range conns {
		cl, _, err := srv.TryDial(fmt.Sprintf("/ws/echo?name=c%d", k), nil)
		if err != nil {
			t.Fatal(err)
		}
		cl.Bind(t)
		go func() {
			for i := range n {
				if err := cl.WriteMessage(websocket.TextMessage, fmt.Appendf(nil, "%d/%d", k, i)); err != nil {
					errc <- err
					return
				}
			}
			_ = cl.SetReadDeadline(time.Now().Add(timeout))
			for i := range n {
				_, msg, err := cl.ReadMessage()
				if err != nil {
					errc <- err
					return
				}
				if want := fmt.Sprintf("%d/%d", k, i); string(msg) != want {
					errc <- fmt.Errorf("conn %d: got %q, want %q", k, msg, want)
					return
				}
			}
			errc <- nil
		}()
	}
	for range conns {
		if err := <-errc; err != nil {
			t.Fatal(err)
		}
	}
}

// A client that pipelines far more requests than its send queue holds, and
// reads the replies as they come, is not a slow consumer: the host stops
// reading it while its queue is more than half full instead of letting its
// own replies overflow the queue before the writer could run.
func TestPipelinedRequestsDoNotOverflow(t *testing.T) {
	rec := newRecorder(t)
	srv := newServer(t, host.Config{})
	mount(t, srv, "echo", rec, host.Limits{SendQueueMessages: 8, MaxMessageBytes: 1000, SendQueueBytes: 8 << 10})
	c := srv.Dial(t, "/ws/echo?name=a")
	const n = 3000
	werr := make(chan error, 1)
	go func() {
		var batch []byte
		for i := range n { // all of them in a few writes, as fast as possible
			batch = append(batch, frame(true, 0, opText, fmt.Appendf(nil, "%d", i), true)...)
		}
		_, err := c.UnderlyingConn().Write(batch)
		werr <- err
	}()
	for i := range n {
		if got, want := c.ReadText(), fmt.Sprint(i); got != want {
			t.Fatalf("message %d: %q", i, got)
		}
	}
	if err := <-werr; err != nil {
		t.Fatal(err)
	}
}
