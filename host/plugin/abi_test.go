package plugin_test

// ABI v1 conformance through real sockets, driven by the probe plugin
// (testdata/probe, README.md lists its commands). This file has the helpers
// and the message and room functions: event_read, send, broadcast, join,
// leave, close, room_size, room_members, conn_rooms. The other abi_*_test.go
// files cover connection info, state, config, log, now, the budget, the
// events and the guarantees.

import (
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/wshost/wshost/host"
	"github.com/wshost/wshost/host/hosttest"
)

// unknownID is a connection id no test server hands out (ids count up from 1).
const unknownID = "999999999"

// probeClient is a connection to a probe plugin, with its connection id.
type probeClient struct {
	*hosttest.Client
	t  testing.TB
	id string
}

// dialProbe connects to path (say "/ws/probe?open=join:r") and asks the
// probe for the connection's id.
func dialProbe(t testing.TB, f *fixture, path string) *probeClient {
	t.Helper()
	c := f.Dial(t, path)
	reply := c.Call("id")
	id, ok := strings.CutPrefix(reply, "= ")
	if n, err := strconv.ParseUint(id, 10, 64); !ok || err != nil || n == 0 {
		t.Fatalf("id: got %q, want \"= ID\" with ID > 0", reply)
	}
	return &probeClient{Client: c, t: t, id: id}
}

// expect sends cmd and fails the test now unless the reply is want.
func (p *probeClient) expect(cmd, want string) {
	p.t.Helper()
	if got := p.Call(cmd); got != want {
		p.t.Fatalf("%q: got %q, want %q", cmd, got, want)
	}
}

// step is one command of a table test and the reply it must get. {a}, {b}
// ... in cmd and want are replaced with connection ids.
type step struct {
	name, cmd, want string
}

// runSteps sends each step's command on c, in order, and checks the reply.
// A wrong reply is reported and the table goes on (the replies stay in step:
// each command gets exactly one).
func runSteps(t testing.TB, c *probeClient, ids *strings.Replacer, steps []step) {
	t.Helper()
	for _, s := range steps {
		cmd, want := ids.Replace(s.cmd), ids.Replace(s.want)
		if got := c.Call(cmd); got != want {
			t.Errorf("%s: %q: got %q, want %q", s.name, cmd, got, want)
		}
	}
}

// idReplacer maps {a}, {b}, ... to the clients' ids and {unknown} to unknownID.
func idReplacer(clients ...*probeClient) *strings.Replacer {
	args := []string{"{unknown}", unknownID}
	for i, c := range clients {
		args = append(args, "{"+string(rune('a'+i))+"}", c.id)
	}
	return strings.NewReplacer(args...)
}

// sortedIDs joins the clients' ids in ascending numeric order, as the
// probe's members command lists them.
func sortedIDs(clients ...*probeClient) string {
	ids := make([]uint64, len(clients))
	for i, c := range clients {
		ids[i], _ = strconv.ParseUint(c.id, 10, 64)
	}
	slices.Sort(ids)
	s := make([]string, len(ids))
	for i, id := range ids {
		s[i] = strconv.FormatUint(id, 10)
	}
	return strings.Join(s, ",")
}

// expectCloseFrame reads the server's close frame, which must come before
// any data message, and checks its code and reason.
func expectCloseFrame(t testing.TB, c *hosttest.Client, code int, reason string) {
	t.Helper()
	_ = c.SetReadDeadline(time.Now().Add(hosttest.Timeout))
	typ, msg, err := c.ReadMessage()
	if err == nil {
		t.Fatalf("got message %d %q, want close %d %q", typ, msg, code, reason)
	}
	var ce *websocket.CloseError
	if !errors.As(err, &ce) {
		t.Fatalf("want close %d %q, got %v", code, reason, err)
	}
	if ce.Code != code || ce.Text != reason {
		t.Fatalf("got close %d %q, want %d %q", ce.Code, ce.Text, code, reason)
	}
}

