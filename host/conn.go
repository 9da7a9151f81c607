package host

import (
	"net"
	"net/http"
	"net/textproto"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gorilla/websocket"
)

// connState is where a connection is in its life; guarded by Conn.mu.
type connState uint8

const (
	stateOpen    connState = iota // sends are queued
	stateClosing                  // a close started: sends answer ErrClosed
	stateClosed                   // Close was delivered
)

// Conn is one client connection. Open runs in the HTTP handler goroutine;
// after the handshake its reader (reader, started by Server.startReader)
// takes over and is the only caller of the Handler for it. Its writer
// goroutine runs only while there is something to write (queued frames, a
// due ping, the close frame): whoever gives it work when none runs starts it
// (startWriterLocked), and it returns once the queue is empty, so an idle
// connection holds no writer goroutine. At most one writer runs at a time
// (c.writing), and it is the only writer of the socket once the handshake
// is done. Other goroutines only queue frames and start closes, through the
// methods below, which are safe for concurrent use.
//
// Lock order: roomsMu (held across Broker calls), then mu.
type Conn struct {
	id   ConnID
	ep   *Endpoint
	info connInfo

	ws  *websocket.Conn // reader side; nil until the upgrade
	raw net.Conn        // the socket; written only by the writer
	// deflate: permessage-deflate was negotiated. Set with raw, under mu,
	// before any writer starts; read by the writers and the reader.
	deflate bool
	// idle is how the reader waits for data between messages; set after
	// setSocket, before the reader starts, and used by the reader only.
	idle idleReader
	// parked is the reader while it is parked (reader.park), without a
	// goroutine; whoever swaps it out starts one (unpark).
	parked atomic.Pointer[reader]
	// ping fires every PingInterval from the upgrade until the reader
	// finishes, and makes a ping due (pingDue). Set with raw.
	ping *time.Timer

	mu    sync.Mutex
	state connState
	// writing: a writer goroutine runs (or was started and is about to).
	// Set by whoever starts it, cleared by the writer when it returns.
	writing bool
	// writerEnded: no writer starts again (a write failed, the close frame
	// went out, or the reader finished and its last writer returned).
	writerEnded bool
	pingDue     bool // the ping timer fired; the writer sends a ping
	queue       []*Frame
	queuedBytes int // queued plus being written
	queuedMsgs  int
	closeFrame  *Frame // written after the queue, once
	closeTaken  bool
	closeCode   int
	closeReason string
	errKind     ErrorKind // reported with Error before Close; 0 for none
	errText     string
	attrs       Attrs
	peerClosing bool // the peer's close frame arrived
	readerDone  bool // the reader stopped reading
	// closeWait is made by the writer that sent the close frame when it
	// waits for the peer's close frame or the reader's end, and closed
	// (then cleared) by whichever of them comes first: an open connection
	// holds no channel for its closing.
	closeWait chan struct{}
	// wrote (cap 1) gets a token when the writer wrote a batch or returned.
	// Made by the reader the first time it waits for the writer
	// (wroteLocked), and kept: a connection whose reader never did holds
	// none. Only the reader receives.
	wrote chan struct{}

	roomsMu   sync.Mutex
	rooms     []string // sorted; a slice, not a map: most connections are in one room or few
	roomsDone bool     // leaveAll ran: no more joins
}

// connInfo is what the handshake said about a connection, as compact as
// an idle connection can hold it: the query and the headers are kept as
// text and looked up when asked (lookup). Immutable.
type connInfo struct {
	remoteAddr  string
	path        string
	rawQuery    string // the request's, still escaped
	header      string // the request's header fields, packed (packHeader)
	subprotocol string
}

// packHeader packs h into one string of "Key:value\n" lines, a line per
// value, in the order of each key's values. A field name holds no ':' or
// newline and net/http accepts no newline in a value, so the lines parse
// back unambiguously (headerValue).
func packHeader(h http.Header) string {
	n := 0
	for k, vs := range h {
		for _, v := range vs {
			n += len(k) + len(v) + 2
		}
	}
	var b strings.Builder
	b.Grow(n)
	for k, vs := range h {
		for _, v := range vs {
			b.WriteString(k)
			b.WriteByte(':')
			b.WriteString(v)
			b.WriteByte('\n')
		}
	}
	return b.String()
}

