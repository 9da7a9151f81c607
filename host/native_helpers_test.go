package host_test

import (
	"bufio"
	"context"
	"crypto/rand"
	"crypto/sha1"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/wshost/wshost/host"
	"github.com/wshost/wshost/host/hosttest"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

// timeout bounds every wait of these tests.
const timeout = hosttest.Timeout

// testLogger discards logs unless WSHOST_TEST_LOG is set.
func testLogger() *slog.Logger {
	if os.Getenv("WSHOST_TEST_LOG") != "" {
		return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	return slog.New(slog.NewTextHandler(io.Discard, nil))
}

// newServer starts a test server with a quiet logger.
func newServer(t testing.TB, cfg host.Config) *hosttest.Server {
	t.Helper()
	if cfg.Logger == nil {
		cfg.Logger = testLogger()
	}
	return hosttest.NewServer(t, cfg)
}

func mount(t testing.TB, srv *hosttest.Server, name string, h host.Handler, l host.Limits) *host.Endpoint {
	t.Helper()
	ep, err := srv.Mount(name, h, l)
	if err != nil {
		t.Fatalf("mount %s: %v", name, err)
	}
	return ep
}

// ---------------------------------------------------------------------------
// Recording handler

type evKind int

const (
	evOpen evKind = iota + 1
	evMessage
	evError
	evClose
)

func (k evKind) String() string {
	return [...]string{"?", "Open", "Message", "Error", "Close"}[k]
}

// event is one Handler call as the recorder saw it.
type event struct {
	Kind    evKind
	Data    string // the message, the error text or the close reason
	Binary  bool
	Code    int            // Close
	ErrKind host.ErrorKind // Error
}

func (e event) String() string {
	switch e.Kind {
	case evMessage:
		return fmt.Sprintf("Message(%.40q)", e.Data)
	case evError:
		return fmt.Sprintf("Error(%v, %q)", e.ErrKind, e.Data)
	case evClose:
		return fmt.Sprintf("Close(%d, %q)", e.Code, e.Data)
	}
	return e.Kind.String()
}

type connLog struct {
	name     string // the query parameter "name" of the handshake
	events   []event
	rejected bool // Open returned an error
	fatalErr bool // a Protocol/Slow/IO error was reported
	closed   bool
}

// recorder is a host.Handler that records every event per connection and
// checks the order of ABI v1 §3 as events arrive: Open, Message…, Error
// where one applies (Fault errors may come between messages), Close once.
// Its behaviour is set by the function fields before it is mounted; a nil
// message function echoes.
type recorder struct {
	t testing.TB

	open    func(ep *host.Endpoint, id host.ConnID) error
	message func(ep *host.Endpoint, id host.ConnID, msg []byte, binary bool) error
	onError func(ep *host.Endpoint, id host.ConnID, kind host.ErrorKind, text string)
	onClose func(ep *host.Endpoint, id host.ConnID, code int, reason string)

	mu     sync.Mutex
	conns  map[host.ConnID]*connLog
	opened []host.ConnID
}

// newRecorder returns a recorder whose invariants are checked at cleanup,
// after the server (started later, so cleaned up earlier) shut down: every
// accepted connection then got exactly one Close.
func newRecorder(t testing.TB) *recorder {
	r := &recorder{t: t, conns: make(map[host.ConnID]*connLog)}
	t.Cleanup(func() {
		r.mu.Lock()
		defer r.mu.Unlock()
		for id, l := range r.conns {
			if !l.rejected && !l.closed {
				t.Errorf("connection %d (%q) never got its Close: %v", id, l.name, l.events)
			}
		}
	})
	return r
}

func (r *recorder) record(id host.ConnID, e event) {
	r.mu.Lock()
	defer r.mu.Unlock()
	l := r.conns[id]
	if l == nil {
		r.t.Errorf("connection %d: %v before Open", id, e)
		return
	}
	switch {
	case l.rejected:
		r.t.Errorf("connection %d: %v after a rejected Open", id, e)
	case l.closed:
		r.t.Errorf("connection %d: %v after Close", id, e)
	case e.Kind == evMessage && l.fatalErr:
		r.t.Errorf("connection %d: %v after a fatal Error", id, e)
	case e.Kind == evError && e.ErrKind != host.KindFault && l.fatalErr:
		r.t.Errorf("connection %d: second fatal %v", id, e)
	}
	if e.Kind == evError && e.ErrKind != host.KindFault {
		l.fatalErr = true
	}
	if e.Kind == evClose {
		l.closed = true
	}
	l.events = append(l.events, e)
}

func (r *recorder) Open(_ context.Context, ep *host.Endpoint, id host.ConnID) error {
	name, _ := ep.ConnInfo(id, "query.name")
	r.mu.Lock()
	if _, dup := r.conns[id]; dup {
		r.t.Errorf("connection %d opened twice", id)
	}
	r.conns[id] = &connLog{name: name, events: []event{{Kind: evOpen}}}
	r.opened = append(r.opened, id)
	r.mu.Unlock()
	accepted := false
	defer func() { // also when r.open panics
		if !accepted {
			r.mu.Lock()
			r.conns[id].rejected = true
			r.mu.Unlock()
		}
	}()
	var err error
	if r.open != nil {
		err = r.open(ep, id)
	}
	accepted = err == nil
	return err
}

func (r *recorder) Message(_ context.Context, ep *host.Endpoint, id host.ConnID, msg []byte, binary bool) error {
	r.record(id, event{Kind: evMessage, Data: string(msg), Binary: binary})
	if r.message != nil {
		return r.message(ep, id, msg, binary)
	}
	return echo(ep, id, msg, binary)
}

func (r *recorder) Error(_ context.Context, ep *host.Endpoint, id host.ConnID, kind host.ErrorKind, text string) {
	r.record(id, event{Kind: evError, Data: text, ErrKind: kind})
	if r.onError != nil {
		r.onError(ep, id, kind, text)
	}
}

func (r *recorder) Close(_ context.Context, ep *host.Endpoint, id host.ConnID, code int, reason string) {
	r.record(id, event{Kind: evClose, Code: code, Data: reason})
	if r.onClose != nil {
		r.onClose(ep, id, code, reason)
	}
}

// isGone reports an error for a connection that ended: ErrClosed (ABI v1:
// "closing or gone") or ErrNotFound (no longer known).
func isGone(err error) bool {
	return errors.Is(err, host.ErrClosed) || errors.Is(err, host.ErrNotFound)
}

func echo(ep *host.Endpoint, id host.ConnID, msg []byte, binary bool) error {
	if err := ep.Send(id, msg, binary); err != nil && !errors.Is(err, host.ErrClosed) {
		return err
	}
	return nil
}

// id waits for the connection opened with ?name=NAME and returns its id.
func (r *recorder) id(t testing.TB, name string) host.ConnID {
	t.Helper()
	var id host.ConnID
	hosttest.Eventually(t, "connection "+name+" opened", func() bool {
		r.mu.Lock()
		defer r.mu.Unlock()
		for _, cid := range r.opened {
			if r.conns[cid].name == name {
				id = cid
				return true
			}
		}
		return false
	})
	return id
}

func (r *recorder) events(id host.ConnID) []event {
	r.mu.Lock()
	defer r.mu.Unlock()
	if l := r.conns[id]; l != nil {
		return slices.Clone(l.events)
	}
	return nil
}

func (r *recorder) isClosed(id host.ConnID) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	l := r.conns[id]
	return l != nil && l.closed
}

func (r *recorder) numOpened() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.opened)
}

