package host_test

import (
	"bytes"
	"compress/flate"
	"crypto/rand"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/wshost/wshost/host"
)

// offerDeflate is the extension offer of a browser.
const offerDeflate = "Sec-WebSocket-Extensions: permessage-deflate; client_max_window_bits"

// deflateMsg compresses msg as an RFC 7692 message payload: deflate, sync
// flush, the trailing 0x00 0x00 0xff 0xff removed.
func deflateMsg(t testing.TB, msg []byte) []byte {
	t.Helper()
	var b bytes.Buffer
	fw, _ := flate.NewWriter(&b, flate.BestCompression)
	if _, err := fw.Write(msg); err != nil {
		t.Fatal(err)
	}
	if err := fw.Flush(); err != nil {
		t.Fatal(err)
	}
	z := b.Bytes()
	if !bytes.HasSuffix(z, []byte{0, 0, 0xff, 0xff}) {
		t.Fatalf("flush did not end with an empty stored block")
	}
	return z[:len(z)-4]
}

// inflateMsg decompresses an RFC 7692 message payload.
func inflateMsg(t testing.TB, z []byte) []byte {
	t.Helper()
	fr := flate.NewReader(io.MultiReader(bytes.NewReader(z), strings.NewReader("\x00\x00\xff\xff\x01\x00\x00\xff\xff")))
	b, err := io.ReadAll(fr)
	if err != nil {
		t.Fatalf("inflate: %v", err)
	}
	return b
}

// readDataFrame reads the next data frame, skipping pings and pongs.
func (c *rawClient) readDataFrame() serverFrame {
	c.t.Helper()
	for {
		f, err := c.readFrame(timeout)
		if err != nil {
			c.t.Fatalf("read frame: %v", err)
		}
		if f.op != opPing && f.op != opPong {
			return f
		}
	}
}

// expectMessage reads one unfragmented data message and checks that it is
// msg and was compressed (RSV1) or not as want.
func (c *rawClient) expectMessage(msg []byte, compressed bool) {
	c.t.Helper()
	f := c.readDataFrame()
	if !f.fin || (f.op != opText && f.op != opBinary) {
		c.t.Fatalf("frame op %#x fin %v, want a whole data message", f.op, f.fin)
	}
	if got := f.rsv == 0x40; got != compressed || f.rsv&^0x40 != 0 {
		c.t.Fatalf("message of %d bytes: RSV bits %#x, want compressed=%v", len(msg), f.rsv, compressed)
	}
	got := f.payload
	if compressed {
		if len(got) >= len(msg) {
			c.t.Errorf("compressed message of %d bytes takes %d on the wire", len(msg), len(got))
		}
		got = inflateMsg(c.t, got)
	}
	if !bytes.Equal(got, msg) {
		c.t.Fatalf("message %.40q (%d bytes), want %.40q (%d bytes)", got, len(got), msg, len(msg))
	}
}

// compressible is n bytes of text that deflates well.
func compressible(n int) []byte {
	var b []byte
	for i := 0; len(b) < n; i++ {
		b = fmt.Appendf(b, "message %d of the compression test; ", i)
	}
	return b[:n]
}

// permessage-deflate is negotiated only when the server enables it and the
// client offers it; the server compresses only on such connections.
func TestDeflateNegotiation(t *testing.T) {
	for _, tc := range []struct {
		name           string
		enabled, offer bool
	}{
		{"off-offered", false, true},
		{"on-offered", true, true},
		{"on-not-offered", true, false},
		{"off-not-offered", false, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rec := newRecorder(t)
			srv := newServer(t, host.Config{Compression: host.Compression{Enabled: tc.enabled}})
			mount(t, srv, "echo", rec, host.Limits{})
			var extra []string
			if tc.offer {
				extra = append(extra, offerDeflate)
			}
			c, resp := tryDialRaw(t, srv, "/ws/echo?name=a", extra...)
			if resp.StatusCode != http.StatusSwitchingProtocols {
				t.Fatalf("HTTP %d", resp.StatusCode)
			}
			want := tc.enabled && tc.offer
			ext := resp.Header.Get("Sec-WebSocket-Extensions")
			if got := strings.HasPrefix(ext, "permessage-deflate"); got != want {
				t.Fatalf("Sec-WebSocket-Extensions %q, want negotiated=%v", ext, want)
			}
			if want && !strings.Contains(ext, "server_no_context_takeover") {
				t.Errorf("Sec-WebSocket-Extensions %q: want no context takeover", ext)
			}
			msg := compressible(4000)
			c.write(textFrame(string(msg)))
			c.expectMessage(msg, want)
			c.write(closeFrame(1000, ""))
			c.expectClose(1000)
			checkEnding(t, rec.waitClosed(t, rec.id(t, "a")), 0, 1000)
		})
	}
}

