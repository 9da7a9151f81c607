//go:build !wasip1

package wshost

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"slices"
	"strings"
	"testing"
)

// fake is an in-memory host that follows the ABI's buffer rule (write what
// fits, return the full size) so the SDK's retry logic can be tested natively.
type fake struct {
	payload []byte
	sent    []string
	info    map[string]string
	members []uint64
	rooms   string
	state   map[string][]byte
	logs    []string
	calls   map[string]int
	grow    func() // called after each room_members call
	rc      int32  // when non-zero, every call but event_read and log returns it
}

func newFake(t *testing.T) *fake {
	f := &fake{info: map[string]string{}, state: map[string][]byte{}, calls: map[string]int{}}
	native = f
	scratch, event = make([]byte, 512), nil
	t.Cleanup(func() { native = nil; handlers = Handlers{}; registered = false; warned = false })
	return f
}

func fill(buf, v []byte) int32 {
	copy(buf, v)
	return int32(len(v))
}

func (f *fake) EventRead(buf []byte) int32 { f.calls["event_read"]++; return fill(buf, f.payload) }

func (f *fake) Send(conn uint64, msg []byte, flags uint32) int32 {
	f.calls["send"]++
	if f.rc != 0 {
		return f.rc
	}
	f.sent = append(f.sent, fmt.Sprintf("send %d %d %s", conn, flags, msg))
	return 0
}

func (f *fake) Broadcast(room, msg []byte, flags uint32, except uint64) int32 {
	if f.rc != 0 {
		return f.rc
	}
	f.sent = append(f.sent, fmt.Sprintf("broadcast %s %d %d %s", room, flags, except, msg))
	return 3
}

func (f *fake) Join(conn uint64, room []byte) int32  { return f.rc }
func (f *fake) Leave(conn uint64, room []byte) int32 { return f.rc }

func (f *fake) Close(conn uint64, code int32, reason []byte) int32 {
	f.sent = append(f.sent, fmt.Sprintf("close %d %d %s", conn, code, reason))
	return f.rc
}

func (f *fake) RoomSize(room []byte) int32 {
	if f.rc != 0 {
		return f.rc
	}
	return int32(len(f.members))
}

func (f *fake) RoomMembers(room, buf []byte) int32 {
	f.calls["room_members"]++
	if f.rc != 0 {
		return f.rc
	}
	for i, id := range f.members {
		if len(buf) < 8*(i+1) {
			break
		}
		binary.LittleEndian.PutUint64(buf[8*i:], id)
	}
	n := int32(len(f.members))
	if f.grow != nil {
		f.grow()
	}
	return n
}

func (f *fake) ConnRooms(conn uint64, buf []byte) int32 {
	if f.rc != 0 {
		return f.rc
	}
	return fill(buf, []byte(f.rooms))
}

func (f *fake) ConnInfo(conn uint64, key, buf []byte) int32 {
	f.calls["conn_info"]++
	if f.rc != 0 {
		return f.rc
	}
	v, ok := f.info[string(key)]
	if !ok {
		return -1
	}
	return fill(buf, []byte(v))
}

func (f *fake) ConnSet(conn uint64, key, val []byte) int32 { return f.rc }

func (f *fake) StateGet(key, buf []byte) int32 {
	if f.rc != 0 {
		return f.rc
	}
	v, ok := f.state[string(key)]
	if !ok {
		return -1
	}
	return fill(buf, v)
}

func (f *fake) StateSet(key, val []byte) int32 {
	if f.rc != 0 {
		return f.rc
	}
	f.state[string(key)] = bytes.Clone(val)
	return 0
}

func (f *fake) StateDelete(key []byte) int32 { return f.rc }

func (f *fake) StateAdd(key []byte, delta int64, out []byte) int32 {
	if f.rc != 0 {
		return f.rc
	}
	var n int64
	if v, ok := f.state[string(key)]; ok {
		if len(v) != 8 {
			return -2
		}
		n = int64(binary.LittleEndian.Uint64(v))
	}
	n += delta
	f.state[string(key)] = binary.LittleEndian.AppendUint64(nil, uint64(n))
	binary.LittleEndian.PutUint64(out, uint64(n))
	return 0
}

func (f *fake) ConfigGet(key, buf []byte) int32 {
	if f.rc != 0 {
		return f.rc
	}
	return fill(buf, []byte("cfg:"+string(key)))
}

func (f *fake) Log(level int32, msg []byte) {
	f.logs = append(f.logs, fmt.Sprintf("%d %s", level, msg))
}

func (f *fake) Now() int64 {
	if f.rc != 0 {
		return int64(f.rc)
	}
	return 1_700_000_000_000_000_000
}

