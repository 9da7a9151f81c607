package host

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"sync/atomic"
	"time"
	"unicode/utf8"

	"github.com/gorilla/websocket"
)

var (
	errInvalidUTF8   = errors.New("invalid UTF-8 in a text message")
	errMessageTooBig = errors.New("message over the limit")
)

// reader is a connection's reader: it reads messages and hands each whole
// one to the Handler, in order, then finishes the connection. It runs in
// one goroutine at a time, and its state is here rather than on a stack
// because it moves between them: where the idle wait can be taken
// (idleReader), an idle reader is parked without a goroutine (park) from
// the handshake and from the first pong after messages stopped coming, and
// otherwise waits in a goroutine started for the wait (wait) or in the one
// that handled the last message (idleHere). A stack that grew while a
// message was handled, or only while a read deadline was set, never
// shrinks below 4 KiB, even blocked in a shallow frame; a fresh one is the
// 2 KiB a goroutine starts with, and the wait fits in it. Where the wait
// cannot be taken, the reader blocks in NextReader in one goroutine for
// the connection's life.
//
// Owned by the goroutine running it: the one Server.startReader starts,
// and from then on each one started by the last (run, wait), with nothing
// read after the go statement.
type reader struct {
	c        *Conn
	ctx      context.Context
	ip       string        // the admission's, released at the end
	idleTime time.Duration // PingInterval+PongTimeout: the read deadline after each read
	rate     *rateLimiter  // nil: no rate limits
	maxMsg   int           // the limit serveConn gave gorilla/websocket, which counts wire bytes
	buf      []byte
	// atFrame: gorilla expects a frame header next (no message begun, or
	// the last one read to its end), and the idle wait may take pongs. A
	// compressed message's reader may end before its last frame does.
	atFrame       bool
	writerStalled bool   // holdWhileQueueHigh's
	parkKey       uint64 // the epoll set's key for it (conn_park_linux.go); 0 until it first parks
}

// startReader starts c's reader, once the handshake is done; ip is its
// admission (Server.admitConn), released when the reader ends. It runs in
// the goroutine that upgraded the connection and returns at once.
func (s *Server) startReader(ctx context.Context, c *Conn, ip string) {
	cfg := &s.cfg
	r := &reader{
		c:        c,
		ctx:      ctx,
		ip:       ip,
		idleTime: cfg.PingInterval + cfg.PongTimeout,
		rate:     newRateLimiter(c.ep.Limits()),
		maxMsg:   c.ep.Limits().MaxMessageBytes,
		atFrame:  true,
	}
	r.extend()
	c.ws.SetPongHandler(func(string) error { r.extend(); return nil })
	c.ws.SetPingHandler(func(data string) error {
		r.extend()
		_ = c.enqueue(newFrame(opPong, []byte(data)))
		return nil
	})
	c.ws.SetCloseHandler(func(code int, text string) error {
		c.onPeerClose(code, text)
		return nil
	})
	if c.idle.canWait() {
		r.park()
		return
	}
	go r.run(false)
}

// extend sets the read deadline: PingInterval+PongTimeout from now.
func (r *reader) extend() { _ = r.c.ws.SetReadDeadline(time.Now().Add(r.idleTime)) }

// wait is the reader idle in a fresh goroutine, started by unpark: once
// there is data it reads on in it.
func (r *reader) wait() {
	if r.idleHere() {
		r.run(true)
	}
}

// idleHere waits for data in the running goroutine, on the socket
// (idleReader.awaitData) with gorilla's read buffer lent out
// (idleReader.release), and reports true once there is some (or an error
// or the deadline) for NextReader. A pong the wait took extends the
// deadline and parks the reader (park): false, the caller returns. So a
// goroutine whose stack grew while it handled a message waits in place as
// long as messages keep coming, without a goroutine started per message,
// and the reader parks at the first pong after they stopped, within a
// PingInterval.
func (r *reader) idleHere() bool {
	idle := &r.c.idle
	idle.release(&r.c.ep.srv.readPools)
	if idle.awaitData(r.atFrame && !r.c.deflate) {
		r.extend()
		r.buf = nil // the last message's buffer is not kept by an idle connection
		r.park()
		return false
	}
	idle.restore(&r.c.ep.srv.readPools)
	return true
}