// Compressed messages round-trip both ways; small and incompressible ones
// go out plain; control frames are never compressed.
func TestDeflateRoundTrip(t *testing.T) {
	rec := newRecorder(t)
	srv := newServer(t, host.Config{Compression: host.Compression{Enabled: true, MinBytes: 100}})
	mount(t, srv, "echo", rec, host.Limits{})
	c, _ := tryDialRaw(t, srv, "/ws/echo?name=b", offerDeflate)
	id := rec.id(t, "b")

	big := compressible(10000)
	small := compressible(99)
	exact := compressible(100)
	random := make([]byte, 3000)
	_, _ = rand.Read(random)

	// Compressed by the client (a compressed small one too), or not.
	c.write(frame(true, 0x40, opText, deflateMsg(t, big), true))
	c.expectMessage(big, true)
	c.write(frame(true, 0x40, opText, deflateMsg(t, small), true))
	c.expectMessage(small, false)
	c.write(frame(true, 0, opText, exact, true))
	c.expectMessage(exact, true)
	c.write(frame(true, 0, opBinary, random, true))
	c.expectMessage(random, false) // deflate would not shrink it
	// A compressed message in fragments: RSV1 on the first frame only.
	z := deflateMsg(t, big)
	c.write(frame(false, 0x40, opBinary, z[:len(z)/2], true), frame(true, 0, opCont, z[len(z)/2:], true))
	c.expectMessage(big, true)

	c.write(frame(true, 0, opPing, []byte("p"), true))
	for {
		f, err := c.readFrame(timeout)
		if err != nil {
			t.Fatal(err)
		}
		if f.op == opPong {
			if f.rsv != 0 || string(f.payload) != "p" {
				t.Errorf("pong rsv %#x payload %q", f.rsv, f.payload)
			}
			break
		}
	}
	c.write(closeFrame(1000, ""))
	c.expectClose(1000) // fails on RSV bits in the close frame
	evs := rec.waitClosed(t, id)
	checkEnding(t, evs, 0, 1000)
	want := []string{string(big), string(small), string(exact), string(random), string(big)}
	got := messages(evs)
	if len(got) != len(want) {
		t.Fatalf("handler got %d messages, want %d", len(got), len(want))
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("message %d: %.40q, want %.40q", i, got[i], want[i])
		}
	}

	// gorilla/websocket as a client that compresses.
	d := websocket.Dialer{HandshakeTimeout: timeout, EnableCompression: true}
	gc, _, err := d.Dial(srv.WS+"/ws/echo?name=g", nil)
	if err != nil {
		t.Fatal(err)
	}
	defer gc.Close()
	_ = gc.SetReadDeadline(time.Now().Add(timeout))
	for _, msg := range [][]byte{big, small, random, big} {
		if err := gc.WriteMessage(websocket.BinaryMessage, msg); err != nil {
			t.Fatal(err)
		}
		if _, echo, err := gc.ReadMessage(); err != nil || !bytes.Equal(echo, msg) {
			t.Fatalf("gorilla echo of %d bytes: %d bytes, %v", len(msg), len(echo), err)
		}
	}
	_ = gc.WriteMessage(websocket.CloseMessage, websocket.FormatCloseMessage(1000, ""))
	checkEnding(t, rec.waitClosed(t, rec.id(t, "g")), 0, 1000)
}

