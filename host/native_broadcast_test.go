package host_test

import (
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/wshost/wshost/host"
	"github.com/wshost/wshost/host/hosttest"
)

// joinFromQuery joins the rooms of ?join=a,b in Open.
func joinFromQuery(ep *host.Endpoint, id host.ConnID) error {
	rooms, err := ep.ConnInfo(id, "query.join")
	if err != nil || rooms == "" {
		return nil
	}
	for _, room := range strings.Split(rooms, ",") {
		if err := ep.Join(id, room); err != nil {
			return err
		}
	}
	return nil
}

// countingBroker wraps a MemoryBroker and records, per member, the frames
// delivered to it, to see that a broadcast is encoded once.
type countingBroker struct {
	*host.MemoryBroker
	mu        sync.Mutex
	publishes int
	delivered map[host.ConnID][]*host.Frame
}

type countingMember struct {
	host.Member
	b *countingBroker
}

func (m countingMember) Deliver(f *host.Frame) bool {
	m.b.mu.Lock()
	m.b.delivered[m.ID()] = append(m.b.delivered[m.ID()], f)
	m.b.mu.Unlock()
	return m.Member.Deliver(f)
}

func (b *countingBroker) Join(ns, room string, m host.Member) error {
	return b.MemoryBroker.Join(ns, room, countingMember{m, b})
}

func (b *countingBroker) Leave(ns, room string, m host.Member) error {
	return b.MemoryBroker.Leave(ns, room, countingMember{m, b})
}

func (b *countingBroker) Publish(ns, room string, f *host.Frame, except host.ConnID) int {
	b.mu.Lock()
	b.publishes++
	b.mu.Unlock()
	return b.MemoryBroker.Publish(ns, room, f, except)
}

// Broadcast queues one encoded frame for every member but except and
// returns the count; it checks the room name, size and UTF-8.
func TestBroadcast(t *testing.T) {
	rec := newRecorder(t)
	rec.open = joinFromQuery
	rec.message = func(ep *host.Endpoint, id host.ConnID, msg []byte, binary bool) error {
		n, err := ep.Broadcast("lobby", msg, binary, id)
		if err != nil {
			return err
		}
		return ep.Send(id, []byte("sent to "+strconv.Itoa(n)), false)
	}
	broker := &countingBroker{MemoryBroker: host.NewMemoryBroker(), delivered: make(map[host.ConnID][]*host.Frame)}
	srv := newServer(t, host.Config{Broker: broker})
	ep := mount(t, srv, "chat", rec, host.Limits{MaxMessageBytes: 1000})

	a := srv.Dial(t, "/ws/chat?name=a&join=lobby")
	b := srv.Dial(t, "/ws/chat?name=b&join=lobby,other")
	c := srv.Dial(t, "/ws/chat?name=c&join=lobby")
	d := srv.Dial(t, "/ws/chat?name=d&join=other")
	ida, idb, idc := rec.id(t, "a"), rec.id(t, "b"), rec.id(t, "c")

	if got := a.Call("hello"); got != "sent to 2" {
		t.Fatalf("a got %q", got)
	}
	b.Expect("hello")
	c.Expect("hello")

	n, err := ep.Broadcast("lobby", []byte{0, 1, 2}, true, 0)
	if n != 3 || err != nil {
		t.Fatalf("broadcast to all: %d, %v", n, err)
	}
	for _, cl := range []*hosttest.Client{a, b, c} {
		if typ, msg := cl.Read(); typ != websocket.BinaryMessage || string(msg) != "\x00\x01\x02" {
			t.Fatalf("got %d %q", typ, msg)
		}
	}
	// One Publish per broadcast; every member got the same *Frame.
	broker.mu.Lock()
	if broker.publishes != 2 {
		t.Errorf("%d publishes, want 2", broker.publishes)
	}
	fa, fb, fc := broker.delivered[ida], broker.delivered[idb], broker.delivered[idc]
	if len(fa) != 1 || len(fb) != 2 || len(fc) != 2 {
		t.Fatalf("frames delivered: a %d, b %d, c %d; want 1, 2, 2", len(fa), len(fb), len(fc))
	}
	if fb[0] != fc[0] || fb[1] != fc[1] || fa[0] != fb[1] || fb[0] == fb[1] {
		t.Errorf("a broadcast was encoded more than once")
	}
	broker.mu.Unlock()

	if n, err := ep.Broadcast("other", []byte("o"), false, idb); n != 1 || err != nil {
		t.Errorf("broadcast to other: %d, %v", n, err)
	}
	d.Expect("o")
	if n, err := ep.Broadcast("nobody-here", []byte("x"), false, 0); n != 0 || err != nil {
		t.Errorf("broadcast to an empty room: %d, %v", n, err)
	}
	for _, room := range []string{"", "a\nb", strings.Repeat("r", 257)} {
		if _, err := ep.Broadcast(room, []byte("x"), false, 0); !errors.Is(err, host.ErrBadArg) {
			t.Errorf("room %.20q: %v, want ErrBadArg", room, err)
		}
	}
	if n, err := ep.Broadcast(strings.Repeat("r", 256), []byte("x"), false, 0); n != 0 || err != nil {
		t.Errorf("256-byte room: %d, %v", n, err)
	}
	if _, err := ep.Broadcast("lobby", make([]byte, 1001), true, 0); !errors.Is(err, host.ErrTooLarge) {
		t.Errorf("1001 bytes: %v, want ErrTooLarge", err)
	}
	if _, err := ep.Broadcast("lobby", []byte("\xc3"), false, 0); !errors.Is(err, host.ErrBadArg) {
		t.Errorf("invalid UTF-8: %v, want ErrBadArg", err)
	}
	// Rooms are per endpoint.
	ep2 := mount(t, srv, "other", rec, host.Limits{})
	if n, _ := ep2.Broadcast("lobby", []byte("x"), false, 0); n != 0 {
		t.Errorf("another endpoint's lobby has %d members", n)
	}
	// A closing member is not counted.
	if err := ep.Close(idc, 1000, ""); err != nil {
		t.Fatal(err)
	}
	if n, _ := ep.Broadcast("lobby", []byte("after"), false, 0); n != 2 {
		t.Errorf("broadcast with a closing member: %d, want 2", n)
	}
	a.Expect("after")
	b.Expect("after")
	c.ExpectClose(1000)
}

