package host_test

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/wshost/wshost/host"
	"github.com/wshost/wshost/host/hosttest"
)

// A client that breaks the protocol is closed with 1002; the echo of the
// valid message before the bad frame still arrives first; the handler gets
// Error(Protocol) then Close(1002).
func TestProtocolErrors(t *testing.T) {
	cases := []struct {
		name  string
		bad   []byte
		inErr string // in the Error text
	}{
		{"rsv1", frame(true, 0x40, opText, []byte("x"), true), "RSV1"},
		{"rsv2", frame(true, 0x20, opBinary, []byte("x"), true), "RSV2"},
		{"rsv3", frame(true, 0x10, opText, []byte("x"), true), "RSV3"},
		{"opcode 3", frame(true, 0, 0x3, []byte("x"), true), "bad opcode"},
		{"opcode 11", frame(true, 0, 0xB, nil, true), "bad opcode"},
		{"unmasked", frame(true, 0, opText, []byte("x"), false), "MASK"},
		{"continuation first", frame(true, 0, opCont, []byte("x"), true), "continuation"},
		{"text inside a fragmented message", slices2(frame(false, 0, opText, []byte("a"), true), frame(true, 0, opText, []byte("b"), true)), "FIN"},
		{"fragmented ping", frame(false, 0, opPing, nil, true), "FIN"},
		{"long ping", frame(true, 0, opPing, make([]byte, 126), true), "control"},
		{"close code 999", closeFrame(999, ""), "bad close code 999"},
		{"close code 1005", closeFrame(1005, ""), "bad close code 1005"},
		{"close code 1006", closeFrame(1006, ""), "bad close code 1006"},
		{"close code 5000", closeFrame(5000, ""), "bad close code 5000"},
		{"close reason not UTF-8", closeFrame(1000, "\xff"), "utf8"},
	}
	rec := newRecorder(t)
	srv := newServer(t, host.Config{})
	mount(t, srv, "echo", rec, host.Limits{})
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			name := strings.ReplaceAll(tc.name, " ", "-")
			c := dialRaw(t, srv, "/ws/echo?name="+name)
			id := rec.id(t, name)
			c.write(textFrame("before"), tc.bad, textFrame("after"))
			msgs, _ := c.expectClose(1002)
			if len(msgs) != 1 || msgs[0] != "before" {
				t.Errorf("before the close frame: %q, want [before]", msgs)
			}
			c.expectEOF()
			evs := rec.waitClosed(t, id)
			_, errEv := checkEnding(t, evs, host.KindProtocol, 1002)
			if !strings.Contains(errEv.Data, tc.inErr) {
				t.Errorf("error text %q does not mention %q", errEv.Data, tc.inErr)
			}
			if got := messages(evs); len(got) != 1 || got[0] != "before" {
				t.Errorf("handler got %q, want [before]", got)
			}
		})
	}
}

func slices2(a, b []byte) []byte { return append(append([]byte{}, a...), b...) }

// Invalid UTF-8 in a text message: 1007, Error(Protocol), Close(1007); the
// previous echo comes first. The server waits for the client's close frame.
func TestInvalidUTF8(t *testing.T) {
	cases := map[string][][]byte{
		"whole message":    {textFrame("a\xffb")},
		"surrogate":        {textFrame("\xed\xa0\x80")},
		"overlong":         {textFrame("\xc0\xaf")},
		"ends mid-rune":    {textFrame("ab\xe2\x82")},
		"bad continuation": {frame(false, 0, opText, []byte("ok \xe2"), true), frame(true, 0, opCont, []byte("\x28\xa1"), true)},
		"last fragment":    {frame(false, 0, opText, []byte("fine"), true), frame(true, 0, opCont, []byte("\xff"), true)},
	}
	rec := newRecorder(t)
	// A long close timeout: the host must wait for the client's close frame.
	srv := newServer(t, host.Config{CloseTimeout: time.Minute})
	mount(t, srv, "echo", rec, host.Limits{})
	for name, frames := range cases {
		t.Run(name, func(t *testing.T) {
			qn := strings.ReplaceAll(name, " ", "-")
			c := dialRaw(t, srv, "/ws/echo?name="+qn)
			id := rec.id(t, qn)
			c.write(append([][]byte{textFrame("ok")}, frames...)...)
			msgs, _ := c.expectClose(1007)
			if len(msgs) != 1 || msgs[0] != "ok" {
				t.Errorf("before the close frame: %q, want [ok]", msgs)
			}
			// The host waits for the closing handshake: no Close yet.
			if rec.isClosed(id) {
				t.Errorf("Close before the client answered the close frame")
			}
			c.write(closeFrame(1007, ""))
			c.expectEOF()
			_, errEv := checkEnding(t, rec.waitClosed(t, id), host.KindProtocol, 1007)
			if !strings.Contains(errEv.Data, "UTF-8") {
				t.Errorf("error text %q", errEv.Data)
			}
		})
	}
}

