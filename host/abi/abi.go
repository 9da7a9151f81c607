package abi

// ImportModule is the module name every wshost host function is imported from.
const ImportModule = "wshost"

// WASIModule is the only other import module a plugin may use.
const WASIModule = "wasi_snapshot_preview1"

// Names of the exports a plugin provides.
const (
	ExportMemory     = "memory"
	ExportMarker     = "wshost_abi_v1"
	ExportOnOpen     = "on_open"
	ExportOnMessage  = "on_message"
	ExportOnClose    = "on_close"
	ExportOnError    = "on_error"
	ExportInitialize = "_initialize"
)

// Message flags passed to on_message and accepted by send and broadcast.
const (
	FlagBinary uint32 = 1 // bit 0: binary frame; clear: text frame
	FlagsMask  uint32 = FlagBinary
)

// ErrorKind is the kind argument of on_error.
type ErrorKind int32

// The on_error kinds of ABI v1.
const (
	KindProtocol ErrorKind = 1 // the client broke the protocol
	KindSlow     ErrorKind = 2 // the connection's send queue overflowed
	KindFault    ErrorKind = 3 // a callback trapped or passed its deadline
	KindIO       ErrorKind = 4 // reading or writing the socket failed
)

// String names the kind as the ABI does.
func (k ErrorKind) String() string {
	switch k {
	case KindProtocol:
		return "PROTOCOL"
	case KindSlow:
		return "SLOW"
	case KindFault:
		return "FAULT"
	case KindIO:
		return "IO"
	}
	return "UNKNOWN"
}

// Error codes returned by host functions. Values >= 0 are success.
const (
	ErrNotFound int32 = -1 // connection, room or key not found
	ErrBadArg   int32 = -2 // memory range, name, code, flags or UTF-8
	ErrTooLarge int32 = -3 // over a size limit
	ErrClosed   int32 = -4 // the connection is closing or gone
	ErrLimit    int32 = -5 // host-call budget spent or state total passed
)

// Log levels accepted by the log host function.
const (
	LogDebug int32 = 0
	LogInfo  int32 = 1
	LogWarn  int32 = 2
	LogError int32 = 3
)

// Bounds of names and close frames.
const (
	MaxRoomName       = 256 // bytes; a room name is 1..256 bytes without '\n'
	MaxCloseReason    = 123 // bytes of UTF-8
	MinAppCloseCode   = 3000
	MaxAppCloseCode   = 4999
	NormalCloseCode   = 1000
	ConnIDDecimalSize = 20 // digits of the largest uint64
)
