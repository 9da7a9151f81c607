package cluster

import (
	"fmt"

	"github.com/nats-io/nats.go"

	"github.com/wshost/wshost/host"
)

var (
	_ host.Cluster    = (*Node)(nil)
	_ host.RoomLister = (*Node)(nil)
)

// ConnOpened implements host.Cluster.
func (n *Node) ConnOpened(ns string, c *host.Conn) {
	n.localMu.Lock()
	defer n.localMu.Unlock()
	n.conns[c.ID()] = &localConn{ns: ns, c: c}
	n.announceLocked(dirEvent{Op: "open", NS: ns, ID: c.ID()})
}

// ConnClosed implements host.Cluster.
func (n *Node) ConnClosed(ns string, id host.ConnID) {
	n.localMu.Lock()
	defer n.localMu.Unlock()
	lc := n.conns[id]
	if lc == nil {
		return
	}
	for room := range lc.rooms { // left already, normally
		n.leaveLocked(roomKey{ns, room})
	}
	delete(n.conns, id)
	n.announceLocked(dirEvent{Op: "close", ID: id})
}

// ConnAttr implements host.Cluster.
func (n *Node) ConnAttr(ns string, id host.ConnID, key, val string) {
	n.localMu.Lock()
	defer n.localMu.Unlock()
	lc := n.conns[id]
	if lc == nil {
		return
	}
	lc.attrs.Set(key, val)
	n.announceLocked(dirEvent{Op: "attr", ID: id, Key: key, Val: val})
}

// Join implements host.Broker.
func (n *Node) Join(ns, room string, m host.Member) error {
	if err := n.local.Join(ns, room, m); err != nil {
		return err
	}
	n.localMu.Lock()
	defer n.localMu.Unlock()
	lc := n.conns[m.ID()]
	if lc == nil { // a member the server did not announce: local only
		return nil
	}
	if _, ok := lc.rooms[room]; ok {
		return nil
	}
	if lc.rooms == nil {
		lc.rooms = make(map[string]struct{})
	}
	lc.rooms[room] = struct{}{}
	key := roomKey{ns, room}
	rs := n.rooms[key]
	if rs == nil {
		sub, err := n.nc.ChanSubscribe(n.subj.room(ns, room), n.deliverCh)
		if err != nil {
			// Local members still hear the room; other nodes' broadcasts
			// do not reach them until a later join subscribes.
			n.log.Warn("subscribe to a room", "room", room, "err", err)
		} else {
			_ = sub.SetPendingLimits(-1, -1)
		}
		rs = &roomSub{sub: sub}
		n.rooms[key] = rs
	}
	rs.members++
	n.announceLocked(dirEvent{Op: "join", ID: m.ID(), Room: room})
	return nil
}

// Leave implements host.Broker.
func (n *Node) Leave(ns, room string, m host.Member) error {
	if err := n.local.Leave(ns, room, m); err != nil {
		return err
	}
	n.localMu.Lock()
	defer n.localMu.Unlock()
	lc := n.conns[m.ID()]
	if lc == nil {
		return nil
	}
	if _, ok := lc.rooms[room]; !ok {
		return nil
	}
	delete(lc.rooms, room)
	n.leaveLocked(roomKey{ns, room})
	n.announceLocked(dirEvent{Op: "leave", ID: m.ID(), Room: room})
	return nil
}

// leaveLocked drops one local member's interest in a room.
func (n *Node) leaveLocked(key roomKey) {
	rs := n.rooms[key]
	if rs == nil {
		return
	}
	if rs.members--; rs.members > 0 {
		return
	}
	if rs.sub != nil {
		_ = rs.sub.Unsubscribe()
	}
	delete(n.rooms, key)
}

// Publish implements host.Broker: local members directly, the other nodes
// through one NATS message. It returns the local count, as ABI v1 says.
func (n *Node) Publish(ns, room string, f *host.Frame, except host.ConnID) int {
	msg, binary := f.Payload()
	bp := n.buffer()
	st, e := n.pubSeqs.lock(roomKey{ns, room}, n.tick.Load(), n.subj)
	count := n.local.Publish(ns, room, f, except)
	*bp = appendBroadcast((*bp)[:0], broadcast{msg: msg, binary: binary, except: except, node: n.id, seq: e.seq})
	n.publish(e.subject, *bp)
	st.mu.Unlock()
	n.bufs.Put(bp)
	return count
}

func (n *Node) buffer() *[]byte {
	if bp, ok := n.bufs.Get().(*[]byte); ok {
		return bp
	}
	b := make([]byte, 0, 512)
	return &b
}

