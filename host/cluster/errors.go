package cluster

import "errors"

// Sentinel errors of the package; returned errors wrap them.
var (
	// ErrUnavailable: NATS (or JetStream) cannot be reached.
	ErrUnavailable = errors.New("cluster unavailable")
	// ErrNodeIDs: the cluster handed out every node id there is.
	ErrNodeIDs = errors.New("no node id left")
	// ErrClosed: the Node was closed.
	ErrClosed = errors.New("cluster node closed")
	// ErrRefused: a node refused a pushed plugin.
	ErrRefused = errors.New("plugin refused")
)