// waitClosed waits for the connection's Close and returns all its events.
func (r *recorder) waitClosed(t testing.TB, id host.ConnID) []event {
	t.Helper()
	hosttest.Eventually(t, fmt.Sprintf("Close of connection %d", id), func() bool { return r.isClosed(id) })
	return r.events(id)
}

// messages returns the texts of the connection's Message events.
func messages(evs []event) []string {
	var out []string
	for _, e := range evs {
		if e.Kind == evMessage {
			out = append(out, e.Data)
		}
	}
	return out
}

// checkEnding checks that evs ends with Error(kind) (none when kind is 0)
// and then Close(code), and starts with Open.
func checkEnding(t testing.TB, evs []event, kind host.ErrorKind, code int) (closeEv, errEv event) {
	t.Helper()
	n := len(evs)
	if n < 2 || evs[0].Kind != evOpen || evs[n-1].Kind != evClose {
		t.Fatalf("events %v: want Open … Close", evs)
	}
	closeEv = evs[n-1]
	if closeEv.Code != code {
		t.Errorf("events %v: Close code %d, want %d", evs, closeEv.Code, code)
	}
	prev := evs[n-2]
	if kind == 0 {
		if prev.Kind == evError && prev.ErrKind != host.KindFault {
			t.Errorf("events %v: unexpected %v before Close", evs, prev)
		}
		return closeEv, event{}
	}
	if prev.Kind != evError || prev.ErrKind != kind {
		t.Errorf("events %v: want Error(%v) just before Close", evs, kind)
	}
	return closeEv, prev
}

