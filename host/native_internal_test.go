package host

import (
	"errors"
	"io"
	"log/slog"
	"testing"
)

// A Join that races the end of a connection (another connection's handler
// joins it to a room just as its Close finished) must not leave it in the
// room for good: after leaveAll no room takes it.
func TestJoinAfterLeaveAll(t *testing.T) {
	srv := New(Config{Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	ep, err := srv.Mount("x", nil, Limits{})
	if err != nil {
		t.Fatal(err)
	}
	c := newConn(srv.ids.next(), ep, connInfo{})
	if !ep.conns.add(c) {
		t.Fatal("add")
	}
	defer ep.conns.remove(c.id)
	if err := ep.Join(c.id, "r"); err != nil {
		t.Fatal(err)
	}
	ep.leaveAll(c)
	if err := ep.Join(c.id, "r"); !errors.Is(err, ErrClosed) {
		t.Errorf("join after leaveAll: %v, want ErrClosed", err)
	}
	if n := ep.RoomSize("r"); n != 0 {
		t.Errorf("room has %d members after leaveAll", n)
	}
	if rooms, _ := ep.ConnRooms(c.id, nil); len(rooms) != 0 {
		t.Errorf("ConnRooms %q after leaveAll", rooms)
	}
}
