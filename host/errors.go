package host

import (
	"errors"
	"fmt"
)

// Sentinel errors of the host API. Endpoint methods wrap them with %w; the
// plugin engine maps each to its ABI error code.
var (
	// ErrNotFound: no such connection, room, key or attribute.
	ErrNotFound = errors.New("not found")
	// ErrBadArg: an invalid name, close code, flag or UTF-8 text.
	ErrBadArg = errors.New("bad argument")
	// ErrTooLarge: a message or close reason over its limit.
	ErrTooLarge = errors.New("too large")
	// ErrClosed: the connection is closing or gone.
	ErrClosed = errors.New("connection closing or gone")
	// ErrLimit: a quota (state bytes) would be passed.
	ErrLimit = errors.New("limit reached")

	// ErrRejected is returned by Handler.Open to refuse a connection: the
	// client gets 403 and no upgrade.
	ErrRejected = errors.New("connection rejected by handler")
	// ErrFault is wrapped by a Handler whose callback faulted (a trap, a
	// deadline, a panic): the host reports it with on_error kind FAULT.
	ErrFault = errors.New("handler fault")

	// ErrServerClosed is returned by Server.Run after a shutdown.
	ErrServerClosed = errors.New("wshost: server closed")
	// ErrConfig reports an invalid Config or Limits.
	ErrConfig = errors.New("wshost: invalid config")
)

// Close codes the host uses (RFC 6455 §7.4.1).
const (
	CloseNormal        = 1000
	CloseGoingAway     = 1001
	CloseProtocolError = 1002
	CloseNoStatus      = 1005
	CloseAbnormal      = 1006
	CloseInvalidData   = 1007
	ClosePolicy        = 1008
	CloseTooBig        = 1009
	CloseInternalError = 1011
)

// ErrorKind says why a connection got an Error event (ABI §4). A plain value.
type ErrorKind int32

// The error kinds of ABI v1; the values are the ABI's numbers.
const (
	KindProtocol ErrorKind = 1
	KindSlow     ErrorKind = 2
	KindFault    ErrorKind = 3
	KindIO       ErrorKind = 4
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
	return fmt.Sprintf("kind(%d)", int32(k))
}

// validAppCloseCode reports whether a handler may close with code: 1000 or
// 3000..4999, as ABI v1 allows.
func validAppCloseCode(code int) bool {
	return code == CloseNormal || (code >= 3000 && code <= 4999)
}
