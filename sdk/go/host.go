package wshost

import (
	"math"
	"strconv"
	"unsafe"
)

// ConnID identifies a connection. It is never 0, unique for the life of the
// cluster, and never reused.
type ConnID uint64

// String returns the id in decimal, as conn_info's "id" key does.
func (c ConnID) String() string { return strconv.FormatUint(uint64(c), 10) }

// ErrorKind says why the host called the Error handler.
type ErrorKind int32

const (
	// KindProtocol: the client broke the protocol (invalid UTF-8 in a text
	// frame, a frame over the limit, a bad frame); the host closes with
	// 1007, 1009 or 1002.
	KindProtocol ErrorKind = 1
	// KindSlow: the connection's send queue overflowed; the host closes
	// with 1008.
	KindSlow ErrorKind = 2
	// KindFault: a callback for this connection trapped or ran past its
	// deadline; the text starts with "trap:" or "deadline:" and names the
	// callback. The faulted instance is discarded (its globals are lost);
	// the connection stays open unless the manifest says otherwise.
	KindFault ErrorKind = 3
	// KindIO: reading or writing the socket failed; the connection is gone.
	KindIO ErrorKind = 4
)

func (k ErrorKind) String() string {
	switch k {
	case KindProtocol:
		return "protocol"
	case KindSlow:
		return "slow"
	case KindFault:
		return "fault"
	case KindIO:
		return "io"
	}
	return "kind(" + strconv.Itoa(int(k)) + ")"
}

// Level is a log level.
type Level int32

// The log levels the host understands.
const (
	LevelDebug Level = 0
	LevelInfo  Level = 1
	LevelWarn  Level = 2
	LevelError Level = 3
)

const flagBinary = 1 // bit 0 of a message's flags: binary frame

// strPtr and bytesPtr return the address to hand the host for s or b, nil
// (address 0) when empty: unsafe.StringData of an empty string is
// unspecified.
func strPtr(s string) unsafe.Pointer {
	if len(s) == 0 {
		return nil
	}
	return unsafe.Pointer(unsafe.StringData(s))
}

func bytesPtr(b []byte) unsafe.Pointer {
	if len(b) == 0 {
		return nil
	}
	return unsafe.Pointer(unsafe.SliceData(b))
}

// Send queues a text message for connection c. msg must be valid UTF-8.
// Errors: ErrNotFound (unknown connection), ErrClosed (closing or gone),
// ErrTooLarge (over the message limit), ErrBadArg (invalid UTF-8), ErrLimit.
func Send(c ConnID, msg []byte) error {
	return errOf(hostSend(uint64(c), bytesPtr(msg), uint32(len(msg)), 0))
}

// SendBinary queues a binary message for connection c; errors as for Send.
func SendBinary(c ConnID, msg []byte) error {
	return errOf(hostSend(uint64(c), bytesPtr(msg), uint32(len(msg)), flagBinary))
}

// Broadcast queues msg (a binary message if binary is set, else text) for
// every member of room except the connection except (0 leaves nobody out).
// It returns how many connections of this node it was queued for; errors as
// for Send, and ErrBadArg for a bad room name.
func Broadcast(room string, msg []byte, binary bool, except ConnID) (int, error) {
	var flags uint32
	if binary {
		flags = flagBinary
	}
	rc := hostBroadcast(strPtr(room), uint32(len(room)), bytesPtr(msg), uint32(len(msg)), flags, uint64(except))
	if rc < 0 {
		return 0, errOf(rc)
	}
	return int(rc), nil
}

// Join adds c to room, creating the room on its first join. Joining a room
// c is already in is not an error. A room name is 1 to 256 bytes without
// '\n' (else ErrBadArg); rooms are private to the plugin.
func Join(c ConnID, room string) error {
	return errOf(hostJoin(uint64(c), strPtr(room), uint32(len(room))))
}

// Leave removes c from room; ErrNotFound if c was not a member. A room
// without members is gone.
func Leave(c ConnID, room string) error {
	return errOf(hostLeave(uint64(c), strPtr(room), uint32(len(room))))
}

// Close starts the closing handshake of c with code (1000 or 3000–4999) and
// reason (at most 123 bytes of UTF-8). Errors: ErrNotFound, ErrClosed
// (already closing), ErrBadArg (bad code or reason not UTF-8), ErrTooLarge
// (reason too long).
func Close(c ConnID, code int, reason string) error {
	if code < math.MinInt32 || code > math.MaxInt32 {
		return ErrBadArg
	}
	return errOf(hostClose(uint64(c), int32(code), strPtr(reason), uint32(len(reason))))
}

// RoomSize returns the number of members of room (0 when there is no such
// room).
func RoomSize(room string) (int, error) {
	rc := hostRoomSize(strPtr(room), uint32(len(room)))
	if rc < 0 {
		return 0, errOf(rc)
	}
	return int(rc), nil
}

// RoomMembers returns the members of room, in the host's order (nil when
// there is no such room).
func RoomMembers(room string) ([]ConnID, error) {
	b, rc := fetch(8, func(p unsafe.Pointer, n uint32) int32 {
		return hostRoomMembers(strPtr(room), uint32(len(room)), p, n)
	})
	if rc <= 0 {
		return nil, errOf(rc)
	}
	ids := make([]ConnID, rc)
	for i := range ids {
		ids[i] = ConnID(le64(b[8*i:]))
	}
	return ids, nil
}