// run reads messages and hands them to the Handler, waiting in place
// between them (idleHere), until a pong parks the reader or the connection
// ends (it finishes it).
// woke: the wait just ended, and NextReader reads (or reports the error or
// deadline the wait ended with) before the reader may idle again.
func (r *reader) run(woke bool) {
	c := r.c
	for {
		if c.holdWhileQueueHigh(&r.writerStalled) {
			r.extend() // the peer took data meanwhile
		}
		if !woke && c.idle.canWait() && !r.idleHere() {
			return
		}
		woke = false
		typ, rd, err := c.ws.NextReader()
		if err != nil {
			r.end(err)
			return
		}
		r.buf, err = readMessage(rd, r.buf[:0], typ == websocket.TextMessage, r.maxMsg)
		r.atFrame = err == nil
		if err != nil {
			if errors.Is(err, errInvalidUTF8) {
				// Fail fast, then keep reading until the peer's close frame.
				_ = c.startClose(CloseInvalidData, "invalid UTF-8", KindProtocol, "protocol: "+err.Error())
				continue
			}
			if errors.Is(err, errMessageTooBig) {
				// A compressed message inflating past the limit: the same
				// 1009 gorilla/websocket sends for one too big on the wire.
				_ = c.startClose(CloseTooBig, "", KindProtocol,
					fmt.Sprintf("protocol: message over the limit of %d bytes (decompressed)", r.maxMsg))
				continue
			}
			r.end(err)
			return
		}
		r.extend()
		c.ep.stats.msgsIn.add(c.id, 1)
		c.ep.stats.bytesIn.add(c.id, uint64(len(r.buf)))
		if !c.isOpen() {
			continue // closing: messages that race the close are not delivered
		}
		if r.rate != nil && !c.withinRate(r.rate, len(r.buf)) {
			continue // closing with 1008; read on until the peer's close frame
		}
		c.ep.dispatchMessage(r.ctx, c, r.buf, typ == websocket.BinaryMessage)
		if cap(r.buf) > 64<<10 {
			r.buf = nil // don't pin a large buffer to an idle connection
		}
	}
}

// end finishes the connection once the reader stopped reading, and
// releases what serveWebSocket took for it.
func (r *reader) end(readErr error) {
	srv := r.c.ep.srv
	r.c.finish(r.ctx, readErr)
	srv.releaseConn(r.ip)
	srv.conns.Done()
}

// readerHoldMax is how long the reader waits for the writer to make progress
// on a connection whose send queue is more than half full before it reads on
// (and the queue may overflow: a slow consumer).
const readerHoldMax = 100 * time.Millisecond

// holdWhileQueueHigh stops reading the next message while the connection's
// send queue is more than half full and its writer is writing it out. A
// client that pipelines requests faster than the replies are written (the
// reader can handle a socket buffer full of small requests before the writer
// goroutine even runs) is then slowed down by TCP instead of overflowing its
// own queue and being closed as slow while it reads. A writer that made no
// progress for readerHoldMax does not hold the reader again until it writes:
// a peer that does not read is a slow consumer. Called by the reader only;
// it reports whether it held the reader while the writer wrote.
func (c *Conn) holdWhileQueueHigh(stalled *bool) (held bool) {
	lim := c.ep.lim()
	var timer *time.Timer
	defer func() {
		if timer != nil {
			timer.Stop()
		}
	}()
	for {
		c.mu.Lock()
		high := c.state == stateOpen &&
			(c.queuedMsgs > lim.SendQueueMessages/2 || c.queuedBytes > lim.SendQueueBytes/2)
		var wrote chan struct{}
		if high {
			wrote = c.wroteLocked()
		}
		c.mu.Unlock()
		if !high {
			return held
		}
		if *stalled {
			select {
			case <-wrote: // it moves again
				*stalled = false
				held = true
				continue
			default:
				return held
			}
		}
		if timer == nil {
			timer = time.NewTimer(readerHoldMax)
		} else {
			timer.Reset(readerHoldMax)
		}
		select {
		case <-wrote: // progress, or the writer stopped (then the state changed or the queue emptied)
			held = true
		case <-timer.C:
			*stalled = true
			return held
		}
	}
}

// readMessage reads one message of at most limit bytes into buf, checking
// text messages' UTF-8 as each fragment arrives so an invalid one fails
// before the rest is read. gorilla/websocket's read limit counts the bytes
// on the wire; limit bounds what a compressed message inflates to, and
// reading stops one byte past it (errMessageTooBig).
func readMessage(r io.Reader, buf []byte, text bool, limit int) ([]byte, error) {
	checked := 0
	for {
		if len(buf) == cap(buf) {
			buf = append(buf, 0)[:len(buf)]
		}
		room := buf[len(buf):cap(buf)]
		if over := limit + 1 - len(buf); len(room) > over {
			room = room[:over]
		}
		n, err := r.Read(room)
		buf = buf[:len(buf)+n]
		if len(buf) > limit {
			return buf, errMessageTooBig
		}
		if text && n > 0 {
			ok := false
			checked, ok = validUTF8Prefix(buf, checked)
			if !ok {
				return buf, errInvalidUTF8
			}
		}
		if err == io.EOF {
			if text && checked != len(buf) {
				return buf, errInvalidUTF8 // ends inside a sequence
			}
			return buf, nil
		}
		if err != nil {
			return buf, err
		}
	}
}

