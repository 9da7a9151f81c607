// Package cluster joins wshost nodes over NATS: a broadcast reaches a room's
// members on every node exactly once, a send reaches a connection on any
// node, room_size and room_members count the whole cluster, plugin state
// lives in JetStream key/value buckets, and plugin versions are rolled out
// through a JetStream object store.
//
// # How it works
//
// Join connects to NATS, takes a node id that the cluster never hands out
// again (a JetStream key/value counter), and returns a Node. The Node is the
// host.Server's Cluster (Config.Cluster, Config.NodeID) and, when state must
// be shared, its StateStore (Node.State).
//
//   - Local members of a room are delivered directly, as on one node. A node
//     subscribes to a room's subject while it has a local member in it, and
//     every broadcast is published once on that subject; NATS hands it to
//     each interested node once, and the publishing node does not hear its
//     own messages back (NoEcho).
//   - Every node announces its own connections, joins, leaves and attributes
//     on its directory subject, numbered, as many per message as queued up. The others keep a replica of each
//     node's directory: a snapshot asked from that node, then its numbered
//     events; a gap (a lost message, a reconnect) asks for a new snapshot.
//     Heartbeats carry the last number, so a node that went quiet is noticed;
//     one silent for NodeTimeout is dropped with its connections.
//
// # Ordering
//
// Messages that one connection's handler sends (broadcasts and sends alike)
// reach every connection, on every node, in the order they were sent: they
// go through one NATS connection and are delivered on each node by one
// goroutine. Two broadcasts to one room from different nodes may be seen in
// different orders on different nodes; on one node every member sees the
// same order.
//
// # Goroutines
//
// A Node runs three goroutines until Close: the deliverer (broadcasts and
// sends from other nodes, in arrival order), the controller (directory
// events and heartbeats) and the announcer (this node's directory events,
// batched); WatchPlugins runs in its caller's goroutine.
// Snapshot requests run in their own short-lived goroutines.
//
// # Lock order
//
//	host.Conn.roomsMu → Node.localMu             (Join, Leave)
//	seqStripe.mu → host.MemoryBroker's locks     (Publish: one order per room)
//	Node.dirMu is never held with the others.
//
// NATS calls (publish, subscribe) are made under localMu and seqStripe.mu;
// they only buffer and never wait for the network.
package cluster