// Size implements host.Broker: members on every node.
func (n *Node) Size(ns, room string) int {
	size := n.local.Size(ns, room)
	n.dirMu.RLock()
	size += n.dir.size(ns, room)
	n.dirMu.RUnlock()
	return size
}

// Members implements host.Broker: members on every node.
func (n *Node) Members(ns, room string, dst []host.ConnID) []host.ConnID {
	dst = n.local.Members(ns, room, dst)
	n.dirMu.RLock()
	dst = n.dir.members(ns, room, dst)
	n.dirMu.RUnlock()
	return dst
}

// SendRemote implements host.Cluster.
func (n *Node) SendRemote(ns string, id host.ConnID, msg []byte, binary bool) error {
	if !n.KnowsRemote(ns, id) {
		return fmt.Errorf("connection %d on node %d: %w", id, id.Node(), host.ErrNotFound)
	}
	op := byte(opSendText)
	if binary {
		op = opSendBinary
	}
	bp := n.buffer()
	*bp = appendNodeOp((*bp)[:0], op, id, ns, msg)
	n.publish(n.subj.node(id.Node()), *bp)
	n.bufs.Put(bp)
	return nil
}

// CloseRemote implements host.Cluster.
func (n *Node) CloseRemote(ns string, id host.ConnID, code int, reason string) error {
	if !n.KnowsRemote(ns, id) {
		return fmt.Errorf("connection %d on node %d: %w", id, id.Node(), host.ErrNotFound)
	}
	rest := append([]byte{byte(code >> 8), byte(code)}, reason...)
	n.publish(n.subj.node(id.Node()), appendNodeOp(nil, opClose, id, ns, rest))
	return nil
}

// RemoteAttr implements host.Cluster.
func (n *Node) RemoteAttr(ns string, id host.ConnID, key string) (string, bool) {
	n.dirMu.RLock()
	defer n.dirMu.RUnlock()
	if rc := n.dir.conn(ns, id); rc != nil {
		return rc.attrs.Get(key)
	}
	return "", false
}

// KnowsRemote implements host.Cluster.
func (n *Node) KnowsRemote(ns string, id host.ConnID) bool {
	n.dirMu.RLock()
	defer n.dirMu.RUnlock()
	return n.dir.conn(ns, id) != nil
}

// deliver hands one message from another node to local connections.
func (n *Node) deliver(m *nats.Msg) {
	n.stats.received.Add(1)
	if m.Subject == n.subj.node(n.id) {
		n.deliverNodeOp(m.Data)
		return
	}
	ns, room, err := n.subj.parseRoom(m.Subject)
	if err != nil {
		n.log.Warn("ignored a message", "err", err)
		return
	}
	bc, err := parseBroadcast(m.Data)
	if err != nil {
		n.log.Warn("ignored a broadcast", "room", room, "err", err)
		return
	}
	if gap := n.seen.missed(seenKey{bc.node, m.Sub}, bc.seq, n.tick.Load()); gap > 0 {
		missed := n.stats.missed.Add(gap)
		n.log.Warn("broadcasts from another node were lost on the way", "from_node", bc.node, "room", room, "lost", gap, "missed_total", missed)
	}
	n.local.Publish(ns, room, host.NewMessageFrame(bc.msg, bc.binary), bc.except)
}

func (n *Node) deliverNodeOp(b []byte) {
	op, err := parseNodeOp(b)
	if err != nil {
		n.log.Warn("ignored a node operation", "err", err)
		return
	}
	n.localMu.Lock()
	lc := n.conns[op.id]
	n.localMu.Unlock()
	if lc == nil || lc.ns != op.ns {
		return // gone meanwhile: as a send to a connection that just closed
	}
	switch op.op {
	case opSendText, opSendBinary:
		lc.c.Deliver(host.NewMessageFrame(op.rest, op.op == opSendBinary))
	case opClose:
		if len(op.rest) >= 2 {
			_ = lc.c.Close(int(op.rest[0])<<8|int(op.rest[1]), string(op.rest[2:]))
		}
	}
}

// Rooms implements host.RoomLister: the namespace's rooms on every node,
// with their members on every node.
func (n *Node) Rooms(ns string, dst []host.RoomInfo) []host.RoomInfo {
	start := len(dst)
	dst = n.local.Rooms(ns, dst)
	at := make(map[string]int, len(dst)-start)
	for i := start; i < len(dst); i++ {
		at[dst[i].Name] = i
	}
	n.dirMu.RLock()
	defer n.dirMu.RUnlock()
	for key, members := range n.dir.rooms {
		if key.ns != ns {
			continue
		}
		if i, ok := at[key.room]; ok {
			dst[i].Members += len(members)
		} else {
			dst = append(dst, host.RoomInfo{Name: key.room, Members: len(members)})
		}
	}
	return dst
}