func TestErrors(t *testing.T) {
	tests := []struct {
		name string
		err  error
		code int32
	}{
		{"nil", nil, 0},
		{"not found", ErrNotFound, -1},
		{"bad arg", ErrBadArg, -2},
		{"too large", ErrTooLarge, -3},
		{"closed", ErrClosed, -4},
		{"limit", ErrLimit, -5},
		{"unknown code", errOf(-9), -9},
		{"wrapped", fmt.Errorf("sending: %w", ErrClosed), -4},
		{"foreign", errors.New("x"), math.MinInt32},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := Code(tt.err); got != tt.code {
				t.Errorf("Code = %d, want %d", got, tt.code)
			}
			if tt.code < 0 && tt.code != math.MinInt32 && !errors.Is(tt.err, errOf(tt.code)) {
				t.Errorf("errors.Is(%v, errOf(%d)) = false", tt.err, tt.code)
			}
		})
	}
	if errOf(0) != nil || errOf(7) != nil {
		t.Error("non-negative codes must be nil errors")
	}
	if errOf(-4) != ErrClosed {
		t.Error("errOf(-4) != ErrClosed")
	}
	if got := errOf(-9).Error(); got != "wshost: error -9" {
		t.Errorf("errOf(-9).Error() = %q", got)
	}
}

func TestCalls(t *testing.T) {
	f := newFake(t)
	if err := Send(7, []byte("hi")); err != nil {
		t.Fatal(err)
	}
	if err := SendBinary(7, []byte{0, 1}); err != nil {
		t.Fatal(err)
	}
	if n, err := Broadcast("r", []byte("all"), false, 7); n != 3 || err != nil {
		t.Fatalf("Broadcast = %d, %v", n, err)
	}
	if err := Close(7, 4000, "bye"); err != nil {
		t.Fatal(err)
	}
	if err := Close(7, math.MaxInt32+1, ""); err != ErrBadArg {
		t.Fatalf("Close with a code outside int32 = %v, want ErrBadArg", err)
	}
	want := []string{"send 7 0 hi", "send 7 1 \x00\x01", "broadcast r 0 7 all", "close 7 4000 bye"}
	if !slices.Equal(f.sent, want) {
		t.Errorf("calls:\n%q\nwant\n%q", f.sent, want)
	}

	f.rc = -4
	if err := Send(7, nil); err != ErrClosed {
		t.Errorf("Send = %v, want ErrClosed", err)
	}
	if n, err := Broadcast("r", nil, true, 0); n != 0 || err != ErrClosed {
		t.Errorf("Broadcast = %d, %v, want 0, ErrClosed", n, err)
	}
	if n, err := RoomSize("r"); n != 0 || err != ErrClosed {
		t.Errorf("RoomSize = %d, %v", n, err)
	}
	if v, err := ConnInfo(1, "id"); v != "" || err != ErrClosed {
		t.Errorf("ConnInfo = %q, %v", v, err)
	}
	if got := Now(); got != 0 {
		t.Errorf("Now with the budget spent = %d, want 0", got)
	}
	f.rc = 0
	if got := Now(); got != 1_700_000_000_000_000_000 {
		t.Errorf("Now = %d", got)
	}
}

func TestBufferResults(t *testing.T) {
	f := newFake(t)
	for _, n := range []int{0, 1, 511, 512, 513, 5000, keepScratch + 1} {
		v := strings.Repeat("v", n)
		f.info["k"] = v
		f.calls["conn_info"] = 0
		got, err := ConnInfo(1, "k")
		if err != nil || got != v {
			t.Fatalf("ConnInfo of %d bytes = %d bytes, %v", n, len(got), err)
		}
		if c := f.calls["conn_info"]; c > 2 {
			t.Errorf("ConnInfo of %d bytes took %d calls", n, c)
		}
	}
	if len(scratch) > keepScratch {
		t.Errorf("scratch kept %d bytes, above keepScratch", len(scratch))
	}
	if _, err := ConnInfo(1, "missing"); err != ErrNotFound {
		t.Errorf("missing key: %v", err)
	}

	f.state["empty"] = []byte{}
	if v, err := StateGet("empty"); err != nil || v == nil || len(v) != 0 {
		t.Errorf("StateGet(empty) = %v, %v; want a non-nil empty slice", v, err)
	}
	f.state["k"] = []byte("value")
	v, _ := StateGet("k")
	v[0] = 'X' // a copy, not the scratch buffer
	if w, _ := StateGet("k"); string(w) != "value" {
		t.Errorf("StateGet returned an alias of the scratch buffer")
	}
	if n, err := StateAdd("c", -3); n != -3 || err != nil {
		t.Errorf("StateAdd = %d, %v", n, err)
	}
	if n, err := StateAdd("c", 10); n != 7 || err != nil {
		t.Errorf("StateAdd = %d, %v", n, err)
	}
	if _, err := StateAdd("k", 1); err != ErrBadArg {
		t.Errorf("StateAdd on a 5-byte value = %v", err)
	}
	if v, err := Config("x"); v != "cfg:x" || err != nil {
		t.Errorf("Config = %q, %v", v, err)
	}

	f.rooms = "a\nroom two\nz\n"
	if r, err := ConnRooms(1); err != nil || !slices.Equal(r, []string{"a", "room two", "z"}) {
		t.Errorf("ConnRooms = %q, %v", r, err)
	}
	f.rooms = ""
	if r, err := ConnRooms(1); err != nil || r != nil {
		t.Errorf("ConnRooms of none = %q, %v", r, err)
	}
}

