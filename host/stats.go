package host

import (
	"errors"
	"fmt"
	"sync/atomic"
)

// Counters for metrics and the admin API. The event path only adds to
// atomic counters it owns (sharded by connection, so connections on
// different cores rarely share a cache line); readers sum them when asked,
// which is when a metrics endpoint is scraped.

// HandshakeResult is how a WebSocket handshake at /ws/NAME ended. A plain value.
type HandshakeResult uint8

// The results a handshake is counted under.
const (
	HandshakeAccepted      HandshakeResult = iota // 101: the connection is open
	HandshakeRejected                             // 403: the handler's Open refused it
	HandshakeFault                                // 500: the handler's Open failed
	HandshakeOrigin                               // 403: its browser Origin is not allowed
	HandshakeCaps                                 // 503 or 429: a connection cap is reached
	HandshakeBadRequest                           // 400: not a WebSocket handshake (a proxy without Upgrade, say)
	HandshakeNotFound                             // 404: no plugin is served at the path
	HandshakeShuttingDown                         // 503: the server is shutting down
	HandshakeUpgradeFailed                        // Open accepted it but the 101 could not be written
	handshakeResults
)

// HandshakeResults lists every result, in order.
func HandshakeResults() []HandshakeResult {
	rs := make([]HandshakeResult, handshakeResults)
	for i := range rs {
		rs[i] = HandshakeResult(i)
	}
	return rs
}

func (r HandshakeResult) String() string {
	switch r {
	case HandshakeAccepted:
		return "accepted"
	case HandshakeRejected:
		return "rejected"
	case HandshakeFault:
		return "fault"
	case HandshakeOrigin:
		return "origin"
	case HandshakeCaps:
		return "caps"
	case HandshakeBadRequest:
		return "bad_handshake"
	case HandshakeNotFound:
		return "not_found"
	case HandshakeShuttingDown:
		return "shutting_down"
	case HandshakeUpgradeFailed:
		return "upgrade_failed"
	}
	return "unknown"
}

// Handshakes returns how many handshakes ended with r since New.
func (s *Server) Handshakes(r HandshakeResult) uint64 {
	if r >= handshakeResults {
		return 0
	}
	return s.handshakes[r].Load()
}

func (s *Server) countHandshake(r HandshakeResult) { s.handshakes[r].Add(1) }

// Endpoints returns the endpoints mounted, in no order.
func (s *Server) Endpoints() []*Endpoint {
	s.mu.RLock()
	defer s.mu.RUnlock()
	eps := make([]*Endpoint, 0, len(s.endpoints))
	for _, ep := range s.endpoints {
		eps = append(eps, ep)
	}
	return eps
}

// Ready reports what /readyz answers: plugins loaded (SetReady) and the
// server not shutting down.
func (s *Server) Ready() bool { return s.ready.Load() && !s.isClosing() }

// EndpointStats are an endpoint's counters since it was mounted. A plain value.
type EndpointStats struct {
	// Connections is the number of live connections: from before Open
	// until their Close was delivered.
	Connections int64
	// MessagesIn and BytesIn count the data messages read from clients and
	// their payload bytes (after decompression).
	MessagesIn, BytesIn uint64
	// MessagesOut counts the frames written to clients from send queues
	// (data messages and pongs); BytesOut the bytes written to their
	// sockets, frame headers, control frames and compression included.
	MessagesOut, BytesOut uint64
	// QueueDropped counts the queued frames thrown away when a send queue
	// overflowed, the frame that overflowed it included; SlowCloses the
	// connections closed (1008) for it.
	QueueDropped, SlowCloses uint64
	// HandlerErrors counts Message calls that returned an error that is not a fault.
	HandlerErrors uint64
}

// Stats returns the endpoint's counters.
func (ep *Endpoint) Stats() EndpointStats {
	return EndpointStats{
		Connections:   ep.conns.n.Load(),
		MessagesIn:    ep.stats.msgsIn.sum(),
		BytesIn:       ep.stats.bytesIn.sum(),
		MessagesOut:   ep.stats.msgsOut.sum(),
		BytesOut:      ep.stats.bytesOut.sum(),
		QueueDropped:  ep.stats.dropped.Load(),
		SlowCloses:    ep.stats.slowCloses.Load(),
		HandlerErrors: ep.handlerErrors.Load(),
	}
}

// endpointStats are an endpoint's traffic counters. Safe for concurrent use.
type endpointStats struct {
	msgsIn, bytesIn, msgsOut, bytesOut shardedCounter
	dropped, slowCloses                atomic.Uint64 // rare: not sharded
}

const counterShards = 16

// shardedCounter is a counter split over cache lines; a connection adds to
// the shard of its id. Safe for concurrent use.
type shardedCounter [counterShards]struct {
	n atomic.Uint64
	_ [56]byte // one 64-byte cache line per shard
}

func (c *shardedCounter) add(id ConnID, n uint64) { c[uint64(id)%counterShards].n.Add(n) }

func (c *shardedCounter) sum() uint64 {
	var total uint64
	for i := range c {
		total += c[i].n.Load()
	}
	return total
}

// RoomInfo is one room of an endpoint. A plain value.
type RoomInfo struct {
	Name    string `json:"name"`
	Members int    `json:"members"`
}

// RoomLister is implemented by Brokers that can list the rooms of a
// namespace (MemoryBroker does); Endpoint.Rooms needs it.
type RoomLister interface {
	// Rooms appends the namespace's rooms, in no order, to dst.
	Rooms(ns string, dst []RoomInfo) []RoomInfo
}

var errUnsupportedRooms = fmt.Errorf("the broker cannot list rooms (it is not a host.RoomLister): %w", errors.ErrUnsupported)

// Rooms returns the endpoint's rooms with their member counts, in no order.
// ErrUnsupported (errors.ErrUnsupported) when the Broker cannot list them.
func (ep *Endpoint) Rooms() ([]RoomInfo, error) {
	rl, ok := ep.srv.cfg.Broker.(RoomLister)
	if !ok {
		return nil, errUnsupportedRooms
	}
	return rl.Rooms(ep.name, nil), nil
}

// Rooms implements RoomLister. It holds one shard lock at a time.
func (b *MemoryBroker) Rooms(ns string, dst []RoomInfo) []RoomInfo {
	for i := range b.shards {
		sh := &b.shards[i]
		sh.mu.RLock()
		for key, r := range sh.rooms {
			if key.ns != ns {
				continue
			}
			r.mu.Lock()
			n := len(r.members)
			r.mu.Unlock()
			dst = append(dst, RoomInfo{Name: key.name, Members: n})
		}
		sh.mu.RUnlock()
	}
	return dst
}

// Kick closes a connection on the operator's behalf: close code 1008 with
// reason (at most 123 bytes of UTF-8; "" is sent as "kicked by the
// operator"). The
// handler gets its Close as for any close. ErrNotFound for an unknown
// connection, ErrClosed for one already closing.
func (ep *Endpoint) Kick(id ConnID, reason string) error {
	if reason == "" {
		reason = "kicked by the operator"
	}
	if err := ep.closeConn(id, ClosePolicy, reason); err != nil {
		return fmt.Errorf("kick: %w", err)
	}
	ep.log.Info("connection kicked", "conn", id, "reason", reason)
	return nil
}
