package host_test

import (
	"fmt"
	"io"
	"testing"

	"github.com/wshost/wshost/host"
	"github.com/wshost/wshost/host/hosttest"
)

// BenchmarkBroadcast measures one Broadcast to a room of 100 live members
// (clients drain in the background): the per-delivery path of the host,
// a room lock and 100 enqueues.
func BenchmarkBroadcast(b *testing.B) {
	rec := newRecorder(b)
	srv := newServer(b, host.Config{})
	ep := mount(b, srv, "room", rec, host.Limits{SendQueueMessages: 1 << 30, SendQueueBytes: 1 << 40})
	const members = 100
	for i := range members {
		c := srv.Dial(b, fmt.Sprintf("/ws/room?name=m%d&join=all", i))
		go func() {
			for {
				_, r, err := c.NextReader()
				if err != nil {
					return
				}
				io.Copy(io.Discard, r)
			}
		}()
		if err := ep.Join(rec.id(b, fmt.Sprintf("m%d", i)), "all"); err != nil {
			b.Fatal(err)
		}
	}
	hosttest.EventuallyEqual(b, "members", members, func() int { return ep.RoomSize("all") })
	msg := []byte("a chat message of a typical size, sent to the room")
	b.ReportAllocs()
	for b.Loop() {
		if n, err := ep.Broadcast("all", msg, false, 0); err != nil || n != members {
			b.Fatalf("broadcast: %d, %v", n, err)
		}
	}
}