func TestRoomMembersGrowsMeanwhile(t *testing.T) {
	f := newFake(t)
	for i := range 100 { // 800 bytes: more than the initial scratch
		f.members = append(f.members, uint64(i+1))
	}
	f.grow = func() { // another instance joins between the calls
		if len(f.members) < 300 {
			f.members = append(f.members, uint64(len(f.members)+1))
		}
	}
	ids, err := RoomMembers("r")
	if err != nil {
		t.Fatal(err)
	}
	if len(ids) != len(f.members)-1 && len(ids) != len(f.members) {
		t.Fatalf("got %d ids, room has %d", len(ids), len(f.members))
	}
	for i, id := range ids {
		if id != ConnID(i+1) {
			t.Fatalf("ids[%d] = %d", i, id)
		}
	}
	if c := f.calls["room_members"]; c != 2 {
		t.Errorf("room_members called %d times, want 2", c)
	}
	f.members = nil
	if ids, err := RoomMembers("r"); ids != nil || err != nil {
		t.Errorf("empty room: %v, %v", ids, err)
	}
}

func TestDispatch(t *testing.T) {
	f := newFake(t)
	// Without Handle: connections are rejected, messages fail, once-only log.
	if rc := onOpen(1); rc != 1 {
		t.Errorf("on_open without handlers = %d, want 1", rc)
	}
	if rc := onMessage(1, 0, 0); rc != 1 {
		t.Errorf("on_message without handlers = %d, want 1", rc)
	}
	if len(f.logs) != 1 || !strings.Contains(f.logs[0], "init") {
		t.Errorf("logs = %q", f.logs)
	}

	var got []string
	Handle(Handlers{
		Open: func(c ConnID) error {
			if c == 2 {
				return errors.New("no")
			}
			return nil
		},
		Message: func(c ConnID, data []byte, binary bool) error {
			got = append(got, fmt.Sprintf("msg %d %q %v", c, data, binary))
			if string(data) == "fail" {
				return errors.New("boom")
			}
			return nil
		},
		Close: func(c ConnID, code int, reason string) {
			got = append(got, fmt.Sprintf("close %d %d %q", c, code, reason))
		},
		Error: func(c ConnID, kind ErrorKind, text string) {
			got = append(got, fmt.Sprintf("error %d %v %q", c, kind, text))
		},
	})
	if onOpen(1) != 0 || onOpen(2) != 1 {
		t.Error("Open's error must reject")
	}
	event := func(p string) uint32 { f.payload = []byte(p); return uint32(len(p)) }
	if rc := onMessage(1, event("hello"), 0); rc != 0 {
		t.Errorf("on_message = %d", rc)
	}
	onMessage(1, event(strings.Repeat("x", 3000)), 1)
	if rc := onMessage(1, event("fail"), 0); rc != 1 {
		t.Errorf("on_message with a handler error = %d, want 1", rc)
	}
	onMessage(1, event(""), 0)
	onClose(1, 1006, event(""))
	onClose(1, 4000, event("bye"))
	onError(1, 3, event("trap: on_message"))
	want := []string{
		`msg 1 "hello" false`,
		fmt.Sprintf("msg 1 %q true", strings.Repeat("x", 3000)),
		`msg 1 "fail" false`,
		`msg 1 "" false`,
		`close 1 1006 ""`,
		`close 1 4000 "bye"`,
		`error 1 fault "trap: on_message"`,
	}
	if !slices.Equal(got, want) {
		t.Errorf("events:\n%q\nwant\n%q", got, want)
	}
	if l := f.logs[len(f.logs)-1]; l != "3 message handler: boom" {
		t.Errorf("last log = %q", l)
	}
	if c := f.calls["event_read"]; c != 5 {
		t.Errorf("event_read called %d times, want 5 (never for an empty payload)", c)
	}
}

func TestEchoDoesNotAllocate(t *testing.T) {
	f := newFake(t)
	Handle(Handlers{Message: func(c ConnID, data []byte, binary bool) error {
		return Send(c, data)
	}})
	f.payload = []byte(strings.Repeat("m", 1000))
	onMessage(1, 1000, 0) // warm the event buffer
	native = &allocFree{}
	if n := testing.AllocsPerRun(100, func() { onMessage(1, 1000, 0) }); n != 0 {
		t.Errorf("on_message → event_read → send allocates %v times per message", n)
	}
}

// allocFree is a host whose event_read and send do not allocate either.
type allocFree struct{ fake }

func (*allocFree) EventRead(buf []byte) int32                       { return int32(len(buf)) }
func (*allocFree) Send(conn uint64, msg []byte, flags uint32) int32 { return 0 }
