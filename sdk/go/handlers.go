package wshost

// Handlers holds the plugin's callbacks. Every field is optional.
//
// The host calls them one connection event at a time per instance (see
// "Instances" in the package documentation): a handler never runs
// concurrently with another handler of the same instance.
type Handlers struct {
	// Open is called during the WebSocket handshake, before the 101 response.
	// Returning nil accepts the connection; returning an error rejects it
	// (the client gets 403, the error is logged at debug level, and the
	// joins, attributes and messages of this call are undone). Open may Send,
	// Join, ConnSet and Close; what it sends is delivered right after the
	// handshake. A nil Open accepts every connection.
	Open func(c ConnID) error

	// Message is called once per data message, in arrival order per
	// connection. data is the whole message; it lives in a buffer the SDK
	// reuses, so it is valid only until Message returns: copy what you keep.
	// A non-nil error is logged at error level and reported to the host as a
	// handler error; it has no other effect. A nil Message ignores messages.
	Message func(c ConnID, data []byte, binary bool) error

	// Close is called once per accepted connection after it ended, while
	// ConnRooms still lists its rooms. code is the closing handshake's code
	// (1006 when the connection dropped without one); reason may be empty.
	// The connection can no longer be sent to.
	Close func(c ConnID, code int, reason string)

	// Error reports a problem with a connection; see ErrorKind. For
	// KindProtocol, KindSlow and KindIO it comes just before Close and the
	// connection can no longer be sent to.
	Error func(c ConnID, kind ErrorKind, text string)
}

var (
	handlers   Handlers
	registered bool
	warned     bool // "no handlers" was logged by this instance
)

// Handle registers the plugin's handlers, replacing any registered before.
// Call it from an init function: a plugin is a WASI reactor and its main
// function never runs.
func Handle(h Handlers) {
	handlers = h
	registered = true
}

// event is the scratch buffer that receives event payloads. It grows to the
// largest payload seen and is kept, so reading a message does not allocate.
// One buffer is enough: a WebAssembly instance runs one callback at a time.
var event []byte

// readEvent copies the current event's payload, whose size the callback
// announced as n, into the event buffer. ok is false when event_read failed.
func readEvent(n uint32) (data []byte, ok bool) {
	if n == 0 {
		return event[:0], true
	}
	size := int(n)
	for {
		if cap(event) < size {
			event = make([]byte, max(size, 2*cap(event), 512))
		}
		buf := event[:size]
		rc := hostEventRead(bytesPtr(buf), uint32(size))
		if rc < 0 {
			return nil, false
		}
		if int(rc) <= size {
			return buf[:rc], true
		}
		size = int(rc) // the payload is larger than announced: read it all
	}
}

// noHandlers logs, once per instance, that Handle was never called.
func noHandlers() {
	if !warned {
		warned = true
		Log(LevelError, "wshost: no handlers registered: call wshost.Handle from an init function (main does not run in a plugin)")
	}
}

func onOpen(c ConnID) int32 {
	if !registered {
		noHandlers()
		return 1
	}
	if handlers.Open == nil {
		return 0
	}
	if err := handlers.Open(c); err != nil {
		Log(LevelDebug, "open rejected: "+err.Error())
		return 1
	}
	return 0
}

func onMessage(c ConnID, n, flags uint32) int32 {
	if !registered {
		noHandlers()
		return 1
	}
	if handlers.Message == nil {
		return 0
	}
	data, ok := readEvent(n)
	if !ok {
		return 1
	}
	if err := handlers.Message(c, data, flags&flagBinary != 0); err != nil {
		Log(LevelError, "message handler: "+err.Error())
		return 1
	}
	return 0
}

func onClose(c ConnID, code int32, n uint32) {
	if handlers.Close == nil {
		return
	}
	reason, _ := readEvent(n)
	handlers.Close(c, int(code), string(reason))
}

func onError(c ConnID, kind int32, n uint32) {
	if handlers.Error == nil {
		return
	}
	text, _ := readEvent(n)
	handlers.Error(c, ErrorKind(kind), string(text))
}