// sendClose writes a close frame with code and reason to the server.
func sendClose(t testing.TB, c *hosttest.Client, code int, reason string) {
	t.Helper()
	if err := c.WriteControl(websocket.CloseMessage, websocket.FormatCloseMessage(code, reason), time.Now().Add(hosttest.Timeout)); err != nil {
		t.Fatalf("write close: %v", err)
	}
}

// readBinary reads the next message, which must be binary.
func readBinary(t testing.TB, c *hosttest.Client) []byte {
	t.Helper()
	typ, msg := c.Read()
	if typ != websocket.BinaryMessage {
		t.Fatalf("got text message %q, want binary", msg)
	}
	return msg
}

func writeBinary(t testing.TB, c *hosttest.Client, msg []byte) {
	t.Helper()
	_ = c.SetWriteDeadline(time.Now().Add(hosttest.Timeout))
	if err := c.WriteMessage(websocket.BinaryMessage, msg); err != nil {
		t.Fatalf("write binary: %v", err)
	}
}

// TestABIEventRead: on_message's len is the payload's size and event_read
// copies all of it, text and binary, empty to large; a pointer outside
// memory is ERR_BAD_ARG for event_read and every other pointer argument the
// probe can pass.
func TestABIEventRead(t *testing.T) {
	f := newFixture(t, host.Config{})
	f.install(t, "probe", "probe.wasm", "")
	c := dialProbe(t, f, "/ws/probe")
	for _, n := range []int{0, 1, 507, 508, 4096, 100_000} {
		text := strings.Repeat("é", n/2) + strings.Repeat("x", n%2)
		if got := c.Call("echo " + text); got != text {
			t.Errorf("echo of %d bytes came back as %d bytes", len(text), len(got))
		}
	}
	for _, n := range []int{0, 1, 512, 70_000} {
		msg := make([]byte, n)
		for i := range msg {
			msg[i] = byte(i * 7)
		}
		writeBinary(t, c.Client, msg)
		if got := readBinary(t, c.Client); string(got) != string(msg) {
			t.Errorf("binary echo of %d bytes came back as %d bytes", n, len(got))
		}
	}
	// send, event_read, conn_info, state_set, state_add with a bad pointer.
	c.expect("badptr", "= -2 -2 -2 -2 -2")
	if _, err := f.Endpoint("probe").StateGet("badptr"); err == nil {
		t.Error("state_add with its out pointer outside memory changed the state")
	}
}

