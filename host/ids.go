package host

import (
	"strconv"
	"sync/atomic"
)

// ConnID identifies a connection: never 0, never reused. Its top bits carry
// the node that issued it (Config.NodeID), so ids stay unique across a
// cluster as long as node ids are never reused; the rest count that node's
// connections from 1. Ids stay below 2^53, so JavaScript numbers hold them
// exactly. A plain value.
type ConnID uint64

// connCounterBits is how many low bits of a ConnID count a node's
// connections: 2^37 (about 1.4e11) per node start.
const connCounterBits = 37

// Node is the node id that issued id (0 on a server outside a cluster).
func (id ConnID) Node() uint16 { return uint16(uint64(id) >> connCounterBits) }

func (id ConnID) String() string { return strconv.FormatUint(uint64(id), 10) }

// idSource hands out one node's connection ids. Safe for concurrent use.
type idSource struct {
	node uint16
	last atomic.Uint64 // the counter part of the last id issued
}

func (s *idSource) make(n uint64) ConnID {
	return ConnID(uint64(s.node)<<connCounterBits | n)
}

func (s *idSource) next() ConnID { return s.make(s.last.Add(1)) }

// local reports whether id carries this node's id.
func (s *idSource) local(id ConnID) bool { return id.Node() == s.node }

// issued reports whether this node handed out id already.
func (s *idSource) issued(id ConnID) bool {
	n := uint64(id) & (1<<connCounterBits - 1)
	return s.local(id) && n != 0 && n <= s.last.Load()
}