// Several broadcasters hammer one room at once, from client messages and
// from other goroutines: every member sees the same global order, and each
// sender's messages in its own order.
func TestBroadcastGlobalOrder(t *testing.T) {
	const members, clientSenders, goSenders, perSender = 5, 3, 2, 150
	const total = (clientSenders + goSenders) * perSender
	rec := newRecorder(t)
	rec.open = joinFromQuery
	rec.message = func(ep *host.Endpoint, id host.ConnID, msg []byte, binary bool) error {
		_, err := ep.Broadcast("room", msg, binary, 0)
		return err
	}
	srv := newServer(t, host.Config{})
	ep := mount(t, srv, "chat", rec, host.Limits{})

	type result struct {
		seq []string
		err error
	}
	results := make(chan result, members)
	for m := range members {
		cl, _, err := srv.TryDial(fmt.Sprintf("/ws/chat?name=m%d&join=room", m), nil)
		if err != nil {
			t.Fatal(err)
		}
		cl.Bind(t)
		go func() {
			var r result
			_ = cl.SetReadDeadline(time.Now().Add(timeout))
			for len(r.seq) < total {
				_, msg, err := cl.ReadMessage()
				if err != nil {
					r.err = err
					break
				}
				r.seq = append(r.seq, string(msg))
			}
			results <- r
		}()
	}
	hosttest.EventuallyEqual(t, "room size", members, func() int { return ep.RoomSize("room") })

	var senders sync.WaitGroup
	errc := make(chan error, clientSenders+goSenders)
	for s := range clientSenders {
		cl, _, err := srv.TryDial(fmt.Sprintf("/ws/chat?name=s%d", s), nil)
		if err != nil {
			t.Fatal(err)
		}
		cl.Bind(t)
		senders.Go(func() {
			for i := range perSender {
				if err := cl.WriteMessage(websocket.TextMessage, fmt.Appendf(nil, "c%d:%d", s, i)); err != nil {
					errc <- err
					return
				}
			}
		})
	}
	for s := range goSenders {
		senders.Go(func() {
			for i := range perSender {
				if n, err := ep.Broadcast("room", fmt.Appendf(nil, "g%d:%d", s, i), false, 0); n != members || err != nil {
					errc <- fmt.Errorf("broadcast: %d, %v", n, err)
					return
				}
			}
		})
	}
	senders.Wait()
	close(errc)
	for err := range errc {
		t.Fatal(err)
	}

	var first []string
	for range members {
		r := <-results
		if r.err != nil {
			t.Fatalf("member read: %v after %d messages", r.err, len(r.seq))
		}
		if first == nil {
			first = r.seq
			continue
		}
		if i := firstDiff(first, r.seq); i >= 0 {
			t.Fatalf("members disagree at message %d: %q vs %q", i, first[i], r.seq[i])
		}
	}
	next := map[string]int{}
	for _, m := range first {
		sender, num, _ := strings.Cut(m, ":")
		if n, _ := strconv.Atoi(num); n != next[sender] {
			t.Fatalf("sender %s: message %d after %d", sender, n, next[sender]-1)
		}
		next[sender]++
	}
	// The interleaving is not trivially sequential: the test would not catch
	// a reordering if the senders never overlapped.
	if slices.IsSortedFunc(first, func(a, b string) int { return strings.Compare(a[:2], b[:2]) }) {
		t.Logf("senders did not interleave")
	}
}

func firstDiff(a, b []string) int {
	for i := range min(len(a), len(b)) {
		if a[i] != b[i] {
			return i
		}
	}
	if len(a) != len(b) {
		return min(len(a), len(b))
	}
	return -1
}
