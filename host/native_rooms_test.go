package host_test

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/wshost/wshost/host"
	"github.com/wshost/wshost/host/hosttest"
)

// fakeMember records what it is delivered; it refuses frames once full.
type fakeMember struct {
	id     host.ConnID
	full   atomic.Bool
	mu     sync.Mutex
	frames []*host.Frame
}

func (m *fakeMember) ID() host.ConnID { return m.id }

func (m *fakeMember) Deliver(f *host.Frame) bool {
	if m.full.Load() {
		return false
	}
	m.mu.Lock()
	m.frames = append(m.frames, f)
	m.mu.Unlock()
	return true
}

func (m *fakeMember) got() []*host.Frame {
	m.mu.Lock()
	defer m.mu.Unlock()
	return slices.Clone(m.frames)
}

func sortedIDs(ids []host.ConnID) []host.ConnID { slices.Sort(ids); return ids }

func TestMemoryBroker(t *testing.T) {
	b := host.NewMemoryBroker()
	m1, m2, m3 := &fakeMember{id: 1}, &fakeMember{id: 2}, &fakeMember{id: 3}
	for _, m := range []*fakeMember{m1, m2, m3} {
		if err := b.Join("ns", "r", m); err != nil {
			t.Fatal(err)
		}
	}
	if err := b.Join("ns", "r", m1); err != nil {
		t.Fatalf("join twice: %v", err)
	}
	if err := b.Join("other", "r", m1); err != nil {
		t.Fatal(err)
	}
	if n := b.Size("ns", "r"); n != 3 {
		t.Errorf("size %d", n)
	}
	if got := sortedIDs(b.Members("ns", "r", []host.ConnID{99})); !slices.Equal(got, []host.ConnID{1, 2, 3, 99}) {
		t.Errorf("members %v (appended to [99])", got)
	}
	f := host.NewMessageFrame([]byte("x"), false)
	if n := b.Publish("ns", "r", f, 2); n != 2 {
		t.Errorf("publish except 2: %d", n)
	}
	m3.full.Store(true)
	if n := b.Publish("ns", "r", f, 0); n != 2 {
		t.Errorf("publish with a full member: %d, want 2", n)
	}
	if len(m1.got()) != 2 || len(m2.got()) != 1 || len(m3.got()) != 1 {
		t.Errorf("delivered %d %d %d", len(m1.got()), len(m2.got()), len(m3.got()))
	}
	for _, fr := range slices.Concat(m1.got(), m2.got(), m3.got()) {
		if fr != f {
			t.Errorf("a member got a copy of the frame")
		}
	}
	if n := b.Publish("ns", "none", f, 0); n != 0 {
		t.Errorf("publish to no room: %d", n)
	}
	if n := b.Publish("other", "r", f, 0); n != 1 {
		t.Errorf("namespaces mix: %d", n)
	}
	if err := b.Leave("ns", "r", m2); err != nil {
		t.Fatal(err)
	}
	if err := b.Leave("ns", "r", m2); !errors.Is(err, host.ErrNotFound) {
		t.Errorf("leave twice: %v", err)
	}
	if err := b.Leave("ns", "nope", m2); !errors.Is(err, host.ErrNotFound) {
		t.Errorf("leave no room: %v", err)
	}
	_ = b.Leave("ns", "r", m1)
	_ = b.Leave("ns", "r", m3)
	if n, ms := b.Size("ns", "r"), b.Members("ns", "r", nil); n != 0 || len(ms) != 0 {
		t.Errorf("emptied room: size %d, members %v", n, ms)
	}
	if err := b.Leave("ns", "r", m3); !errors.Is(err, host.ErrNotFound) {
		t.Errorf("leave an emptied room: %v", err)
	}
	// A room can come back after it emptied.
	_ = b.Join("ns", "r", m2)
	if n := b.Publish("ns", "r", f, 0); n != 1 {
		t.Errorf("publish to the new room: %d", n)
	}
	if n := b.Size("other", "r"); n != 1 {
		t.Errorf("other namespace: %d", n)
	}
}

