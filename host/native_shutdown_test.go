package host_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/wshost/wshost/host"
	"github.com/wshost/wshost/host/hosttest"
)

// readCloseCode reads from a gorilla client in the background until it
// ends and reports the close code it saw (0 for none).
func readCloseCode(c *hosttest.Client) <-chan int {
	ch := make(chan int, 1)
	go func() {
		_ = c.SetReadDeadline(time.Now().Add(timeout))
		for {
			if _, _, err := c.ReadMessage(); err != nil {
				var ce *websocket.CloseError
				if errors.As(err, &ce) {
					ch <- ce.Code
				} else {
					ch <- 0
				}
				return
			}
		}
	}()
	return ch
}

// Shutdown closes every connection with 1001; each handler got Close(1001)
// when it returns, including for a peer that never answers the close
// frame; new connections then get 503.
func TestShutdown(t *testing.T) {
	rec := newRecorder(t)
	srv := newServer(t, host.Config{CloseTimeout: 300 * time.Millisecond})
	mount(t, srv, "a", rec, host.Limits{})
	mount(t, srv, "b", rec, host.Limits{})

	var codes []<-chan int
	var ids []host.ConnID
	for i := range 6 {
		ep := "a"
		if i%2 == 1 {
			ep = "b"
		}
		name := fmt.Sprintf("c%d", i)
		c := srv.Dial(t, "/ws/"+ep+"?name="+name)
		ids = append(ids, rec.id(t, name))
		codes = append(codes, readCloseCode(c))
	}
	silent := dialRaw(t, srv, "/ws/a?name=silent") // reads nothing, answers nothing
	ids = append(ids, rec.id(t, "silent"))

	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	if err := srv.Shutdown(ctx); err != nil {
		t.Fatalf("shutdown: %v", err)
	}
	for _, id := range ids {
		evs := rec.events(id)
		if len(evs) == 0 || evs[len(evs)-1].Kind != evClose {
			t.Fatalf("connection %d: no Close when Shutdown returned: %v", id, evs)
		}
		checkEnding(t, evs, 0, 1001)
	}
	for i, ch := range codes {
		if code := <-ch; code != 1001 {
			t.Errorf("client %d saw close %d, want 1001", i, code)
		}
	}
	_, reason := silent.expectClose(1001)
	if reason == "" {
		t.Errorf("no close reason")
	}
	silent.expectEOF()

	_, resp := tryDialRaw(t, srv, "/ws/a?name=late")
	if resp.StatusCode != http.StatusServiceUnavailable {
		t.Errorf("after shutdown: HTTP %d, want 503", resp.StatusCode)
	}
	if _, err := srv.Mount("c", rec, host.Limits{}); !errors.Is(err, host.ErrServerClosed) {
		t.Errorf("mount after shutdown: %v", err)
	}
}

// Shutdown whose context ends drops the connections still closing, and they
// still get their Close.
func TestShutdownDeadline(t *testing.T) {
	rec := newRecorder(t)
	srv := newServer(t, host.Config{CloseTimeout: time.Minute})
	mount(t, srv, "a", rec, host.Limits{})
	c := dialRaw(t, srv, "/ws/a?name=silent")
	id := rec.id(t, "silent")
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	err := srv.Shutdown(ctx)
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("shutdown: %v, want a deadline error", err)
	}
	if !rec.isClosed(id) {
		t.Fatalf("no Close when Shutdown returned")
	}
	checkEnding(t, rec.events(id), 0, 1001)
	c.expectClose(1001)
}

// Unmount closes the endpoint's connections with 1001 and its channel
// closes once each got Close; new connections get 404; other endpoints are
// not affected; the name can be mounted again.
func TestUnmount(t *testing.T) {
	rec := newRecorder(t)
	srv := newServer(t, host.Config{CloseTimeout: 300 * time.Millisecond})
	mount(t, srv, "gone", rec, host.Limits{})
	mount(t, srv, "stays", rec, host.Limits{})

	var codes []<-chan int
	var ids []host.ConnID
	for i := range 4 {
		name := fmt.Sprintf("g%d", i)
		codes = append(codes, readCloseCode(srv.Dial(t, "/ws/gone?name="+name)))
		ids = append(ids, rec.id(t, name))
	}
	dialRaw(t, srv, "/ws/gone?name=silent")
	ids = append(ids, rec.id(t, "silent"))
	other := srv.Dial(t, "/ws/stays?name=other")

	drained := srv.Unmount("gone")
	select {
	case <-drained:
	case <-time.After(timeout):
		t.Fatal("Unmount's channel never closed")
	}
	for _, id := range ids {
		evs := rec.events(id)
		if len(evs) == 0 || evs[len(evs)-1].Kind != evClose {
			t.Fatalf("connection %d: no Close when the channel closed: %v", id, evs)
		}
		checkEnding(t, evs, 0, 1001)
	}
	for i, ch := range codes {
		if code := <-ch; code != 1001 {
			t.Errorf("client %d saw close %d", i, code)
		}
	}
	if srv.Endpoint("gone") != nil {
		t.Errorf("Endpoint(gone) still set")
	}
	_, resp := tryDialRaw(t, srv, "/ws/gone?name=late")
	if resp.StatusCode != http.StatusNotFound {
		t.Errorf("after unmount: HTTP %d, want 404", resp.StatusCode)
	}
	if got := other.Call("hi"); got != "hi" {
		t.Errorf("other endpoint: %q", got)
	}
	select {
	case <-srv.Unmount("never-mounted"):
	default:
		t.Errorf("Unmount of an unknown name must return a closed channel")
	}
	mount(t, srv, "gone", rec, host.Limits{})
	c := srv.Dial(t, "/ws/gone?name=again")
	if got := c.Call("back"); got != "back" {
		t.Errorf("remounted: %q", got)
	}
}

// Mount refuses bad names, bad limits and a name in use.
func TestMountChecks(t *testing.T) {
	srv := newServer(t, host.Config{})
	rec := newRecorder(t)
	for _, name := range []string{"", "Echo", "-x", "_x", "a b", "a/b", "é"} {
		if _, err := srv.Mount(name, rec, host.Limits{}); !errors.Is(err, host.ErrConfig) {
			t.Errorf("name %q: %v, want ErrConfig", name, err)
		}
	}
	for _, l := range []host.Limits{
		{MaxMessageBytes: -1},
		{SendQueueMessages: -1},
		{MaxMessageBytes: 1 << 20, SendQueueBytes: 1 << 20}, // cannot hold one message
	} {
		if _, err := srv.Mount("x", rec, l); !errors.Is(err, host.ErrConfig) {
			t.Errorf("limits %+v: %v, want ErrConfig", l, err)
		}
	}
	ep := mount(t, srv, "a0_-z", rec, host.Limits{})
	if ep.Name() != "a0_-z" || srv.Endpoint("a0_-z") != ep {
		t.Errorf("endpoint lookup")
	}
	if got := ep.Limits(); got != (host.Limits{}).WithDefaults() {
		t.Errorf("limits %+v", got)
	}
	if _, err := srv.Mount("a0_-z", rec, host.Limits{}); !errors.Is(err, host.ErrConfig) {
		t.Errorf("mounted twice: %v", err)
	}
}
