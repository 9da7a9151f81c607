package wshost

import (
	"errors"
	"math"
	"strconv"
)

// The errors a host function reports, one per negative ABI code. Compare with
// errors.Is (or ==); use Code for the raw number.
var (
	ErrNotFound error = hostError(-1) // no such connection, member, key or attribute
	ErrBadArg   error = hostError(-2) // bad memory range, name, close code, flags or UTF-8
	ErrTooLarge error = hostError(-3) // over the message limit, or a close reason over 123 bytes
	ErrClosed   error = hostError(-4) // the connection is closing or gone
	ErrLimit    error = hostError(-5) // the callback's host-call budget is spent, or the state quota is full
)

// hostError is a negative ABI return code.
type hostError int32

func (e hostError) Error() string {
	switch e {
	case -1:
		return "wshost: not found"
	case -2:
		return "wshost: bad argument"
	case -3:
		return "wshost: too large"
	case -4:
		return "wshost: connection closed"
	case -5:
		return "wshost: limit reached"
	}
	return "wshost: error " + strconv.Itoa(int(e))
}

// errOf maps a host function's return code to nil (rc >= 0) or an error. The
// known codes return the sentinel values, so the common case does not
// allocate.
func errOf(rc int32) error {
	switch {
	case rc >= 0:
		return nil
	case rc == -1:
		return ErrNotFound
	case rc == -2:
		return ErrBadArg
	case rc == -3:
		return ErrTooLarge
	case rc == -4:
		return ErrClosed
	case rc == -5:
		return ErrLimit
	}
	return hostError(rc)
}

// Code returns the raw ABI code carried by err: 0 for nil, the negative code
// (-1 ErrNotFound … -5 ErrLimit, or any other code a newer host returns) for
// an error from this package, also when wrapped, and math.MinInt32 for an
// error that did not come from the host.
func Code(err error) int32 {
	if err == nil {
		return 0
	}
	var e hostError
	if errors.As(err, &e) {
		return int32(e)
	}
	return math.MinInt32
}