// Many goroutines join, leave and publish at once. Members that stay for
// the whole run see every publish, in the same order; churning members see
// a subsequence of that order; at the end Size and Members agree with what
// each goroutine did, and rooms that emptied are gone.
func TestMemoryBrokerHammer(t *testing.T) {
	b := host.NewMemoryBroker()
	const rooms, stable, churners, publishers, rounds = 4, 3, 16, 4, 400
	roomName := func(i int) string { return fmt.Sprintf("room%d", i) }
	var stableMembers []*fakeMember
	for i := range stable {
		m := &fakeMember{id: host.ConnID(1000 + i)}
		stableMembers = append(stableMembers, m)
		if err := b.Join("ns", roomName(0), m); err != nil {
			t.Fatal(err)
		}
	}
	var wg sync.WaitGroup
	final := make([]map[string]bool, churners) // rooms each churner is in at the end
	churnMembers := make([]*fakeMember, churners)
	for c := range churners {
		m := &fakeMember{id: host.ConnID(c + 1)}
		churnMembers[c] = m
		wg.Go(func() {
			in := map[string]bool{}
			rng := rand.New(rand.NewPCG(uint64(c), 1))
			for range rounds {
				r := roomName(rng.IntN(rooms))
				if in[r] {
					if err := b.Leave("ns", r, m); err != nil {
						t.Errorf("leave %s: %v", r, err)
						return
					}
					delete(in, r)
				} else {
					if err := b.Join("ns", r, m); err != nil {
						t.Errorf("join %s: %v", r, err)
						return
					}
					in[r] = true
				}
				_ = b.Size("ns", r)
				_ = b.Members("ns", r, nil)
			}
			final[c] = in
		})
	}
	var published [publishers][]*host.Frame
	for p := range publishers {
		wg.Go(func() {
			for i := range rounds {
				f := host.NewMessageFrame(fmt.Appendf(nil, "p%d:%d", p, i), false)
				published[p] = append(published[p], f)
				if n := b.Publish("ns", roomName(0), f, 0); n < stable {
					t.Errorf("publish reached %d, fewer than the %d stable members", n, stable)
					return
				}
				other := host.NewMessageFrame(fmt.Appendf(nil, "o%d:%d", p, i), false)
				_ = b.Publish("ns", roomName(1+i%(rooms-1)), other, host.ConnID(i%churners+1))
			}
		})
	}
	wg.Wait()

	// The global order of room0, from the first stable member.
	order := stableMembers[0].got()
	if len(order) != publishers*rounds {
		t.Fatalf("stable member got %d frames, want %d", len(order), publishers*rounds)
	}
	pos := make(map[*host.Frame]int, len(order))
	for i, f := range order {
		pos[f] = i
	}
	for p := range publishers {
		for i := 1; i < rounds; i++ {
			if pos[published[p][i]] < pos[published[p][i-1]] {
				t.Fatalf("publisher %d: frame %d before frame %d", p, i, i-1)
			}
		}
	}
	for _, m := range stableMembers[1:] {
		if got := m.got(); !slices.Equal(got, order) {
			t.Fatalf("stable member %d saw another order", m.id)
		}
	}
	for _, m := range churnMembers {
		last := -1
		for _, f := range m.got() {
			i, ok := pos[f]
			if !ok {
				continue // from another room
			}
			if i <= last {
				t.Fatalf("churning member %d saw room0 out of order", m.id)
			}
			last = i
		}
	}

	// Membership at the end is what the goroutines did.
	want := make(map[string][]host.ConnID)
	for _, m := range stableMembers {
		want[roomName(0)] = append(want[roomName(0)], m.id)
	}
	for c, in := range final {
		for r := range in {
			want[r] = append(want[r], churnMembers[c].id)
		}
	}
	for i := range rooms {
		r := roomName(i)
		got := sortedIDs(b.Members("ns", r, nil))
		if w := sortedIDs(want[r]); !slices.Equal(got, w) {
			t.Errorf("%s: members %v, want %v", r, got, w)
		}
		if b.Size("ns", r) != len(want[r]) {
			t.Errorf("%s: size %d, want %d", r, b.Size("ns", r), len(want[r]))
		}
	}
	// Everyone leaves: every room is gone.
	for c, in := range final {
		for r := range in {
			if err := b.Leave("ns", r, churnMembers[c]); err != nil {
				t.Errorf("final leave: %v", err)
			}
		}
	}
	for _, m := range stableMembers {
		_ = b.Leave("ns", roomName(0), m)
	}
	for i := range rooms {
		if n := b.Size("ns", roomName(i)); n != 0 {
			t.Errorf("%s: %d members left", roomName(i), n)
		}
	}
	if n := host.MemoryBrokerRooms(b); n != 0 {
		t.Errorf("%d empty rooms kept", n)
	}
}

