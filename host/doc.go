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
// Each connection has two goroutines. The reader runs in the HTTP handler
// goroutine: it performs Open, then reads messages and calls the Handler, one
// event at a time, so a connection's events stay in order. The writer is the
// only goroutine that writes the socket after the handshake: it drains the
// connection's bounded send queue, coalescing queued frames into one write,
// sends pings, and ends the closing handshake. While the send queue is more
// than half full and the writer is making progress, the reader does not read
// the next message, so a client that pipelines requests is slowed down by
// TCP rather than overflowing its own queue. Everything else — Send,
// Broadcast, Close from any connection's handler — only queues frames or
// starts a close, and never blocks on a peer.
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
