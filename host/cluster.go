package host

// Cluster joins a Server to other nodes (see package host/cluster, which
// implements it over NATS). It is the Server's Broker — a broadcast reaches
// the room's members on every node — and it learns about the node's own
// connections so that the other nodes can count, list and reach them.
//
// The Server calls ConnOpened before a connection's Open and ConnClosed
// after its Close was delivered (or its Open failed), and ConnAttr whenever a
// handler sets an attribute; a connection's joins and leaves go through
// Broker.Join and Broker.Leave in between.
//
// Implementations must be safe for concurrent use and must not block on the
// network in these calls longer than a plugin's deadline allows.
type Cluster interface {
	Broker
	// ConnOpened announces a local connection of endpoint ns; the cluster
	// delivers what other nodes send it through c (Deliver, Close).
	ConnOpened(ns string, c *Conn)
	// ConnClosed announces that it ended.
	ConnClosed(ns string, id ConnID)
	// ConnAttr announces attr.KEY of a local connection ("" removed it).
	ConnAttr(ns string, id ConnID, key, val string)
	// SendRemote queues msg for a connection of another node: ErrNotFound
	// when the cluster knows no such live connection.
	SendRemote(ns string, id ConnID, msg []byte, binary bool) error
	// CloseRemote starts the closing handshake of another node's connection
	// with a checked code and reason.
	CloseRemote(ns string, id ConnID, code int, reason string) error
	// KnowsRemote reports whether the cluster knows a live connection of
	// another node in namespace ns.
	KnowsRemote(ns string, id ConnID) bool
	// RemoteAttr returns attr.KEY of another node's connection.
	RemoteAttr(ns string, id ConnID, key string) (string, bool)
}

// StateStore holds the endpoints' key/value state (state_* of ABI v1) when
// it must outlive the process or be shared by nodes; namespaces are endpoint
// names. Errors wrap ErrNotFound (no such key), ErrLimit (the namespace would
// pass limit bytes) or ErrBadArg (Add on a value that is not 8 bytes).
// Safe for concurrent use. Nil in Config: each endpoint keeps its state in
// memory.
type StateStore interface {
	Get(ns, key string) ([]byte, error)
	Set(ns, key string, val []byte, limit int) error
	Delete(ns, key string) error
	Add(ns, key string, delta int64, limit int) (int64, error)
}