// Rooms through the Endpoint, on live connections: ConnRooms is sorted and
// still lists the rooms in Close; the connection leaves them afterwards.
func TestEndpointRooms(t *testing.T) {
	rec := newRecorder(t)
	var inClose atomic.Pointer[[]string]
	rec.onClose = func(ep *host.Endpoint, id host.ConnID, _ int, _ string) {
		rooms, err := ep.ConnRooms(id, nil)
		if err != nil {
			t.Errorf("ConnRooms in Close: %v", err)
		}
		inClose.Store(&rooms)
	}
	srv := newServer(t, host.Config{})
	ep := mount(t, srv, "r", rec, host.Limits{})
	a := srv.Dial(t, "/ws/r?name=a")
	srv.Dial(t, "/ws/r?name=b")
	ida, idb := rec.id(t, "a"), rec.id(t, "b")

	for _, room := range []string{"zeta", "alpha", "mid", "alpha"} {
		if err := ep.Join(ida, room); err != nil {
			t.Fatalf("join %s: %v", room, err)
		}
	}
	_ = ep.Join(idb, "alpha")
	if rooms, _ := ep.ConnRooms(ida, []string{"x"}); !slices.Equal(rooms, []string{"x", "alpha", "mid", "zeta"}) {
		t.Errorf("ConnRooms %q", rooms)
	}
	if n := ep.RoomSize("alpha"); n != 2 {
		t.Errorf("alpha size %d", n)
	}
	if got := sortedIDs(ep.RoomMembers("alpha", nil)); !slices.Equal(got, sortedIDs([]host.ConnID{ida, idb})) {
		t.Errorf("alpha members %v", got)
	}
	if err := ep.Leave(ida, "mid"); err != nil {
		t.Error(err)
	}
	if err := ep.Leave(ida, "mid"); !errors.Is(err, host.ErrNotFound) {
		t.Errorf("leave twice: %v", err)
	}
	if n := ep.RoomSize("mid"); n != 0 {
		t.Errorf("mid size %d", n)
	}
	for _, room := range []string{"", "a\nb", strings.Repeat("x", 257)} {
		if err := ep.Join(ida, room); !errors.Is(err, host.ErrBadArg) {
			t.Errorf("join %.10q: %v", room, err)
		}
		if err := ep.Leave(ida, room); !errors.Is(err, host.ErrBadArg) {
			t.Errorf("leave %.10q: %v", room, err)
		}
	}
	if err := ep.Join(ida, strings.Repeat("x", 256)); err != nil {
		t.Errorf("256-byte name: %v", err)
	}
	if err := ep.Join(999999, "alpha"); !errors.Is(err, host.ErrNotFound) {
		t.Errorf("join unknown connection: %v", err)
	}
	if _, err := ep.ConnRooms(999999, nil); !errors.Is(err, host.ErrNotFound) {
		t.Errorf("rooms of unknown connection: %v", err)
	}

	_ = a.Close()
	rec.waitClosed(t, ida)
	hosttest.Eventually(t, "Close ran", func() bool { return inClose.Load() != nil })
	if p := inClose.Load(); !slices.Equal(*p, []string{"alpha", strings.Repeat("x", 256), "zeta"}) {
		t.Errorf("ConnRooms in Close: %q", *p)
	}
	hosttest.EventuallyEqual(t, "alpha size", 1, func() int { return ep.RoomSize("alpha") })
	hosttest.EventuallyEqual(t, "zeta size", 0, func() int { return ep.RoomSize("zeta") })
}