// TestABIMessageLimit: a message of exactly the limit passes in and out; one
// byte more is ERR_TOO_LARGE for send and broadcast, and closes an incoming
// connection with 1009 after on_error kind 1.
func TestABIMessageLimit(t *testing.T) {
	f := newFixture(t, host.Config{})
	f.install(t, "probe", "probe.wasm", "[limits]\nmessage_bytes = 1000\n")
	a := dialProbe(t, f, "/ws/probe")
	b := dialProbe(t, f, "/ws/probe")
	a.expect("join "+a.id+" r", "= 0")
	a.expect("join "+b.id+" r", "= 0")

	// In: exactly the limit is a message, one byte more is a protocol error.
	big := make([]byte, 1000)
	writeBinary(t, b.Client, big)
	if got := readBinary(t, b.Client); len(got) != 1000 {
		t.Fatalf("binary echo of 1000 bytes came back as %d", len(got))
	}
	if got := b.Call("echo " + strings.Repeat("y", 995)); len(got) != 995 {
		t.Fatalf("echo of 995 bytes (command of 1000) came back as %d", len(got))
	}
	writeBinary(t, b.Client, append(big, 0))
	b.ExpectClose(host.CloseTooBig)
	hosttest.EventuallyEqual(t, "b's close record", "1009 |r", func() string { return stateString(f, "probe", "close:"+b.id) })
	if got := stateString(f, "probe", "error:"+b.id); !strings.HasPrefix(got, "1 ") {
		t.Errorf("on_error before the 1009 close: got %q, want kind 1 (PROTOCOL)", got)
	}

	// Out: lower the limit under a's feet. The open connection keeps its
	// read limit of 1000 bytes, so commands longer than the new limit of 64
	// still arrive, while what the plugin sends is held to 64 bytes.
	f.install(t, "probe", "probe.wasm", "[limits]\nmessage_bytes = 64\n")
	if got := f.Endpoint("probe").Limits().MaxMessageBytes; got != 64 {
		t.Fatalf("message limit after the reload: %d, want 64", got)
	}
	at, over := strings.Repeat("m", 64), strings.Repeat("m", 65)
	for _, tc := range []struct {
		name, cmd, want string
		echoed          bool // a gets the message before the reply
	}{
		{"send at the limit", "send " + a.id + " " + at, "= 0", true},
		{"send over the limit", "send " + a.id + " " + over, "= -3", false},
		{"binary send over the limit", "sendbin " + a.id + " " + over, "= -3", false},
		{"raw send over the limit", "sendflags " + a.id + " 1 " + over, "= -3", false},
		{"broadcast at the limit", "broadcast r 0 " + at, "= 1", true},
		{"broadcast over the limit", "broadcast r 0 " + over, "= -3", false},
		{"over the limit to an unknown connection", "send " + unknownID + " " + at, "= -1", false},
	} {
		a.Send(tc.cmd)
		if tc.echoed {
			a.Expect(at)
		}
		if got := a.ReadText(); got != tc.want {
			t.Errorf("%s: got %q, want %q", tc.name, got, tc.want)
		}
	}
	// A connection opened after the reload has the new read limit.
	c := f.Dial(t, "/ws/probe")
	writeBinary(t, c, make([]byte, 65))
	c.ExpectClose(host.CloseTooBig)
}

// TestABISend: send's text and binary messages and its error codes.
func TestABISend(t *testing.T) {
	f := newFixture(t, host.Config{CloseTimeout: hosttest.Timeout})
	f.install(t, "probe", "probe.wasm", "")
	a := dialProbe(t, f, "/ws/probe")
	b := dialProbe(t, f, "/ws/probe")
	ids := idReplacer(a, b)
	for _, tc := range []struct {
		name, cmd, want string
		text, binary    string // what b receives, if anything
	}{
		{name: "text", cmd: "send {b} hello there", want: "= 0", text: "hello there"},
		{name: "empty text", cmd: "send {b} -", want: "= 0", text: ""},
		{name: "utf-8 text", cmd: "send {b} héllo ✓", want: "= 0", text: "héllo ✓"},
		{name: "binary", cmd: "sendbin {b} bytes", want: "= 0", binary: "bytes"},
		{name: "flags 0", cmd: "sendflags {b} 0 zero", want: "= 0", text: "zero"},
		{name: "flags 1", cmd: "sendflags {b} 1 one", want: "= 0", binary: "one"},
		{name: "flags 2", cmd: "sendflags {b} 2 two", want: "= -2"},
		{name: "flags 3", cmd: "sendflags {b} 3 three", want: "= -2"},
		{name: "flags 1<<31", cmd: "sendflags {b} 2147483648 high", want: "= -2"},
		{name: "unknown connection", cmd: "send {unknown} x", want: "= -1"},
		{name: "unknown connection, binary", cmd: "sendbin {unknown} x", want: "= -1"},
		{name: "connection id 0", cmd: "send 0 x", want: "= -1"},
	} {
		if got := a.Call(ids.Replace(tc.cmd)); got != tc.want {
			t.Errorf("%s: got %q, want %q", tc.name, got, tc.want)
			continue
		}
		switch {
		case tc.want != "= 0":
		case tc.binary != "":
			if got := readBinary(t, b.Client); string(got) != tc.binary {
				t.Errorf("%s: b got %q, want binary %q", tc.name, got, tc.binary)
			}
		default:
			b.Expect(tc.text)
		}
	}
	// Nothing else reached b: its next message is the next one sent.
	b.expect("id", "= "+b.id)

	// A closing connection answers ERR_CLOSED. The test server waits long
	// for b's close frame, and b does not read: b stays "closing".
	a.expect("join "+b.id+" rr", "= 0")
	a.expect("broadcast rr 0 early", "= 1")
	a.expect("send "+b.id+" last", "= 0")
	a.expect("close "+b.id+" 4321 going", "= 0")
	a.expect("send "+b.id+" late", "= -4")
	a.expect("sendbin "+b.id+" late", "= -4")
	a.expect("broadcast rr 0 late", "= 0") // b is a member, but closing
	b.Expect("early")
	b.Expect("last")
	expectCloseFrame(t, b.Client, 4321, "going")
}

