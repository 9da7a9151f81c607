package host

import (
	"bytes"
	"compress/flate"
	"sync"
	"sync/atomic"
)

// Compression configures permessage-deflate (RFC 7692). Off by default.
//
// gorilla/websocket negotiates it with "server_no_context_takeover;
// client_no_context_takeover": every message is compressed on its own, so a
// compressed broadcast is the same bytes for every receiver and is deflated
// once, by the writer of the first member that negotiated it. Messages from
// clients may be compressed whether or not the host compresses its own; a
// message's decompressed size is bounded by Limits.MaxMessageBytes.
type Compression struct {
	// Enabled accepts permessage-deflate from clients that offer it.
	// Default false: the extension is never negotiated.
	Enabled bool
	// Level is the flate level of the messages the host sends:
	// flate.BestSpeed (1) to flate.BestCompression (9), or
	// flate.HuffmanOnly. 0 or any other value: flate.BestSpeed.
	Level int
	// MinBytes is the size from which a message the host sends is
	// compressed; smaller ones go out plain (RFC 7692 lets each message
	// choose). Default 256.
	MinBytes int
}

// DefaultCompressionMinBytes is Compression.MinBytes's default.
const DefaultCompressionMinBytes = 256

func (c Compression) withDefaults() Compression {
	if c.Level != flate.HuffmanOnly && (c.Level < flate.BestSpeed || c.Level > flate.BestCompression) {
		c.Level = flate.BestSpeed
	}
	if c.MinBytes <= 0 {
		c.MinBytes = DefaultCompressionMinBytes
	}
	return c
}

const rsv1Bit = 0x40 // "per-message compressed" on a message's first frame

// deflated is the compressed variant of a message Frame, computed at most
// once, when the first connection that negotiated compression writes it.
type deflated struct {
	once  sync.Once
	level int
	b     []byte // the compressed frame, or the plain one if deflate did not shrink it
}

// newMessageFrame encodes msg and, when the server compresses messages of
// its size, gives it a compressed variant for the connections that
// negotiated permessage-deflate.
func (s *Server) newMessageFrame(msg []byte, binary bool) *Frame {
	f := NewMessageFrame(msg, binary)
	if z := &s.cfg.Compression; z.Enabled && len(msg) >= z.MinBytes {
		f.z = &deflated{level: z.Level}
	}
	return f
}

// wire is what a connection writes for f: its compressed variant when the
// connection negotiated compression (deflate) and f has one. Inlined: the
// plain path costs one test.
func (f *Frame) wire(deflate bool) []byte {
	if !deflate || f.z == nil {
		return f.b
	}
	return f.z.frame(f.b)
}

// frame compresses plain the first time and returns the result.
func (z *deflated) frame(plain []byte) []byte {
	z.once.Do(func() {
		z.b = deflateFrame(plain, z.level)
		if z.b == nil {
			z.b = plain
		}
	})
	return z.b
}

// deflateCalls counts deflateFrame calls (a test hook).
var deflateCalls atomic.Int64

// flateWriters pools flate writers per level (HuffmanOnly, -2, to 9).
var flateWriters [flate.BestCompression - flate.HuffmanOnly + 1]sync.Pool

// deflateBufs pools the scratch buffers compressed payloads are built in.
var deflateBufs = sync.Pool{New: func() any { return new(bytes.Buffer) }}

// deflateFrame returns plain, an encoded message frame, as a compressed one:
// RSV1 set and the payload deflated with the trailing empty stored block
// (0x00 0x00 0xff 0xff) removed (RFC 7692 §7.2.1). Nil when compressing
// would not make it smaller.
func deflateFrame(plain []byte, level int) []byte {
	deflateCalls.Add(1)
	hdr := 2
	switch plain[1] & 0x7F {
	case 126:
		hdr = 4
	case 127:
		hdr = 10
	}
	payload := plain[hdr:]

	buf := deflateBufs.Get().(*bytes.Buffer)
	defer func() {
		if buf.Cap() <= 1<<20 {
			buf.Reset()
			deflateBufs.Put(buf)
		}
	}()
	buf.Reset()
	pool := &flateWriters[level-flate.HuffmanOnly]
	fw, _ := pool.Get().(*flate.Writer)
	if fw == nil {
		var err error
		if fw, err = flate.NewWriter(buf, level); err != nil {
			return nil
		}
	} else {
		fw.Reset(buf)
	}
	_, err := fw.Write(payload)
	if err == nil {
		err = fw.Flush() // ends with an empty stored block: 0x00 0x00 0xff 0xff
	}
	fw.Reset(nil) // don't keep buf reachable from the pool
	pool.Put(fw)
	z := buf.Bytes()
	if err != nil || !bytes.HasSuffix(z, []byte{0, 0, 0xff, 0xff}) {
		return nil
	}
	z = z[:len(z)-4]
	if len(z) >= len(payload) {
		return nil
	}
	b := make([]byte, 0, maxFrameHeader+len(z))
	b = appendFrameHeader(b, plain[0]&0x0F, len(z))
	b[0] |= rsv1Bit
	return append(b, z...)
}

// acceptsDeflate reports whether p, the 101 response gorilla/websocket
// wrote, accepted permessage-deflate. Looking at the response rather than
// parsing the request again fails safe: a response we misread only means
// plain frames, which RFC 7692 always allows.
func acceptsDeflate(p []byte) bool {
	head, _, _ := bytes.Cut(p, []byte("\r\n\r\n"))
	for _, line := range bytes.Split(head, []byte("\r\n")) {
		name, val, ok := bytes.Cut(line, []byte(":"))
		if ok && bytes.EqualFold(bytes.TrimSpace(name), []byte("Sec-WebSocket-Extensions")) &&
			bytes.HasPrefix(bytes.TrimSpace(val), []byte("permessage-deflate")) {
			return true
		}
	}
	return false
}
