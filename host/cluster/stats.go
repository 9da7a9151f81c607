package cluster

import "sync/atomic"

// counters are the node's running totals. Safe for concurrent use.
type counters struct {
	published   atomic.Uint64
	received    atomic.Uint64
	lost        atomic.Uint64
	dropped     atomic.Uint64
	missed      atomic.Uint64
	disconnects atomic.Uint64
	reconnects  atomic.Uint64
	resyncs     atomic.Uint64
	nodesLost   atomic.Uint64
}

// Stats are a node's totals since Join. A plain value.
type Stats struct {
	Node uint16
	// Published and Received count messages to and from other nodes.
	Published, Received uint64
	// Lost counts messages this node could not hand to NATS (it was gone
	// past the reconnect buffer); Dropped those NATS dropped because the
	// deliverer fell behind.
	Lost, Dropped uint64
	// Missed counts broadcasts from other nodes that never arrived: gaps in
	// a publisher's numbering of a room (NATS delivers at most once; a node
	// reconnecting, say, misses what was sent meanwhile).
	Missed uint64
	// Disconnects and Reconnects count NATS connection losses and returns.
	Disconnects, Reconnects uint64
	// Resyncs counts directory snapshots asked for after a gap.
	Resyncs uint64
	// NodesLost counts nodes dropped after NodeTimeout of silence.
	NodesLost uint64
	// Nodes is how many other nodes this node sees now.
	Nodes int
	// Connected reports whether NATS is reachable now.
	Connected bool
}

// Stats returns the node's totals.
func (n *Node) Stats() Stats {
	n.dirMu.RLock()
	nodes := len(n.dir.nodes)
	n.dirMu.RUnlock()
	return Stats{
		Node:        n.id,
		Published:   n.stats.published.Load(),
		Received:    n.stats.received.Load(),
		Lost:        n.stats.lost.Load(),
		Dropped:     n.stats.dropped.Load(),
		Missed:      n.stats.missed.Load(),
		Disconnects: n.stats.disconnects.Load(),
		Reconnects:  n.stats.reconnects.Load(),
		Resyncs:     n.stats.resyncs.Load(),
		NodesLost:   n.stats.nodesLost.Load(),
		Nodes:       nodes,
		Connected:   n.nc.IsConnected(),
	}
}