// TestABISendToGoneConnection: after a connection ended and its on_close
// ran, sending to it is ERR_CLOSED ("closing or gone"), not ERR_NOT_FOUND,
// which is for ids that never were connections.
func TestABISendToGoneConnection(t *testing.T) {
	f := newFixture(t, host.Config{})
	f.install(t, "probe", "probe.wasm", "")
	a := dialProbe(t, f, "/ws/probe")
	b := dialProbe(t, f, "/ws/probe")
	sendClose(t, b.Client, 1000, "")
	hosttest.EventuallyEqual(t, "b's close record", "1000 |", func() string { return stateString(f, "probe", "close:"+b.id) })
	bid, _ := strconv.ParseUint(b.id, 10, 64)
	hosttest.Eventually(t, "b forgotten by the host", func() bool {
		_, err := f.Endpoint("probe").ConnInfo(host.ConnID(bid), "id")
		return errors.Is(err, host.ErrNotFound)
	})
	a.expect("send "+unknownID+" x", "= -1")
	for _, cmd := range []string{"send", "sendbin"} {
		if got := a.Call(cmd + " " + b.id + " x"); got != "= -4" {
			t.Errorf("%s to a connection that ended: got %q, want \"= -4\" (ERR_CLOSED: the connection is closing or gone)", cmd, got)
		}
	}
}

// TestABIBroadcast: broadcast's count, except, empty rooms, room names,
// message checks, and rooms scoped to their plugin.
func TestABIBroadcast(t *testing.T) {
	f := newFixture(t, host.Config{})
	f.install(t, "probe", "probe.wasm", "")
	f.install(t, "probe2", "probe.wasm", "")
	a := dialProbe(t, f, "/ws/probe")
	b := dialProbe(t, f, "/ws/probe")
	ctl := dialProbe(t, f, "/ws/probe") // not a member: its replies come alone
	other := dialProbe(t, f, "/ws/probe2")
	ids := idReplacer(a, b, ctl)
	ctl.expect("join "+a.id+" r", "= 0")
	ctl.expect("join "+b.id+" r", "= 0")
	other.expect("join "+other.id+" r", "= 0") // probe2's own room r

	room256, room257 := strings.Repeat("n", 256), strings.Repeat("n", 257)
	for _, tc := range []struct {
		name, cmd, want string
		toA, toB        bool // the broadcast reaches a, b
		msg             string
	}{
		{name: "two members", cmd: "broadcast r 0 m1", want: "= 2", toA: true, toB: true, msg: "m1"},
		{name: "except a", cmd: "broadcast r {a} m2", want: "= 1", toB: true, msg: "m2"},
		{name: "except b", cmd: "broadcast r {b} m3", want: "= 1", toA: true, msg: "m3"},
		{name: "except a non-member", cmd: "broadcast r {c} m4", want: "= 2", toA: true, toB: true, msg: "m4"},
		{name: "except an unknown id", cmd: "broadcast r {unknown} m5", want: "= 2", toA: true, toB: true, msg: "m5"},
		{name: "empty message", cmd: "broadcast r 0 -", want: "= 2", toA: true, toB: true, msg: ""},
		{name: "no such room", cmd: "broadcast nobody 0 m6", want: "= 0"},
		{name: "256-byte name, no such room", cmd: "broadcast " + room256 + " 0 m7", want: "= 0"},
		{name: "empty room name", cmd: "broadcast - 0 m8", want: "= -2"},
		{name: "257-byte room name", cmd: "broadcast " + room257 + " 0 m9", want: "= -2"},
		{name: "room name with a newline", cmd: "broadcast r\nx 0 m10", want: "= -2"},
	} {
		if got := ctl.Call(ids.Replace(tc.cmd)); got != tc.want {
			t.Errorf("%s: got %q, want %q", tc.name, got, tc.want)
		}
		if tc.toA {
			a.Expect(tc.msg)
		}
		if tc.toB {
			b.Expect(tc.msg)
		}
	}
	// The sender is counted and served like any member.
	a.Send("broadcast r 0 self")
	a.Expect("self")
	a.Expect("= 2")
	b.Expect("self")
	// probe2's room r is another room: one member, other.
	other.Send("broadcast r 0 x")
	other.Expect("x")
	other.Expect("= 1")
	// Nothing else reached a or b: their next message is the next broadcast.
	ctl.expect("broadcast r 0 end", "= 2")
	a.Expect("end")
	b.Expect("end")
}