// A compressed message that inflates past MaxMessageBytes (a bomb: 100 KiB
// of zeros in about 100 bytes) is refused with 1009 like one too big on the
// wire; one that inflates to exactly the limit is delivered.
func TestDeflateBomb(t *testing.T) {
	const limit = 64 << 10
	rec := newRecorder(t)
	srv := newServer(t, host.Config{Compression: host.Compression{Enabled: true}})
	mount(t, srv, "echo", rec, host.Limits{MaxMessageBytes: limit})
	c, _ := tryDialRaw(t, srv, "/ws/echo?name=a", offerDeflate)
	id := rec.id(t, "a")

	exact := make([]byte, limit)
	c.write(frame(true, 0x40, opBinary, deflateMsg(t, exact), true))
	c.expectMessage(exact, true)

	bomb := deflateMsg(t, make([]byte, 100<<10))
	if len(bomb) > 200 {
		t.Fatalf("bomb of %d bytes", len(bomb))
	}
	c.write(frame(true, 0x40, opBinary, bomb, true), textFrame("after"))
	msgs, _ := c.expectClose(1009)
	if len(msgs) != 0 {
		t.Errorf("%d messages before the close frame", len(msgs))
	}
	c.write(closeFrame(1009, ""))
	c.expectEOF()
	evs := rec.waitClosed(t, id)
	_, errEv := checkEnding(t, evs, host.KindProtocol, 1009)
	if !strings.Contains(errEv.Data, "65536") {
		t.Errorf("error text %q does not name the limit", errEv.Data)
	}
	if got := messages(evs); len(got) != 1 || len(got[0]) != limit {
		t.Errorf("handler got %d messages, want only the one of the limit", len(got))
	}
}

// A broadcast to members that did and did not negotiate compression is
// deflated once, however many compress it; each member gets it its way.
func TestDeflateBroadcastMixed(t *testing.T) {
	rec := newRecorder(t)
	rec.open = joinFromQuery
	srv := newServer(t, host.Config{Compression: host.Compression{Enabled: true}})
	ep := mount(t, srv, "room", rec, host.Limits{})
	type member struct {
		c        *rawClient
		compress bool
	}
	var members []member
	for i := range 5 {
		compress := i%2 == 0
		var extra []string
		if compress {
			extra = append(extra, offerDeflate)
		}
		name := fmt.Sprint("m", i)
		c, _ := tryDialRaw(t, srv, "/ws/room?join=r&name="+name, extra...)
		rec.id(t, name)
		members = append(members, member{c, compress})
	}
	// A gorilla client that compresses, too.
	d := websocket.Dialer{HandshakeTimeout: timeout, EnableCompression: true}
	gc, _, err := d.Dial(srv.WS+"/ws/room?join=r&name=g", nil)
	if err != nil {
		t.Fatal(err)
	}
	defer gc.Close()
	rec.id(t, "g")

	big := compressible(50000)
	small := []byte("hi all")
	before := host.DeflateCalls()
	for _, msg := range [][]byte{big, small, big} {
		n, err := ep.Broadcast("r", msg, false, 0)
		if err != nil || n != 6 {
			t.Fatalf("broadcast: %d, %v", n, err)
		}
	}
	for _, m := range members {
		m.c.expectMessage(big, m.compress)
		m.c.expectMessage(small, false)
		m.c.expectMessage(big, m.compress)
	}
	_ = gc.SetReadDeadline(time.Now().Add(timeout))
	for _, msg := range [][]byte{big, small, big} {
		if _, got, err := gc.ReadMessage(); err != nil || !bytes.Equal(got, msg) {
			t.Fatalf("gorilla client: %d bytes, %v; want %d", len(got), err, len(msg))
		}
	}
	if n := host.DeflateCalls() - before; n != 2 {
		t.Errorf("%d deflate calls for 2 big broadcasts to 4 compressing members, want 2", n)
	}
}