// A valid rune split across fragments is fine, and so is an empty text.
func TestUTF8AcrossFragments(t *testing.T) {
	rec := newRecorder(t)
	srv := newServer(t, host.Config{})
	mount(t, srv, "echo", rec, host.Limits{})
	c := dialRaw(t, srv, "/ws/echo?name=a")
	euro := []byte("€") // e2 82 ac
	c.write(
		frame(false, 0, opText, append([]byte("price "), euro[0]), true),
		frame(false, 0, opCont, euro[1:2], true),
		frame(true, 0, opPing, []byte("p"), true), // a control frame between fragments
		frame(false, 0, opCont, nil, true),
		frame(true, 0, opCont, append(euro[2:], " 5"...), true),
		textFrame(""),
	)
	// The pong for the ping may come first.
	for got := 0; got < 2; {
		f, err := c.readFrame(timeout)
		if err != nil {
			t.Fatal(err)
		}
		switch {
		case f.op == opPong:
			if string(f.payload) != "p" {
				t.Errorf("pong payload %q", f.payload)
			}
		case got == 0 && f.op == opText && string(f.payload) == "price € 5",
			got == 1 && f.op == opText && len(f.payload) == 0:
			got++
		default:
			t.Fatalf("unexpected frame op %d %q", f.op, f.payload)
		}
	}
}

// Fail fast: an invalid sequence in the first fragment closes with 1007
// before the client sent the rest of the message.
func TestInvalidUTF8FirstFragmentFailsFast(t *testing.T) {
	rec := newRecorder(t)
	srv := newServer(t, host.Config{})
	mount(t, srv, "echo", rec, host.Limits{})
	c := dialRaw(t, srv, "/ws/echo?name=a")
	id := rec.id(t, "a")
	c.write(frame(false, 0, opText, []byte("start \xff and more"), true))
	c.expectClose(1007) // the rest was never sent
	c.write(frame(true, 0, opCont, []byte("the rest"), true), closeFrame(1000, ""))
	c.expectEOF()
	evs := rec.waitClosed(t, id)
	checkEnding(t, evs, host.KindProtocol, 1007)
	if got := messages(evs); len(got) != 0 {
		t.Errorf("handler got messages %q", got)
	}
}