// TestABIRooms: join, leave, room_size, room_members and conn_rooms.
func TestABIRooms(t *testing.T) {
	f := newFixture(t, host.Config{})
	f.install(t, "probe", "probe.wasm", "")
	a := dialProbe(t, f, "/ws/probe")
	b := dialProbe(t, f, "/ws/probe")
	ids := idReplacer(a, b)
	room256, room257 := strings.Repeat("n", 256), strings.Repeat("n", 257)
	runSteps(t, a, ids, []step{
		{"no such room", "size r", "= 0"},
		{"no such room has no members", "members r", "= 0"},
		{"no rooms", "rooms {a}", "= 0"},
		{"join", "join {a} r", "= 0"},
		{"join again", "join {a} r", "= 0"},
		{"size after joining twice", "size r", "= 1"},
		{"members", "members r", "= 1 {a}"},
		{"join another connection", "join {b} r", "= 0"},
		{"size of two", "size r", "= 2"},
		{"members of two", "members r", "= 2 " + sortedIDs(a, b)},
		{"rooms of one room", "rooms {a}", "= 2 r"},
		{"join a second room", "join {a} s2", "= 0"},
		{"join a 256-byte room", "join {a} " + room256, "= 0"},
		{"rooms: names and size", "rooms {a}", "= " + strconv.Itoa(2+3+257) + " " + room256 + ",r,s2"},
		{"rooms of b", "rooms {b}", "= 2 r"},
		{"size of the 256-byte room", "size " + room256, "= 1"},
		{"leave", "leave {a} r", "= 0"},
		{"leave again", "leave {a} r", "= -1"},
		{"leave a room never joined", "leave {a} never", "= -1"},
		{"leave a room b is in but a is not", "leave {a} r", "= -1"},
		{"size after leaving", "size r", "= 1"},
		{"members after leaving", "members r", "= 1 {b}"},
		{"last member leaves", "leave {b} r", "= 0"},
		{"an empty room is gone", "size r", "= 0"},
		{"an empty room has no members", "members r", "= 0"},
		{"b has no rooms", "rooms {b}", "= 0"},
		{"rooms of a", "rooms {a}", "= " + strconv.Itoa(3+257) + " " + room256 + ",s2"},
		{"join an unknown connection", "join {unknown} r", "= -1"},
		{"leave an unknown connection", "leave {unknown} r", "= -1"},
		{"rooms of an unknown connection", "rooms {unknown}", "= -1"},
		{"join an empty name", "join {a} -", "= -2"},
		{"join a 257-byte name", "join {a} " + room257, "= -2"},
		{"join a name with a newline", "join {a} x\ny", "= -2"},
		{"leave an empty name", "leave {a} -", "= -2"},
		{"leave a 257-byte name", "leave {a} " + room257, "= -2"},
		{"size of an empty name", "size -", "= -2"},
		{"size of a 257-byte name", "size " + room257, "= -2"},
		{"size of a name with a newline", "size x\ny", "= -2"},
		{"members of an empty name", "members -", "= -2"},
		{"members of a 257-byte name", "members " + room257, "= -2"},
		{"nothing joined by the bad names", "rooms {a}", "= " + strconv.Itoa(3+257) + " " + room256 + ",s2"},
	})
}

