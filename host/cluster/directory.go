package cluster

import (
	"slices"
	"time"

	"github.com/wshost/wshost/host"
)

// directory is this node's view of the other nodes: their live connections,
// attributes and room memberships. It is rebuilt per node from a snapshot
// and then kept by that node's numbered events. Not safe for concurrent
// use: the Node guards it with dirMu.
type directory struct {
	nodes map[uint16]*remoteNode
	conns map[host.ConnID]*remoteConn
	rooms map[roomKey]map[host.ConnID]struct{}
}

// roomKey names a room within a namespace. A plain value.
type roomKey struct{ ns, room string }

// remoteNode is what this node knows of another.
type remoteNode struct {
	id       uint16
	seq      uint64 // the last event applied
	synced   bool   // a snapshot was applied and no gap seen since
	syncing  bool   // a snapshot was asked for
	pending  []dirEvent
	lastSeen time.Time
	conns    map[host.ConnID]struct{}
}

// remoteConn is another node's connection. Its attributes and rooms are
// short slices, not maps: a node keeps one per connection of the cluster.
type remoteConn struct {
	ns    string
	node  uint16
	attrs host.Attrs
	rooms []string
}

func newDirectory() *directory {
	return &directory{
		nodes: make(map[uint16]*remoteNode),
		conns: make(map[host.ConnID]*remoteConn),
		rooms: make(map[roomKey]map[host.ConnID]struct{}),
	}
}

// node returns the node with id, creating it (unsynced).
func (d *directory) node(id uint16, now time.Time) *remoteNode {
	n := d.nodes[id]
	if n == nil {
		n = &remoteNode{id: id, conns: make(map[host.ConnID]struct{})}
		d.nodes[id] = n
	}
	n.lastSeen = now
	return n
}

// event applies or buffers one event of node n and reports whether a
// snapshot must be asked for (a gap, or nothing synced yet).
func (d *directory) event(n *remoteNode, ev dirEvent) (resync bool) {
	if !n.synced {
		n.pending = append(n.pending, ev)
		return !n.syncing
	}
	switch {
	case ev.Seq <= n.seq:
		return false // seen already
	case ev.Seq != n.seq+1:
		d.unsync(n)
		n.pending = append(n.pending, ev)
		return true
	}
	d.apply(n, ev)
	return false
}

// heard notes a heartbeat's sequence number: a number past what was
// applied means events were lost.
func (d *directory) heard(n *remoteNode, seq uint64) (resync bool) {
	if !n.synced {
		return !n.syncing
	}
	if seq > n.seq {
		d.unsync(n)
		return true
	}
	return false
}

func (d *directory) unsync(n *remoteNode) {
	n.synced = false
	n.pending = n.pending[:0]
}

// restore replaces node n's view with a snapshot at seq, then applies the
// buffered events after it. It reports whether they left a gap.
func (d *directory) restore(n *remoteNode, seq uint64, conns []snapConn) (resync bool) {
	d.dropConns(n)
	for _, sc := range conns {
		rc := &remoteConn{ns: sc.NS, node: n.id, attrs: sc.Attrs}
		d.conns[sc.ID] = rc
		n.conns[sc.ID] = struct{}{}
		for _, room := range sc.Rooms {
			d.join(sc.ID, rc, room)
		}
	}
	n.seq, n.synced, n.syncing = seq, true, false
	pending := n.pending
	n.pending = nil
	for _, ev := range pending {
		if d.event(n, ev) {
			return true
		}
	}
	return false
}

func (d *directory) apply(n *remoteNode, ev dirEvent) {
	n.seq = ev.Seq
	switch ev.Op {
	case "open":
		d.conns[ev.ID] = &remoteConn{ns: ev.NS, node: n.id}
		n.conns[ev.ID] = struct{}{}
	case "close":
		d.dropConn(n, ev.ID)
	case "join":
		if rc := d.conns[ev.ID]; rc != nil {
			d.join(ev.ID, rc, ev.Room)
		}
	case "leave":
		if rc := d.conns[ev.ID]; rc != nil {
			d.leave(ev.ID, rc, ev.Room)
		}
	case "attr":
		if rc := d.conns[ev.ID]; rc != nil {
			rc.attrs.Set(ev.Key, ev.Val)
		}
	}
}

func (d *directory) join(id host.ConnID, rc *remoteConn, room string) {
	if !slices.Contains(rc.rooms, room) {
		rc.rooms = append(rc.rooms, room)
	}
	k := roomKey{rc.ns, room}
	m := d.rooms[k]
	if m == nil {
		m = make(map[host.ConnID]struct{})
		d.rooms[k] = m
	}
	m[id] = struct{}{}
}

func (d *directory) leave(id host.ConnID, rc *remoteConn, room string) {
	if i := slices.Index(rc.rooms, room); i >= 0 {
		rc.rooms = slices.Delete(rc.rooms, i, i+1)
	}
	k := roomKey{rc.ns, room}
	if m := d.rooms[k]; m != nil {
		delete(m, id)
		if len(m) == 0 {
			delete(d.rooms, k)
		}
	}
}

func (d *directory) dropConn(n *remoteNode, id host.ConnID) {
	rc := d.conns[id]
	if rc == nil {
		return
	}
	for len(rc.rooms) > 0 {
		d.leave(id, rc, rc.rooms[len(rc.rooms)-1])
	}
	delete(d.conns, id)
	delete(n.conns, id)
}

func (d *directory) dropConns(n *remoteNode) {
	for id := range n.conns {
		d.dropConn(n, id)
	}
}

// forget drops node n and everything it had.
func (d *directory) forget(n *remoteNode) {
	d.dropConns(n)
	delete(d.nodes, n.id)
}

// expire forgets the nodes not heard from since cutoff and returns them.
func (d *directory) expire(cutoff time.Time) []uint16 {
	var gone []uint16
	for id, n := range d.nodes {
		if n.lastSeen.Before(cutoff) {
			d.forget(n)
			gone = append(gone, id)
		}
	}
	return gone
}

func (d *directory) size(ns, room string) int { return len(d.rooms[roomKey{ns, room}]) }

func (d *directory) members(ns, room string, dst []host.ConnID) []host.ConnID {
	for id := range d.rooms[roomKey{ns, room}] {
		dst = append(dst, id)
	}
	return dst
}

// conn returns a live remote connection of namespace ns.
func (d *directory) conn(ns string, id host.ConnID) *remoteConn {
	if rc := d.conns[id]; rc != nil && rc.ns == ns {
		return rc
	}
	return nil
}
