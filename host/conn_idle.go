package host

import (
	"bufio"
	"io"
	"net"
	"sync"
	"syscall"
)

// An idle connection's reader waits for the next message in a shallow frame
// (awaitData, in reader.wait) rather than inside gorilla/websocket's
// NextReader, whose blocked call chain is too deep for the 2 KiB stack a
// goroutine starts with. The wait only says when the socket is readable;
// the bytes are still read by gorilla, so it is only taken when gorilla
// holds none of them: its read buffer (the bufio.Reader the hijack hands
// it, idleReader.br) is empty. Whole pong frames at the head of the
// socket's data are consumed by the wait itself when gorilla stands at a
// frame boundary, so the pings of an idle connection do not pull its reader
// into NextReader either.

// idleReader is what the reader needs to wait on the socket between
// messages. Set once with the socket (Conn.setSocket) and then used only by
// the reader goroutine.
type idleReader struct {
	// br is gorilla/websocket's read buffer: the reader waits only while it
	// is empty, and then lends its buffer to the server's pools (release) until data
	// arrives (restore).
	br  *bufio.Reader
	src io.Reader // what br reads: the hijacked socket as gorilla sees it
	// rc is the socket's raw side; nil where the wait cannot be taken (TLS,
	// a wrapped net.Conn, a platform without peekReadable), and the reader
	// then waits in NextReader as before.
	rc syscall.RawConn
}

// newIdleReader returns the idle wait for the hijacked socket nc, read by
// gorilla/websocket through br, which reads src (nc, wrapped). Only a plain
// TCP or Unix socket qualifies: any other net.Conn (tls.Conn above all) may
// hold read bytes of its own that the socket's readability would not show.
func newIdleReader(nc net.Conn, src io.Reader, br *bufio.Reader) idleReader {
	if br == nil || !peekSupported {
		return idleReader{}
	}
	var sc syscall.Conn
	switch c := nc.(type) {
	case *net.TCPConn:
		sc = c
	case *net.UnixConn:
		sc = c
	default:
		return idleReader{}
	}
	rc, err := sc.SyscallConn()
	if err != nil {
		return idleReader{}
	}
	return idleReader{br: br, src: src, rc: rc}
}

// readPools hold the read buffers of idle connections' gorilla readers, as
// *bufio.Reader of readBufferSize bytes (bufs): a reader that waits has no
// use for one; and bufio.Reader structs without a buffer (husks), for the
// next release. One per Server; safe for concurrent use.
type readPools struct {
	bufs  sync.Pool
	husks sync.Pool
}

func (p *readPools) buf() *bufio.Reader {
	if b, ok := p.bufs.Get().(*bufio.Reader); ok {
		return b
	}
	return bufio.NewReaderSize(nil, readBufferSize)
}

func (p *readPools) husk() *bufio.Reader {
	if h, ok := p.husks.Get().(*bufio.Reader); ok {
		return h
	}
	return new(bufio.Reader)
}

// release lends br's buffer to the pools before the reader waits, unless it
// was lent already; canWait must hold (br is empty). br must not be read
// until restore.
func (ir *idleReader) release(pools *readPools) {
	if ir.br.Size() == 0 {
		return // lent: a pong handed the wait over
	}
	h := pools.husk()
	*h = *ir.br
	h.Reset(nil) // keeps the buffer, drops the socket
	pools.bufs.Put(h)
	*ir.br = bufio.Reader{}
}

// restore gives br a buffer again once the wait ended, before gorilla
// reads. gorilla holds br itself, so the buffer is moved into it.
func (ir *idleReader) restore(pools *readPools) {
	b := pools.buf()
	b.Reset(ir.src)
	*ir.br = *b
	*b = bufio.Reader{}
	pools.husks.Put(b)
}

// canWait reports whether the reader may idle in awaitData: the socket
// has a raw side and gorilla holds no buffered bytes.
func (ir *idleReader) canWait() bool { return ir.rc != nil && ir.br.Buffered() == 0 }

// awaitData waits until the socket has data (or an error or EOF to report,
// or the read deadline passed); canWait must hold. With atFrame (gorilla
// expects the next frame's header, so the socket's data starts with one) a
// whole pong frame at the head of the data is consumed instead, and
// awaitData returns true at once: the caller extends the deadline as
// gorilla's pong handler would, and waits again. Whatever else the wait
// ends with, the caller reads with NextReader next, which reports any
// error or deadline itself.
func (ir *idleReader) awaitData(atFrame bool) (pong bool) {
	_ = ir.rc.Read(func(fd uintptr) bool {
		ready, took := peekReadable(fd, atFrame)
		pong = took
		return ready
	})
	return pong
}

// maxPongFrame is the largest pong frame a client sends: a 2-byte header, a
// 4-byte masking key and at most 125 bytes of payload.
const maxPongFrame = 2 + 4 + 125

// pongFrameLen returns the length of the whole, well-formed client pong
// frame at the head of b, or 0 when b starts with anything else (another
// frame, a pong not all there yet, a malformed one gorilla must report).
func pongFrameLen(b []byte) int {
	if len(b) < 2 || b[0] != 0x80|opPong || b[1]&0x80 == 0 { // FIN, no RSV bits, pong; masked
		return 0
	}
	n := int(b[1] & 0x7f)
	if n > 125 {
		return 0
	}
	if size := 2 + 4 + n; len(b) >= size {
		return size
	}
	return 0
}