// ---------------------------------------------------------------------------
// Raw WebSocket client: the handshake by hand, then frames of any shape.

type rawClient struct {
	t  testing.TB
	nc net.Conn
	br *bufio.Reader
}

func hostPort(srv *hosttest.Server) string { return strings.TrimPrefix(srv.HTTP.URL, "http://") }

func dialTCP(t testing.TB, srv *hosttest.Server) net.Conn {
	t.Helper()
	nc, err := net.DialTimeout("tcp", hostPort(srv), timeout)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = nc.Close() })
	return nc
}

// rawRequest writes req (with "\r\n" line ends added) on a new connection
// and reads the response and its body.
func rawRequest(t testing.TB, srv *hosttest.Server, lines ...string) (*http.Response, string) {
	t.Helper()
	nc := dialTCP(t, srv)
	defer nc.Close()
	_ = nc.SetDeadline(time.Now().Add(timeout))
	if _, err := io.WriteString(nc, strings.Join(lines, "\r\n")+"\r\n\r\n"); err != nil {
		t.Fatal(err)
	}
	resp, err := http.ReadResponse(bufio.NewReader(nc), nil)
	if err != nil {
		t.Fatalf("read response: %v", err)
	}
	body, _ := io.ReadAll(resp.Body)
	return resp, string(body)
}

func headerLines(lines []string) string {
	var b strings.Builder
	for _, l := range lines {
		b.WriteString(l + "\r\n")
	}
	return b.String()
}

func wsKey() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	return base64.StdEncoding.EncodeToString(b[:])
}

func acceptKey(key string) string {
	h := sha1.New()
	h.Write([]byte(key + "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"))
	return base64.StdEncoding.EncodeToString(h.Sum(nil))
}

// dialRaw performs the opening handshake by hand and checks the 101.
func dialRaw(t testing.TB, srv *hosttest.Server, path string) *rawClient {
	t.Helper()
	c, resp := tryDialRaw(t, srv, path)
	if resp.StatusCode != http.StatusSwitchingProtocols {
		t.Fatalf("handshake %s: HTTP %d, want 101", path, resp.StatusCode)
	}
	return c
}

// tryDialRaw performs the handshake with extra header lines ("Origin: x").
func tryDialRaw(t testing.TB, srv *hosttest.Server, path string, extra ...string) (*rawClient, *http.Response) {
	t.Helper()
	nc := dialTCP(t, srv)
	key := wsKey()
	_ = nc.SetDeadline(time.Now().Add(timeout))
	_, err := fmt.Fprintf(nc, "GET %s HTTP/1.1\r\nHost: %s\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"+
		"Sec-WebSocket-Key: %s\r\nSec-WebSocket-Version: 13\r\n%s\r\n", path, hostPort(srv), key, headerLines(extra))
	if err != nil {
		t.Fatal(err)
	}
	br := bufio.NewReader(nc)
	resp, err := http.ReadResponse(br, nil)
	if err != nil {
		t.Fatalf("handshake %s: %v", path, err)
	}
	_ = nc.SetDeadline(time.Time{})
	if resp.StatusCode == http.StatusSwitchingProtocols {
		if got := resp.Header.Get("Sec-WebSocket-Accept"); got != acceptKey(key) {
			t.Fatalf("Sec-WebSocket-Accept %q, want %q", got, acceptKey(key))
		}
	}
	return &rawClient{t: t, nc: nc, br: br}, resp
}

const (
	opCont   = 0x0
	opText   = 0x1
	opBinary = 0x2
	opClose  = 0x8
	opPing   = 0x9
	opPong   = 0xA
)

// frame encodes a client frame: rsv holds the RSV bits (0x40, 0x20, 0x10).
func frame(fin bool, rsv, op byte, payload []byte, masked bool) []byte {
	b0 := rsv | op
	if fin {
		b0 |= 0x80
	}
	var maskBit byte
	if masked {
		maskBit = 0x80
	}
	b := []byte{b0}
	switch n := len(payload); {
	case n <= 125:
		b = append(b, maskBit|byte(n))
	case n <= 0xFFFF:
		b = append(b, maskBit|126)
		b = binary.BigEndian.AppendUint16(b, uint16(n))
	default:
		b = append(b, maskBit|127)
		b = binary.BigEndian.AppendUint64(b, uint64(n))
	}
	if !masked {
		return append(b, payload...)
	}
	key := [4]byte{0x37, 0xfa, 0x21, 0x3d}
	b = append(b, key[:]...)
	for i, p := range payload {
		b = append(b, p^key[i%4])
	}
	return b
}