// headerValue returns the first value of the header field name in packed
// (packHeader), as http.Header.Get would of the header it packs.
func headerValue(packed, name string) (string, bool) {
	key := textproto.CanonicalMIMEHeaderKey(name)
	for line := range strings.Lines(packed) {
		if v, ok := strings.CutPrefix(line, key); ok && strings.HasPrefix(v, ":") {
			return strings.TrimSuffix(v[1:], "\n"), true
		}
	}
	return "", false
}

// queryValue returns the first value of the query parameter name in
// rawQuery, as url.URL.Query would.
func queryValue(rawQuery, name string) (string, bool) {
	if rawQuery == "" {
		return "", false
	}
	vs, _ := url.ParseQuery(rawQuery)
	if v := vs[name]; len(v) > 0 {
		return v[0], true
	}
	return "", false
}

func newConn(id ConnID, ep *Endpoint, info connInfo) *Conn {
	return &Conn{
		id:   id,
		ep:   ep,
		info: info,
	}
}

// ID implements Member.
func (c *Conn) ID() ConnID { return c.id }

// Close starts the closing handshake, as Endpoint.Close does.
func (c *Conn) Close(code int, reason string) error { return c.ep.Close(c.id, code, reason) }

// Deliver implements Member: it queues f unless the connection is closing
// or its queue would overflow.
func (c *Conn) Deliver(f *Frame) bool { return c.enqueue(f) == nil }

// startWriterLocked marks a writer as running when there is something to
// write and none runs; the caller must then, after unlocking c.mu, start it
// with go c.writeLoop(). c.mu must be held.
func (c *Conn) startWriterLocked() bool {
	if c.writing || c.writerEnded || c.raw == nil || !c.hasWorkLocked() {
		return false
	}
	c.writing = true
	return true
}

// hasWorkLocked reports whether the writer has something to write. c.mu
// must be held.
func (c *Conn) hasWorkLocked() bool {
	return len(c.queue) > 0 || (c.closeFrame != nil && !c.closeTaken) || c.pingDue
}

// kick starts the writer if it has work and none runs.
func (c *Conn) kick() {
	c.mu.Lock()
	start := c.startWriterLocked()
	c.mu.Unlock()
	if start {
		go c.writeLoop()
	}
}

// onPingTimer runs when the ping timer fires: a ping becomes due and the
// timer is armed again, while the connection is open.
func (c *Conn) onPingTimer() {
	c.mu.Lock()
	if c.state != stateOpen {
		c.mu.Unlock()
		return
	}
	c.pingDue = true
	c.ping.Reset(c.ep.srv.cfg.PingInterval)
	start := c.startWriterLocked()
	c.mu.Unlock()
	if start {
		go c.writeLoop()
	}
	// The pong is waited for by a goroutine, under the read deadline.
	c.unpark()
}

// enqueue queues f. A queue past its limits closes the connection with 1008
// and reports KindSlow.
func (c *Conn) enqueue(f *Frame) error {
	lim := c.ep.lim()
	c.mu.Lock()
	if c.state != stateOpen {
		c.mu.Unlock()
		return ErrClosed
	}
	if c.queuedMsgs+1 > lim.SendQueueMessages || c.queuedBytes+f.Len() > lim.SendQueueBytes {
		c.ep.stats.dropped.Add(uint64(len(c.queue)) + 1)
		c.ep.stats.slowCloses.Add(1)
		c.queuedMsgs -= len(c.queue)
		for i := range c.queue {
			c.queuedBytes -= c.queue[i].Len()
			c.queue[i] = nil
		}
		c.queue = c.queue[:0]
		c.startCloseLocked(ClosePolicy, "send queue overflow", KindSlow,
			"send queue overflow: the client reads too slowly")
		start := c.startWriterLocked()
		c.mu.Unlock()
		if start {
			go c.writeLoop()
		}
		return ErrClosed
	}
	c.queue = append(c.queue, f)
	c.queuedMsgs++
	c.queuedBytes += f.Len()
	start := c.startWriterLocked()
	c.mu.Unlock()
	if start {
		go c.writeLoop()
	}
	return nil
}

