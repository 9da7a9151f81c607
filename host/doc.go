// Package host is the wshost server: it owns sockets, the WebSocket
// handshake, connections, rooms, send queues, limits and state, and hands
// every decision about what a message means to a Handler — usually the
// WebAssembly plugin engine of package plugin.
//
// # Lifecycle
//
// New builds a Server; Mount serves a Handler at /ws/NAME as an Endpoint;
// Run serves a listener until its context ends and then shuts down: every
// connection is closed with 1001 and gets its Close event.
//
// # Goroutines
//
// Each connection has a reader, which holds a goroutine except while it
// is parked (below), and a writer goroutine only while there is something
// to write. The HTTP
// handler goroutine performs Open and the handshake, starts the reader and
// returns (so net/http frees its buffers for the connection); the reader
// reads messages and calls the Handler, one event at a time, so a
// connection's events stay in order. On a plain TCP socket on Linux the
// reader waits for the socket to become readable in a shallow frame, in
// place while messages keep coming; from the handshake and from the first
// pong after they stopped it parks: it holds no goroutine, its socket is in
// the host's epoll set, and a goroutine is started for it when the socket
// has data or hangs up, when a ping goes out (to wait for the pong under
// the read deadline), or when the host closes the socket. At most one of
// the reader's goroutines runs at a time, each starting the next. On TLS
// it blocks in one goroutine for the connection's life.
//
// The writer is the only goroutine that writes the socket after the
// handshake. Whoever gives it work while none runs — a send, a
// broadcast, a close, the connection's ping timer (a time.AfterFunc) —
// starts it, under Conn.mu, so at most one runs at a time; it drains the
// connection's bounded send queue, coalescing queued frames into one write,
// adds a due ping, and returns once the queue is empty. The close frame
// goes out after everything queued before it; the writer that sends it
// waits for the peer's close frame and drops the TCP connection, and no
// writer starts after it. When the reader stops it lets a last writer flush
// what is left and waits for it. While the send queue is more than half
// full and the writer is making progress, the reader does not read the next
// message, so a client that pipelines requests is slowed down by TCP rather
// than overflowing its own queue. Everything else — Send, Broadcast, Close
// from any connection's handler — only queues frames or starts a close, and
// never blocks on a peer.
//
// # Lock order
//
// Where locks nest they are taken in this order, never the reverse:
//
//	Conn.roomsMu → MemoryBroker shard → room → Conn.mu
//	Server.mu → connTable shards
//
// No lock is held while a Handler runs or while a socket is written.
package host
