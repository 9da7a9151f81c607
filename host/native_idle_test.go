package host_test

import (
	"bytes"
	"fmt"
	"runtime"
	"testing"

	"github.com/wshost/wshost/host"
	"github.com/wshost/wshost/host/hosttest"
)

// writerGoroutines counts the goroutines running a connection's writer.
func writerGoroutines() int {
	buf := make([]byte, 1<<20)
	for {
		n := runtime.Stack(buf, true)
		if n < len(buf) {
			return bytes.Count(buf[:n], []byte("host.(*Conn).writeLoop"))
		}
		buf = make([]byte, 2*len(buf))
	}
}

// An idle connection holds at most one goroutine, its reader's (none while
// it is parked): the writer runs only while there is something to write,
// and starts again for the next message.
func TestIdleConnHoldsNoWriter(t *testing.T) {
	const n = 20
	rec := newRecorder(t)
	rec.open = func(ep *host.Endpoint, id host.ConnID) error {
		return ep.Send(id, []byte("welcome"), false) // queued before the upgrade
	}
	srv := newServer(t, host.Config{})
	mount(t, srv, "idle", rec, host.Limits{})
	before := runtime.NumGoroutine()

	clients := make([]*hosttest.Client, n)
	for i := range clients {
		clients[i] = srv.Dial(t, fmt.Sprintf("/ws/idle?name=c%d", i))
		clients[i].Expect("welcome")
		clients[i].Send("hello")
		clients[i].Expect("hello")
	}
	hosttest.EventuallyEqual(t, "writer goroutines of idle connections", 0, writerGoroutines)
	hosttest.Eventually(t, "one goroutine per idle connection", func() bool {
		return runtime.NumGoroutine()-before <= n
	})

	for i, c := range clients { // the writer comes back for more
		msg := fmt.Sprintf("again %d", i)
		c.Send(msg)
		c.Expect(msg)
	}
	hosttest.EventuallyEqual(t, "writer goroutines once idle again", 0, writerGoroutines)
}