// ConnRooms returns the names of the rooms c is in, in the host's order.
func ConnRooms(c ConnID) ([]string, error) {
	b, rc := fetch(1, func(p unsafe.Pointer, n uint32) int32 {
		return hostConnRooms(uint64(c), p, n)
	})
	if rc <= 0 {
		return nil, errOf(rc)
	}
	var rooms []string
	for start, i := 0, 0; i < len(b); i++ {
		if b[i] == '\n' {
			rooms = append(rooms, string(b[start:i]))
			start = i + 1
		}
	}
	return rooms, nil
}

// ConnInfo returns a property of connection c. Keys: "id" (decimal),
// "remote_addr", "path", "query.NAME" (first value), "header.NAME"
// (case-insensitive, first value), "subprotocol" (empty when none) and
// "attr.NAME" (set with ConnSet). An absent key is ErrNotFound; a present but
// empty one ("?room=") is "" and nil.
func ConnInfo(c ConnID, key string) (string, error) {
	b, rc := fetch(1, func(p unsafe.Pointer, n uint32) int32 {
		return hostConnInfo(uint64(c), strPtr(key), uint32(len(key)), p, n)
	})
	if rc < 0 {
		return "", errOf(rc)
	}
	return string(b), nil
}

// ConnSet sets attribute key of live connection c, which ConnInfo then
// reports as "attr."+key; an empty value removes it. Attributes last as long
// as the connection, across reloads, and are shared by all instances.
func ConnSet(c ConnID, key, value string) error {
	return errOf(hostConnSet(uint64(c), strPtr(key), uint32(len(key)), strPtr(value), uint32(len(value))))
}

// StateGet returns a copy of the value of key in the plugin-wide store the
// host keeps (shared by all instances, kept across reloads); ErrNotFound if
// it is not set. An empty value is a value: a non-nil empty slice.
func StateGet(key string) ([]byte, error) {
	b, rc := fetch(1, func(p unsafe.Pointer, n uint32) int32 {
		return hostStateGet(strPtr(key), uint32(len(key)), p, n)
	})
	if rc < 0 {
		return nil, errOf(rc)
	}
	v := make([]byte, len(b))
	copy(v, b)
	return v, nil
}

// StateSet sets key to value (an empty value is a value). ErrLimit when the
// plugin's state quota would be passed.
func StateSet(key string, value []byte) error {
	return errOf(hostStateSet(strPtr(key), uint32(len(key)), bytesPtr(value), uint32(len(value))))
}

// StateDelete removes key; ErrNotFound if it was not set.
func StateDelete(key string) error {
	return errOf(hostStateDelete(strPtr(key), uint32(len(key))))
}

// StateAdd atomically adds delta to the counter at key, a little-endian
// int64 (a missing key counts as 0), and returns the new value. ErrBadArg
// when the key holds a value that is not 8 bytes. StateAdd(key, 0) reads a
// counter.
func StateAdd(key string, delta int64) (int64, error) {
	var out [8]byte
	rc := hostStateAdd(strPtr(key), uint32(len(key)), delta, unsafe.Pointer(&out[0]))
	if rc < 0 {
		return 0, errOf(rc)
	}
	return int64(le64(out[:])), nil
}

// Config returns the value of key in the [config] table of the plugin's
// manifest; ErrNotFound if it has none.
func Config(key string) (string, error) {
	b, rc := fetch(1, func(p unsafe.Pointer, n uint32) int32 {
		return hostConfigGet(strPtr(key), uint32(len(key)), p, n)
	})
	if rc < 0 {
		return "", errOf(rc)
	}
	return string(b), nil
}

// Log writes msg to the host's log at level; the host tags it with the
// plugin, its version and the connection. A log past the host-call budget
// is dropped.
func Log(level Level, msg string) {
	hostLog(int32(level), strPtr(msg), uint32(len(msg)))
}

// Now returns the host's clock as Unix time in nanoseconds
// (time.Unix(0, wshost.Now()) makes it a time.Time; this package does not
// import time, which would add about 250 KB to every plugin). It returns 0
// when the host refused the call: the callback's host-call budget is spent.
func Now() int64 {
	ns := hostNow()
	if ns < 0 {
		return 0
	}
	return ns
}

// scratch receives the results of the calls that fill a buffer. It is
// reused from call to call (an instance runs one callback at a time, and no
// result outlives the function that fetched it); results larger than
// keepScratch get a buffer of their own, so a rare large value does not stay
// allocated.
var scratch = make([]byte, 512)

const keepScratch = 64 << 10

// fetch implements the ABI's rule for buffer results: call reports the full
// result, rc units of unit bytes, and writes as much of it as fits; when it
// did not all fit, grow the buffer and ask again (the result may have changed
// in between: another instance can join a room meanwhile). It returns the
// result, which may alias scratch, and rc (negative: an error code).
func fetch(unit int, call func(p unsafe.Pointer, n uint32) int32) ([]byte, int32) {
	buf := scratch
	for {
		rc := call(bytesPtr(buf), uint32(len(buf)))
		if rc < 0 {
			return nil, rc
		}
		need := int(rc) * unit
		if need <= len(buf) {
			return buf[:need], rc
		}
		buf = make([]byte, need+need/8)
		if len(buf) <= keepScratch {
			scratch = buf
		}
	}
}

func le64(b []byte) uint64 {
	_ = b[7]
	return uint64(b[0]) | uint64(b[1])<<8 | uint64(b[2])<<16 | uint64(b[3])<<24 |
		uint64(b[4])<<32 | uint64(b[5])<<40 | uint64(b[6])<<48 | uint64(b[7])<<56
}