// TestABIClose: close's codes, reason limits and error codes; the client
// sees the code and the reason after what was queued before.
func TestABIClose(t *testing.T) {
	// The server waits for the targets' close frames as long as a test
	// waits: a target that does not read stays "closing".
	f := newFixture(t, host.Config{CloseTimeout: hosttest.Timeout})
	f.install(t, "probe", "probe.wasm", "")
	ctl := dialProbe(t, f, "/ws/probe")

	reason123 := strings.Repeat("é", 61) + "a" // 123 bytes
	reason124 := strings.Repeat("é", 62)       // 124 bytes, 62 characters
	reasonLong := strings.Repeat("r", 124)     // 124 bytes
	for _, tc := range []struct {
		name   string
		code   int
		reason string // "" is sent as "-"
	}{
		{"1000", 1000, "done"},
		{"1000 without reason", 1000, ""},
		{"3000", 3000, "three"},
		{"4000", 4000, "x y z"},
		{"4999 with a 123-byte reason", 4999, reason123},
	} {
		target := dialProbe(t, f, "/ws/probe")
		reason := tc.reason
		if reason == "" {
			reason = "-"
		}
		ctl.expect("send "+target.id+" before", "= 0")
		if got := ctl.Call(fmt.Sprintf("close %s %d %s", target.id, tc.code, reason)); got != "= 0" {
			t.Errorf("%s: close: got %q, want \"= 0\"", tc.name, got)
			continue
		}
		if got := ctl.Call(fmt.Sprintf("close %s %d %s", target.id, tc.code, reason)); got != "= -4" {
			t.Errorf("%s: closing twice: got %q, want \"= -4\"", tc.name, got)
		}
		if got := ctl.Call("close " + target.id + " 1000 -"); got != "= -4" {
			t.Errorf("%s: closing twice with another code: got %q, want \"= -4\"", tc.name, got)
		}
		target.Expect("before")
		expectCloseFrame(t, target.Client, tc.code, tc.reason)
	}

	target := dialProbe(t, f, "/ws/probe")
	ids := idReplacer(target)
	runSteps(t, ctl, ids, []step{
		{"code 999", "close {a} 999 -", "= -2"},
		{"code 1001", "close {a} 1001 -", "= -2"},
		{"code 1005", "close {a} 1005 -", "= -2"},
		{"code 1006", "close {a} 1006 -", "= -2"},
		{"code 1011", "close {a} 1011 -", "= -2"},
		{"code 2999", "close {a} 2999 -", "= -2"},
		{"code 5000", "close {a} 5000 -", "= -2"},
		{"code 0", "close {a} 0 -", "= -2"},
		{"code -1", "close {a} -1 -", "= -2"},
		{"reason of 124 ASCII bytes", "close {a} 1000 " + reasonLong, "= -3"},
		{"reason of 62 characters, 124 bytes", "close {a} 4000 " + reason124, "= -3"},
		{"unknown connection", "close {unknown} 1000 -", "= -1"},
		{"the target is still open", "send {a} still open", "= 0"},
	})
	target.Expect("still open")
	target.expect("id", "= "+target.id)
}
