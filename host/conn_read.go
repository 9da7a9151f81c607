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

// readLoop is the connection's reader: it runs in the reader goroutine
// (Server.readConn) and hands each whole message to the Handler, in order.
func (c *Conn) readLoop(ctx context.Context, cfg *Config) {
	idle := cfg.PingInterval + cfg.PongTimeout
	extend := func() { _ = c.ws.SetReadDeadline(time.Now().Add(idle)) }
	extend()
	c.ws.SetPongHandler(func(string) error { extend(); return nil })
	c.ws.SetPingHandler(func(data string) error {
		extend()
		_ = c.enqueue(newFrame(opPong, []byte(data)))
		return nil
	})
	c.ws.SetCloseHandler(func(code int, text string) error {
		c.onPeerClose(code, text)
		return nil
	})

	rate := newRateLimiter(c.ep.Limits()) // nil: no rate limits
	// The limit serveConn gave gorilla/websocket, which counts wire bytes.
	maxMsg := c.ep.Limits().MaxMessageBytes
	var buf []byte
	writerStalled := false
	// atFrame: gorilla expects a frame header next (no message begun, or
	// the last one read to its end), and the idle wait may take pongs. A
	// compressed message's reader may end before its last frame does.
	atFrame := true
	for {
		if c.holdWhileQueueHigh(&writerStalled) {
			extend() // the peer took data meanwhile
		}
		c.idle.awaitData(atFrame && !c.deflate, extend)
		typ, r, err := c.ws.NextReader()
		if err != nil {
			c.finish(ctx, err)
			return
		}
		buf, err = readMessage(r, buf[:0], typ == websocket.TextMessage, maxMsg)
		atFrame = err == nil
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
					fmt.Sprintf("protocol: message over the limit of %d bytes (decompressed)", maxMsg))
				continue
			}
			c.finish(ctx, err)
			return
		}
		extend()
		c.ep.stats.msgsIn.add(c.id, 1)
		c.ep.stats.bytesIn.add(c.id, uint64(len(buf)))
		if !c.isOpen() {
			continue // closing: messages that race the close are not delivered
		}
		if rate != nil && !c.withinRate(rate, len(buf)) {
			continue // closing with 1008; read on until the peer's close frame
		}
		c.ep.dispatchMessage(ctx, c, buf, typ == websocket.BinaryMessage)
		if cap(buf) > 64<<10 {
			buf = nil // don't pin a large buffer to an idle connection
		}
	}
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
		c.mu.Unlock()
		if !high {
			return held
		}
		if *stalled {
			select {
			case <-c.wrote: // it moves again
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
		case <-c.wrote: // progress, or the writer stopped (then the state changed or the queue emptied)
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
		if !running {
			c.writerEnded = true
		}
		c.mu.Unlock()
		if !running {
			break
		}
		select {
		case <-c.wrote: // progress or a stop: look again
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
