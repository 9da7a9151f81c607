// Package wshost is the Go SDK for wshost plugins: WebAssembly modules that
// hold the logic of a WebSocket endpoint while the wshost server holds the
// sockets, the rooms and the shared state.
//
// The SDK implements ABI v1 (sdk/ABI.md in the wshost repository): importing
// it declares every function of the host's "wshost" import module and
// exports wshost_abi_v1, on_open, on_message, on_close and on_error, which
// call the Handlers registered with Handle.
//
// # Building
//
// A plugin is a main package built as a WASI reactor (Go 1.24 or later):
//
//	GOOS=wasip1 GOARCH=wasm go build -buildmode=c-shared -trimpath -o NAME.wasm .
//
// -buildmode=c-shared makes the module export _initialize, which the host
// calls once per instance to run the Go runtime's setup and every package's
// init functions. The main function is never called, so register the
// handlers from init:
//
//	package main
//
//	import wshost "github.com/wshost/wshost/sdk/go"
//
//	func init() {
//		wshost.Handle(wshost.Handlers{
//			Message: func(c wshost.ConnID, data []byte, binary bool) error {
//				if binary {
//					return wshost.SendBinary(c, data)
//				}
//				return wshost.Send(c, data) // echo
//			},
//		})
//	}
//
//	func main() {} // required by the go tool, never run
//
// A plugin that never calls Handle rejects every connection and logs why.
// A plugin must not declare the exports itself: the linker would reject the
// duplicate names.
//
// # Events
//
// Open runs during the handshake and decides whether the connection is
// accepted; Message runs once per message, in order per connection; Error
// and Close come last. The data handed to Message lives in a buffer the SDK
// reuses from one message to the next, so receiving a message does not
// allocate; copy what you keep past the handler's return. Host calls are
// only valid while a handler runs.
//
// # Instances
//
// The host may run several instances of a plugin at the same time, each
// serving events of different connections. Package-level variables belong to
// one instance: they persist from one event to the next but are not shared,
// and they are lost when an instance faults or the plugin is reloaded. Keep
// anything that matters in the host: connection attributes (ConnSet,
// ConnInfo "attr.NAME"), rooms, and the state store (StateGet, StateSet,
// StateAdd). Each host call is atomic on its own; StateAdd is the atomic
// read-modify-write.
//
// Within one instance a single handler runs at a time, which is why the SDK
// can keep package-level scratch buffers (one for event payloads, one for
// the results of ConnInfo, RoomMembers and the like) without locks. Do not
// call the SDK from goroutines that outlive a handler.
//
// # Errors and limits
//
// A host function never traps on bad arguments: it returns an error, one of
// ErrNotFound, ErrBadArg, ErrTooLarge, ErrClosed and ErrLimit; Code gives
// the raw ABI code. Every host call counts toward the callback's budget
// (10,000 by default); past it calls fail with ErrLimit and logs are
// dropped, but the callback goes on. A callback that traps or outlives its
// deadline (100 ms by default) faults: the host discards the instance and
// reports KindFault to the Error handler. A Go panic is such a fault (the Go
// runtime prints the panic to stderr, then executes "unreachable"), and so
// is running out of memory: an instance has 64 MiB of linear memory by
// default, and a Go plugin starts with about 2.5 MiB of it in use.
package wshost
