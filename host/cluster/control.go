package cluster

import (
	"context"
	"encoding/json"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/wshost/wshost/host"
)

// snapshotChunkConns is how many connections one snapshot message holds,
// well under NATS's default 1 MB payload limit.
const snapshotChunkConns = 2000

// deliverLoop is the deliverer: broadcasts and sends from other nodes, one
// at a time, in the order NATS handed them over.
func (n *Node) deliverLoop(ctx context.Context) {
	defer n.wg.Done()
	prune := time.NewTicker(seqMemory)
	defer prune.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case m := <-n.deliverCh:
			n.deliver(m)
		case <-prune.C:
			n.seen.prune(n.ticksAgo(seqMemory))
		}
	}
}

// seqMemory is how long a room's broadcast numbering is remembered unused.
const seqMemory = time.Minute

// ticksAgo is the tick d ago (0 if that is before Join).
func (n *Node) ticksAgo(d time.Duration) uint64 {
	ago := uint64(d / n.opts.Heartbeat)
	if t := n.tick.Load(); t > ago {
		return t - ago
	}
	return 0
}

// controlLoop is the controller: it applies other nodes' directory events
// and heartbeats, sends this node's heartbeats and drops silent nodes.
func (n *Node) controlLoop(ctx context.Context) {
	defer n.wg.Done()
	tick := time.NewTicker(n.opts.Heartbeat)
	defer tick.Stop()
	n.beat()
	for {
		select {
		case <-ctx.Done():
			return
		case m := <-n.controlCh:
			n.control(m)
		case <-tick.C:
			if n.tick.Add(1)%uint64(seqMemory/n.opts.Heartbeat+1) == 0 {
				n.pubSeqs.prune(n.ticksAgo(seqMemory))
			}
			n.beat()
			n.expire()
		}
	}
}

func (n *Node) beat() {
	// The last number published, not the last one queued: a heartbeat
	// must not claim events the others cannot have yet.
	n.publishJSON(n.subj.hb(), heartbeat{Node: n.id, Seq: n.announced.Load()})
}

func (n *Node) expire() {
	n.dirMu.Lock()
	gone := n.dir.expire(time.Now().Add(-n.opts.NodeTimeout))
	n.dirMu.Unlock()
	for _, id := range gone {
		n.stats.nodesLost.Add(1)
		n.log.Warn("a node went silent; its connections are dropped from this node's view", "lost_node", id, "after", n.opts.NodeTimeout)
	}
}

// control handles one directory event or heartbeat.
func (n *Node) control(m *nats.Msg) {
	now := time.Now()
	if m.Subject == n.subj.hb() {
		var hb heartbeat
		if err := json.Unmarshal(m.Data, &hb); err != nil || hb.Node == n.id {
			return
		}
		n.dirMu.Lock()
		defer n.dirMu.Unlock()
		if hb.Bye {
			if rn := n.dir.nodes[hb.Node]; rn != nil {
				n.dir.forget(rn)
				n.log.Info("a node left the cluster", "left_node", hb.Node)
			}
			return
		}
		rn := n.dir.node(hb.Node, now)
		if n.dir.heard(rn, hb.Seq) {
			n.startSyncLocked(rn)
		}
		return
	}
	from, err := strconv.ParseUint(strings.TrimPrefix(m.Subject, n.opts.Name+".dir."), 10, 16)
	if err != nil || uint16(from) == n.id {
		return
	}
	evs, err := decodeEvents(m.Data)
	if err != nil {
		n.log.Warn("ignored a directory message", "from_node", from, "err", err)
		return
	}
	n.dirMu.Lock()
	defer n.dirMu.Unlock()
	rn := n.dir.node(uint16(from), now)
	for _, ev := range evs {
		if n.dir.event(rn, ev) {
			n.startSyncLocked(rn)
		}
	}
}

// startSyncLocked asks node rn for its snapshot. n.dirMu is held.
func (n *Node) startSyncLocked(rn *remoteNode) {
	if rn.syncing {
		return
	}
	rn.syncing = true
	n.stats.resyncs.Add(1)
	n.wg.Add(1)
	go n.requestSnapshot(rn.id)
}

// requestSnapshot asks node id for its directory and restores it; on
// failure the next heartbeat asks again.
func (n *Node) requestSnapshot(id uint16) {
	defer n.wg.Done()
	seq, conns, err := n.fetchSnapshot(id)
	n.dirMu.Lock()
	defer n.dirMu.Unlock()
	rn := n.dir.nodes[id]
	if rn == nil {
		return // forgotten meanwhile
	}
	if err != nil {
		rn.syncing = false
		n.log.Debug("directory snapshot failed; will ask again", "from_node", id, "err", err)
		return
	}
	if n.dir.restore(rn, seq, conns) {
		n.startSyncLocked(rn)
	}
}

func (n *Node) fetchSnapshot(id uint16) (uint64, []snapConn, error) {
	inbox := n.nc.NewInbox()
	sub, err := n.nc.SubscribeSync(inbox)
	if err != nil {
		return 0, nil, err
	}
	defer sub.Unsubscribe()
	if err := n.nc.PublishRequest(n.subj.sync(id), inbox, nil); err != nil {
		return 0, nil, err
	}
	var conns []snapConn
	deadline := time.Now().Add(2 * time.Second)
	for {
		m, err := sub.NextMsg(time.Until(deadline))
		if err != nil {
			return 0, nil, err
		}
		var ch snapshotChunk
		if err := json.Unmarshal(m.Data, &ch); err != nil {
			return 0, nil, err
		}
		conns = append(conns, ch.Conns...)
		if ch.Last {
			return ch.Seq, conns, nil
		}
	}
}

// serveSnapshot answers another node's request for this node's directory:
// every local connection with its attributes and rooms, as of one number.
func (n *Node) serveSnapshot(m *nats.Msg) {
	if m.Reply == "" {
		return
	}
	n.localMu.Lock()
	seq := n.seq
	conns := make([]snapConn, 0, len(n.conns))
	for id, lc := range n.conns {
		sc := snapConn{NS: lc.ns, ID: id, Attrs: slices.Clone(lc.attrs)}
		for room := range lc.rooms {
			sc.Rooms = append(sc.Rooms, room)
		}
		conns = append(conns, sc)
	}
	n.localMu.Unlock()
	for start := 0; ; start += snapshotChunkConns {
		end := min(start+snapshotChunkConns, len(conns))
		last := end == len(conns)
		n.publishJSON(m.Reply, snapshotChunk{Seq: seq, Conns: conns[start:end], Last: last})
		if last {
			return
		}
	}
}

// Local is this node's own broker: what only its connections see.
func (n *Node) Local() *host.MemoryBroker { return n.local }
