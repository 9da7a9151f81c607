package scripttest

import (
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/gorilla/websocket"
)

// event is what a client received: a message or the close frame.
type event struct {
	typ    int
	data   []byte
	closed bool
	code   int
	reason string
}

func (e event) String() string {
	switch {
	case e.closed:
		return fmt.Sprintf("close %d %q", e.code, e.reason)
	case e.typ == websocket.BinaryMessage:
		return fmt.Sprintf("binary %x", e.data)
	}
	return fmt.Sprintf("%q", e.data)
}

// client is one scripted connection. A goroutine reads everything the host
// sends into a queue, like a real client, so the host never waits on the
// script; next takes from it. Safe for the script goroutine and the reader.
type client struct {
	conn *websocket.Conn
	done chan struct{}

	mu     sync.Mutex
	events []event
	more   chan struct{} // cap 1: events grew or the reader ended
	ended  bool
}

func newClient(conn *websocket.Conn) *client {
	c := &client{conn: conn, done: make(chan struct{}), more: make(chan struct{}, 1)}
	go c.read()
	return c
}

func (c *client) read() {
	defer close(c.done)
	for {
		typ, data, err := c.conn.ReadMessage()
		ev := event{typ: typ, data: data}
		if err != nil {
			var ce *websocket.CloseError
			if !errors.As(err, &ce) {
				c.push(event{}, true)
				return
			}
			ev = event{closed: true, code: ce.Code, reason: ce.Text}
		}
		c.push(ev, ev.closed)
		if ev.closed {
			return
		}
	}
}

func (c *client) push(ev event, end bool) {
	c.mu.Lock()
	if ev.closed || ev.data != nil || ev.typ != 0 {
		c.events = append(c.events, ev)
	}
	c.ended = c.ended || end
	c.mu.Unlock()
	select {
	case c.more <- struct{}{}:
	default:
	}
}

// next returns the next event, waiting up to d.
func (c *client) next(d time.Duration) (event, bool) {
	t := time.NewTimer(d)
	defer t.Stop()
	for {
		c.mu.Lock()
		if len(c.events) > 0 {
			ev := c.events[0]
			c.events = c.events[1:]
			c.mu.Unlock()
			return ev, true
		}
		ended := c.ended
		c.mu.Unlock()
		if ended {
			return event{}, false
		}
		select {
		case <-c.more:
		case <-t.C:
			return event{}, false
		}
	}
}

func (c *client) write(typ int, data []byte) error {
	_ = c.conn.SetWriteDeadline(time.Now().Add(2 * time.Second))
	return c.conn.WriteMessage(typ, data)
}
