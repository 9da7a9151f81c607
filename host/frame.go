package host

import "encoding/binary"

// WebSocket opcodes (RFC 6455 §5.2).
const (
	opText   = 0x1
	opBinary = 0x2
	opClose  = 0x8
	opPing   = 0x9
	opPong   = 0xA

	finBit         = 0x80
	maxFrameHeader = 10
	maxControlLen  = 125
)

// Frame is one encoded, unmasked server-to-client WebSocket frame. It is
// immutable once built, so one Frame can sit in many send queues: a
// broadcast is encoded once. Safe for concurrent use.
type Frame struct {
	b []byte
	z *deflated // the permessage-deflate variant; nil: always sent plain
}

// Len is the frame's size on the wire.
func (f *Frame) Len() int { return len(f.b) }

// NewMessageFrame encodes msg as one final text or binary frame.
func NewMessageFrame(msg []byte, binary bool) *Frame {
	op := byte(opText)
	if binary {
		op = opBinary
	}
	return newFrame(op, msg)
}

// Payload returns the message a frame made by NewMessageFrame carries, and
// whether it is binary. The slice must not be modified.
func (f *Frame) Payload() (msg []byte, binary bool) {
	h := 2
	switch f.b[1] & 0x7F {
	case 126:
		h = 4
	case 127:
		h = 10
	}
	return f.b[h:], f.b[0]&0x0F == opBinary
}

func newFrame(op byte, payload []byte) *Frame {
	b := make([]byte, 0, maxFrameHeader+len(payload))
	b = appendFrameHeader(b, op, len(payload))
	return &Frame{b: append(b, payload...)}
}

func appendFrameHeader(b []byte, op byte, n int) []byte {
	b = append(b, finBit|op)
	switch {
	case n <= 125:
		return append(b, byte(n))
	case n <= 0xFFFF:
		b = append(b, 126)
		return binary.BigEndian.AppendUint16(b, uint16(n))
	default:
		b = append(b, 127)
		return binary.BigEndian.AppendUint64(b, uint64(n))
	}
}

// newCloseFrame encodes a close frame; code 1005 (no status) has an empty body.
func newCloseFrame(code int, reason string) *Frame {
	if code == CloseNoStatus || code == 0 {
		return newFrame(opClose, nil)
	}
	body := binary.BigEndian.AppendUint16(make([]byte, 0, 2+len(reason)), uint16(code))
	body = append(body, reason...)
	if len(body) > maxControlLen {
		body = body[:maxControlLen]
	}
	return newFrame(opClose, body)
}

// parseCloseFrame reads the code and reason of an encoded close frame that
// gorilla/websocket wrote (no mask, length < 126).
func parseCloseFrame(b []byte) (code int, reason string, ok bool) {
	if len(b) < 2 || b[0] != finBit|opClose || int(b[1]) != len(b)-2 {
		return 0, "", false
	}
	body := b[2:]
	if len(body) < 2 {
		return CloseNoStatus, "", true
	}
	return int(binary.BigEndian.Uint16(body)), string(body[2:]), true
}
