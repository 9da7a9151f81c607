package host

import "context"

// Handler decides what messages mean and where they go. The Wasm plugin
// engine (package plugin) implements it; a native Go Handler runs the same
// logic without Wasm, for tests and benchmarks.
//
// The host calls a Handler from many goroutines at once, but the events of
// one connection arrive one at a time and in order: Open, then Message for
// each message, then Error where one applies, then Close. A Handler acts
// through the Endpoint it is given, whose methods are safe for concurrent use.
//
// A panic in a callback is recovered and logged: in Open it answers 500 like
// an error, in Message it is a fault (Error with KindFault, text "panic:
// Message: ..."), in Error or Close it is only logged. The connection is
// finished all the same.
type Handler interface {
	// Open runs before the 101 response of the handshake. nil accepts.
	// An error wrapping ErrRejected answers 403; any other error answers 500.
	// Either way the joins, attributes and messages of Open are undone and
	// no Close follows.
	Open(ctx context.Context, ep *Endpoint, id ConnID) error
	// Message handles one whole data message. msg is only valid during the
	// call. An error wrapping ErrFault is reported to the connection with
	// Error(KindFault); any other error is counted and logged.
	Message(ctx context.Context, ep *Endpoint, id ConnID, msg []byte, binary bool) error
	// Error reports a problem with the connection (ABI §4) before its Close
	// (kinds Protocol, Slow, IO) or after a faulted callback (Fault).
	Error(ctx context.Context, ep *Endpoint, id ConnID, kind ErrorKind, text string)
	// Close runs once per accepted connection after it ended, while
	// Endpoint.ConnRooms still lists its rooms.
	Close(ctx context.Context, ep *Endpoint, id ConnID, code int, reason string)
}