// validUTF8Prefix checks b[from:] and returns how far b is whole, valid
// UTF-8; ok is false when b holds an invalid sequence (an incomplete one at
// the end may still be completed by the next fragment).
func validUTF8Prefix(b []byte, from int) (upTo int, ok bool) {
	if utf8.Valid(b[from:]) {
		return len(b), true
	}
	i := from
	for i < len(b) {
		if b[i] < utf8.RuneSelf {
			i++
			continue
		}
		if !utf8.FullRune(b[i:]) {
			return i, true
		}
		r, size := utf8.DecodeRune(b[i:])
		if r == utf8.RuneError && size == 1 {
			return i, false
		}
		i += size
	}
	return i, true
}

// finish runs once the reader stopped: it lets the writer end the closing
// handshake, closes the socket, reports Error and Close, and forgets c.
func (c *Conn) finish(ctx context.Context, readErr error) {
	c.mu.Lock()
	if errors.Is(readErr, websocket.ErrReadLimit) {
		// gorilla/websocket reports some frames over the limit (a length
		// with its top bit set, a total that overflows) without writing a
		// close frame first: a protocol error all the same, and what was
		// queued still goes out before the close frame.
		c.startCloseLocked(CloseTooBig, "", KindProtocol,
			fmt.Sprintf("protocol: message over the limit of %d bytes", c.ep.Limits().MaxMessageBytes))
	}
	ioFailure := c.state == stateOpen
	c.failLocked(readFailure(readErr, c.ep.srv.cfg))
	c.readerDone = true
	c.endCloseWaitLocked()
	// Nothing is queued from here on (the state is not open): a writer
	// flushes what is left, the close frame last.
	start := c.startWriterLocked()
	c.mu.Unlock()
	c.ping.Stop() // it re-arms only while open
	if ioFailure {
		_ = c.raw.Close() // nothing more can reach the peer
	}
	if start {
		go c.writeLoop()
	}
	c.waitWriter(c.ep.srv.cfg.WriteTimeout + c.ep.srv.cfg.CloseTimeout)

	c.mu.Lock()
	c.state = stateClosed
	code, reason, kind, text := c.closeCode, c.closeReason, c.errKind, c.errText
	c.mu.Unlock()
	c.ep.deliverClose(ctx, c, code, reason, kind, text)
}

// waitWriter waits until no writer runs, forcing one out of a stuck write
// by closing the socket after d, and then lets none start again. Called by
// the reader once nothing can be queued any more.
func (c *Conn) waitWriter(d time.Duration) {
	t := time.NewTimer(d)
	defer t.Stop()
	timedOut := t.C
	for {
		c.mu.Lock()
		running := c.writing
		var wrote chan struct{}
		if running {
			wrote = c.wroteLocked()
		} else {
			c.writerEnded = true
		}
		c.mu.Unlock()
		if !running {
			break
		}
		select {
		case <-wrote: // progress or a stop: look again
		case <-timedOut:
			_ = c.raw.Close()
			timedOut = nil // from now on the writer fails at once
		}
	}
	_ = c.raw.Close()
}

func readFailure(err error, cfg Config) string {
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		return fmt.Sprintf("read: no data or pong for %s: peer presumed dead", cfg.PingInterval+cfg.PongTimeout)
	}
	// gorilla/websocket reports a dropped connection as a CloseError 1006,
	// which wraps no io error.
	var ce *websocket.CloseError
	if errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF) ||
		(errors.As(err, &ce) && ce.Code == websocket.CloseAbnormalClosure) {
		return "read: connection dropped without a close frame"
	}
	return "read: " + err.Error()
}

// interceptConn is the hijacked socket as gorilla/websocket sees it. Once
// armed, a close frame gorilla writes on a protocol error (bad frame, read
// limit) is not written but handed to onClose, so the writer sends it after
// what was already queued. Nothing else is written through it after the
// handshake: pings, pongs and data go through the writer.
type interceptConn struct {
	net.Conn
	onClose atomic.Pointer[func(code int, reason string)]
	deflate bool // the 101 response accepted permessage-deflate
}

// SetWriteDeadline is ignored once armed: gorilla/websocket sets a 1s write
// deadline before the close frame it hands to onClose, and the socket's
// write deadline belongs to the writer goroutine, which may be in the middle
// of a long write that must not inherit it.
func (ic *interceptConn) SetWriteDeadline(t time.Time) error {
	if ic.onClose.Load() != nil {
		return nil
	}
	return ic.Conn.SetWriteDeadline(t)
}

func (ic *interceptConn) Write(p []byte) (int, error) {
	if fn := ic.onClose.Load(); fn != nil {
		if code, reason, ok := parseCloseFrame(p); ok {
			(*fn)(code, reason)
			return len(p), nil
		}
	} else if !ic.deflate {
		ic.deflate = acceptsDeflate(p) // the handshake's response
	}
	return ic.Conn.Write(p)
}