func textFrame(s string) []byte { return frame(true, 0, opText, []byte(s), true) }

func closeFrame(code int, reason string) []byte {
	body := binary.BigEndian.AppendUint16(nil, uint16(code))
	return frame(true, 0, opClose, append(body, reason...), true)
}

func (c *rawClient) write(frames ...[]byte) {
	c.t.Helper()
	_ = c.nc.SetWriteDeadline(time.Now().Add(timeout))
	if _, err := c.nc.Write(slices.Concat(frames...)); err != nil {
		c.t.Fatalf("raw write: %v", err)
	}
}

type serverFrame struct {
	fin     bool
	rsv     byte
	op      byte
	payload []byte
}

// readFrame reads one server frame; the error is the socket's.
func (c *rawClient) readFrame(deadline time.Duration) (serverFrame, error) {
	_ = c.nc.SetReadDeadline(time.Now().Add(deadline))
	var h [2]byte
	if _, err := io.ReadFull(c.br, h[:]); err != nil {
		return serverFrame{}, err
	}
	f := serverFrame{fin: h[0]&0x80 != 0, rsv: h[0] & 0x70, op: h[0] & 0x0F}
	if h[1]&0x80 != 0 {
		c.t.Errorf("server frame is masked")
	}
	n := uint64(h[1] & 0x7F)
	switch n {
	case 126:
		var ext [2]byte
		if _, err := io.ReadFull(c.br, ext[:]); err != nil {
			return serverFrame{}, err
		}
		n = uint64(binary.BigEndian.Uint16(ext[:]))
	case 127:
		var ext [8]byte
		if _, err := io.ReadFull(c.br, ext[:]); err != nil {
			return serverFrame{}, err
		}
		n = binary.BigEndian.Uint64(ext[:])
	}
	f.payload = make([]byte, n)
	if _, err := io.ReadFull(c.br, f.payload); err != nil {
		return serverFrame{}, err
	}
	return f, nil
}

// readUntilClose reads data messages (reassembling fragments, skipping pings
// and pongs) until the server's close frame and returns them with its code
// and reason.
func (c *rawClient) readUntilClose() (msgs []string, code int, reason string) {
	c.t.Helper()
	var cur []byte
	for {
		f, err := c.readFrame(timeout)
		if err != nil {
			c.t.Fatalf("want a close frame, got %v after %d messages", err, len(msgs))
		}
		if f.rsv != 0 {
			c.t.Errorf("server frame with RSV bits %#x", f.rsv)
		}
		switch f.op {
		case opPing, opPong:
			continue
		case opClose:
			if len(f.payload) < 2 {
				return msgs, 1005, ""
			}
			return msgs, int(binary.BigEndian.Uint16(f.payload)), string(f.payload[2:])
		}
		cur = append(cur, f.payload...)
		if f.fin {
			msgs = append(msgs, string(cur))
			cur = nil
		}
	}
}

// expectClose reads until the close frame and checks its code.
func (c *rawClient) expectClose(code int) (msgs []string, reason string) {
	c.t.Helper()
	msgs, got, reason := c.readUntilClose()
	if got != code {
		c.t.Fatalf("close code %d (%q), want %d; %d messages before", got, reason, code, len(msgs))
	}
	return msgs, reason
}

// expectEOF checks that the server closes the TCP connection (after its
// close frame): nothing more arrives but the end of the stream.
func (c *rawClient) expectEOF() {
	c.t.Helper()
	_ = c.nc.SetReadDeadline(time.Now().Add(timeout))
	b, err := io.ReadAll(c.br)
	if len(b) > 0 {
		c.t.Errorf("%d more bytes after the close frame", len(b))
	}
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		c.t.Fatalf("the server did not close the TCP connection")
	}
}

// readMessage reads one data message, skipping control frames.
func (c *rawClient) readMessage() string {
	c.t.Helper()
	var cur []byte
	for {
		f, err := c.readFrame(timeout)
		if err != nil {
			c.t.Fatalf("read message: %v", err)
		}
		switch f.op {
		case opPing, opPong:
			continue
		case opClose:
			c.t.Fatalf("got close frame %q, want a message", f.payload)
		}
		cur = append(cur, f.payload...)
		if f.fin {
			return string(cur)
		}
	}
}