// startCloseLocked begins the closing handshake from the host's side. It
// reports false when a close had already started. c.mu must be held.
func (c *Conn) startCloseLocked(code int, reason string, kind ErrorKind, text string) bool {
	if c.state != stateOpen {
		return false
	}
	c.state = stateClosing
	c.closeCode, c.closeReason = code, reason
	c.errKind, c.errText = kind, text
	c.closeFrame = newCloseFrame(code, reason)
	return true
}

// startClose begins the closing handshake; ErrClosed if one had started.
func (c *Conn) startClose(code int, reason string, kind ErrorKind, text string) error {
	c.mu.Lock()
	ok := c.startCloseLocked(code, reason, kind, text)
	start := c.startWriterLocked()
	c.mu.Unlock()
	if start {
		go c.writeLoop()
	}
	if !ok {
		return ErrClosed
	}
	return nil
}

// onPeerClose runs in the reader when the peer's close frame arrived.
func (c *Conn) onPeerClose(code int, reason string) {
	c.mu.Lock()
	c.peerClosing = true
	if c.state == stateOpen {
		c.state = stateClosing
		c.closeCode, c.closeReason = code, reason
		c.closeFrame = newCloseFrame(code, "") // echo the code (RFC 6455 §5.5.1)
	}
	c.endCloseWaitLocked()
	start := c.startWriterLocked()
	c.mu.Unlock()
	if start {
		go c.writeLoop()
	}
}

// wroteLocked returns c.wrote, made if need be, for the reader to wait on.
// c.mu must be held: a writer that changed what the reader looked at in an
// earlier critical section had no channel to tell, and one that changes it
// later finds this one.
func (c *Conn) wroteLocked() chan struct{} {
	if c.wrote == nil {
		c.wrote = make(chan struct{}, 1)
	}
	return c.wrote
}

// endCloseWaitLocked ends the close frame's writer's wait for the peer's
// close frame, if it waits: the frame arrived or the reader stopped. c.mu
// must be held.
func (c *Conn) endCloseWaitLocked() {
	if c.closeWait != nil {
		close(c.closeWait)
		c.closeWait = nil
	}
}

func (c *Conn) isOpen() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.state == stateOpen
}

// failLocked marks a connection whose socket failed: nothing more can be
// sent. A close the host had started keeps its code and kind.
func (c *Conn) failLocked(text string) {
	if c.state == stateOpen {
		c.state = stateClosing
		c.closeCode = CloseAbnormal
		c.errKind, c.errText = KindIO, text
	}
}

// dropQueued forgets queued frames (when Open rejected the connection).
func (c *Conn) dropQueued() {
	c.mu.Lock()
	clear(c.queue)
	c.queue = c.queue[:0]
	c.queuedBytes, c.queuedMsgs = 0, 0
	c.closeFrame = nil
	c.mu.Unlock()
}

// setSocket records the upgraded socket, starts the ping timer, and starts
// the writer for what was queued before the upgrade (by Open, say). The
// reader and the writers use ws, raw and deflate without the lock after
// this: the reader runs after it in the same goroutine, and every writer is
// started under c.mu after it.
func (c *Conn) setSocket(ws *websocket.Conn, raw net.Conn, deflate bool) {
	c.mu.Lock()
	c.ws, c.raw, c.deflate = ws, raw, deflate
	c.ping = time.AfterFunc(c.ep.srv.cfg.PingInterval, c.onPingTimer)
	start := c.startWriterLocked()
	c.mu.Unlock()
	if start {
		go c.writeLoop()
	}
}

// dropSocket closes the socket from any goroutine (a shutdown past its
// deadline): the reader and writer then fail and finish.
func (c *Conn) dropSocket() {
	c.mu.Lock()
	raw := c.raw
	c.mu.Unlock()
	if raw != nil {
		_ = raw.Close()
		c.unpark() // a parked reader learns of it
	}
}

// attr returns an attribute set with ConnSet.
func (c *Conn) attr(key string) (string, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.attrs.Get(key)
}

// setAttr sets key to val; "" removes it.
func (c *Conn) setAttr(key, val string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.attrs.Set(key, val)
}

func (c *Conn) clearAttrs() {
	c.mu.Lock()
	c.attrs = nil
	c.mu.Unlock()
}