// MaxMessageBytes is the largest message allowed, counted on the whole
// reassembled message: 1 MiB means 1,048,576 bytes; one more is 1009.
func TestMessageLimit(t *testing.T) {
	rec := newRecorder(t)
	srv := newServer(t, host.Config{})
	mount(t, srv, "echo", rec, host.Limits{})
	const limit = host.DefaultMaxMessageBytes
	if limit != 1<<20 {
		t.Fatalf("default limit %d", limit)
	}
	c := srv.Dial(t, "/ws/echo?name=a")
	id := rec.id(t, "a")
	big := bytes.Repeat([]byte("x"), limit)
	_ = c.SetWriteDeadline(time.Now().Add(timeout))
	if err := c.WriteMessage(websocket.BinaryMessage, big); err != nil {
		t.Fatal(err)
	}
	if _, msg := c.Read(); !bytes.Equal(msg, big) {
		t.Fatalf("echo of %d bytes: got %d", limit, len(msg))
	}
	// The limit counts the whole message, not one frame: fragments of
	// 64 KiB adding up to one byte over are refused.
	r := dialRaw(t, srv, "/ws/echo?name=b")
	idb := rec.id(t, "b")
	chunk := make([]byte, 64<<10)
	var frames [][]byte
	frames = append(frames, frame(false, 0, opBinary, chunk, true))
	for range limit/len(chunk) - 1 {
		frames = append(frames, frame(false, 0, opCont, chunk, true))
	}
	frames = append(frames, frame(true, 0, opCont, []byte{1}, true))
	r.write(textFrame("small"))
	r.write(frames...)
	msgs, _ := r.expectClose(1009)
	if len(msgs) != 1 || msgs[0] != "small" {
		t.Errorf("before the close frame: %q, want [small]", msgs)
	}
	r.expectEOF()
	_, errEv := checkEnding(t, rec.waitClosed(t, idb), host.KindProtocol, 1009)
	if !strings.Contains(errEv.Data, "1048576") {
		t.Errorf("error text %q does not name the limit", errEv.Data)
	}

	// A smaller limit from Limits, one whole frame over.
	ep2 := mount(t, srv, "small", rec, host.Limits{MaxMessageBytes: 1000})
	c3 := srv.Dial(t, "/ws/small?name=c")
	idc := rec.id(t, "c")
	c3.Send(strings.Repeat("y", 1000))
	c3.Expect(strings.Repeat("y", 1000))
	c3.Send(strings.Repeat("y", 1001))
	c3.ExpectClose(1009)
	checkEnding(t, rec.waitClosed(t, idc), host.KindProtocol, 1009)
	if err := ep2.Send(idc, []byte("x"), false); !isGone(err) {
		t.Errorf("send to a gone connection: %v", err)
	}
	if got := len(messages(rec.events(id))); got != 1 {
		t.Errorf("first connection got %d messages", got)
	}
	hosttest.EventuallyEqual(t, "opened", 3, rec.numOpened)
}

// A frame that declares a length gorilla/websocket cannot represent (a
// 64-bit length with its top bit set) is over any limit: 1009 and
// Error(Protocol), like any other message over the limit, not a dropped
// connection.
func TestHugeDeclaredLength(t *testing.T) {
	rec := newRecorder(t)
	srv := newServer(t, host.Config{})
	mount(t, srv, "echo", rec, host.Limits{})
	c := dialRaw(t, srv, "/ws/echo?name=a")
	id := rec.id(t, "a")
	hdr := []byte{0x82, 0x80 | 127, 0x80, 0, 0, 0, 0, 0, 0, 0, 1, 2, 3, 4}
	c.write(textFrame("first"), hdr)
	msgs, _ := c.expectClose(1009)
	if len(msgs) != 1 || msgs[0] != "first" {
		t.Errorf("before the close frame: %q", msgs)
	}
	c.expectEOF()
	checkEnding(t, rec.waitClosed(t, id), host.KindProtocol, 1009)
}

// A 16 MiB text message in 64-byte fragments, with a 16 MiB limit, arrives
// whole (RFC 6455 allows any fragmentation).
func TestLargeMessageTinyFragments(t *testing.T) {
	const size, frag = 16 << 20, 64
	rec := newRecorder(t)
	srv := newServer(t, host.Config{})
	mount(t, srv, "big", rec, host.Limits{MaxMessageBytes: size, SendQueueBytes: 2*size + 1024})
	r := dialRaw(t, srv, "/ws/big?name=a")
	id := rec.id(t, "a")
	payload := bytes.Repeat([]byte("0123456789abcdef"), size/16)
	frames := make([][]byte, 0, size/frag)
	for i := 0; i < size; i += frag {
		op := byte(opCont)
		if i == 0 {
			op = opText
		}
		frames = append(frames, frame(i+frag == size, 0, op, payload[i:i+frag], true))
	}
	r.write(frames...)
	hosttest.Eventually(t, "the whole message delivered", func() bool {
		got := messages(rec.events(id))
		return len(got) == 1 && len(got[0]) == size
	})
	if got := messages(rec.events(id))[0]; got != string(payload) {
		t.Fatal("the message arrived changed")
	}
}
