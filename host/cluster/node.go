package cluster

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/wshost/wshost/host"
)

// deliverQueue is how many messages from other nodes may wait for the
// deliverer; past it NATS drops them (counted in Stats.Dropped).
const deliverQueue = 1 << 17

// Node is this process's membership of a cluster: the host.Cluster of its
// Server. Safe for concurrent use.
type Node struct {
	id   uint16
	opts Options
	log  *slog.Logger
	nc   *nats.Conn
	js   jetstream.JetStream
	subj subjects

	local   *host.MemoryBroker // this node's members, delivered directly
	pubSeqs *roomSeqs          // this node's broadcasts, numbered per room
	seen    seenSeqs           // owned by the deliverer
	tick    atomic.Uint64      // heartbeats since Join: a coarse clock

	localMu sync.Mutex // guards seq, pending, conns, rooms
	seq     uint64     // the last directory event numbered
	pending []dirEvent // numbered, not yet published
	conns   map[host.ConnID]*localConn
	rooms   map[roomKey]*roomSub

	announce  chan struct{} // cap 1: pending has events
	announced atomic.Uint64 // the last directory event published

	dirMu sync.RWMutex // guards dir
	dir   *directory

	deliverCh chan *nats.Msg
	controlCh chan *nats.Msg
	subs      []*nats.Subscription // node, directory, heartbeat and sync subscriptions
	bufs      sync.Pool            // *[]byte for outgoing payloads

	state *kvState

	stats  counters
	cancel context.CancelFunc
	wg     sync.WaitGroup
	closed atomic.Bool
}

// localConn is a connection of this node as the cluster announces it.
type localConn struct {
	ns    string
	c     *host.Conn
	attrs host.Attrs
	rooms map[string]struct{}
}

// roomSub is this node's interest in a room: the subscription lives while
// it has local members.
type roomSub struct {
	members int
	sub     *nats.Subscription
}

// Join connects to the cluster's NATS, takes a node id and starts the
// node's goroutines. Close it when done (after the Server shut down).
func Join(ctx context.Context, opts Options) (*Node, error) {
	opts = opts.withDefaults()
	n := &Node{
		opts:      opts,
		subj:      subjects{prefix: opts.Name},
		local:     host.NewMemoryBroker(),
		pubSeqs:   newRoomSeqs(),
		conns:     make(map[host.ConnID]*localConn),
		rooms:     make(map[roomKey]*roomSub),
		dir:       newDirectory(),
		deliverCh: make(chan *nats.Msg, deliverQueue),
		controlCh: make(chan *nats.Msg, deliverQueue),
		announce:  make(chan struct{}, 1),
	}
	if err := n.connect(); err != nil {
		return nil, err
	}
	js, err := jetstream.New(n.nc)
	if err != nil {
		n.nc.Close()
		return nil, fmt.Errorf("jetstream: %w: %w", err, ErrUnavailable)
	}
	n.js = js
	id, err := n.takeNodeID(ctx)
	if err != nil {
		n.nc.Close()
		return nil, err
	}
	n.id = id
	n.log = opts.Logger.With("node", id)
	n.state = newKVState(n)
	if err := n.subscribe(); err != nil {
		n.nc.Close()
		return nil, err
	}
	runCtx, cancel := context.WithCancel(context.Background())
	n.cancel = cancel
	n.wg.Add(3)
	go n.deliverLoop(runCtx)
	go n.controlLoop(runCtx)
	go n.announceLoop(runCtx)
	n.log.Info("joined the cluster", "cluster", opts.Name, "nats", n.nc.ConnectedUrlRedacted())
	return n, nil
}

func (n *Node) connect() error {
	o := n.opts
	nopts := []nats.Option{
		nats.Name("wshost"),
		nats.NoEcho(),
		nats.Timeout(o.ConnectTimeout),
		nats.MaxReconnects(-1),
		nats.ReconnectWait(250 * time.Millisecond),
		nats.ReconnectBufSize(64 << 20),
		nats.DisconnectErrHandler(func(_ *nats.Conn, err error) {
			n.stats.disconnects.Add(1)
			n.logger().Warn("lost NATS; local delivery goes on, reconnecting", "err", err)
		}),
		nats.ReconnectHandler(func(nc *nats.Conn) {
			n.stats.reconnects.Add(1)
			n.logger().Info("NATS reconnected", "nats", nc.ConnectedUrlRedacted())
		}),
		nats.ErrorHandler(func(_ *nats.Conn, sub *nats.Subscription, err error) {
			if errors.Is(err, nats.ErrSlowConsumer) {
				n.stats.dropped.Add(1)
			}
			n.logger().Warn("NATS error", "err", err)
		}),
	}
	nc, err := nats.Connect(o.URL, append(nopts, o.NATS...)...)
	if err != nil {
		return fmt.Errorf("connect to NATS at %s: %w: %w", o.URL, err, ErrUnavailable)
	}
	n.nc = nc
	return nil
}

func (n *Node) logger() *slog.Logger {
	if n.log != nil {
		return n.log
	}
	return n.opts.Logger
}

// takeNodeID increments the cluster's node counter, a key of a JetStream
// key/value bucket, so no two node starts ever share an id.
func (n *Node) takeNodeID(ctx context.Context) (uint16, error) {
	ctx, cancel := context.WithTimeout(ctx, n.opts.ConnectTimeout)
	defer cancel()
	kv, err := n.js.CreateOrUpdateKeyValue(ctx, jetstream.KeyValueConfig{
		Bucket:      n.opts.Name + "_nodes",
		Description: "wshost: the last node id handed out",
		Replicas:    n.opts.Replicas,
	})
	if err != nil {
		return 0, fmt.Errorf("node id bucket: %w: %w", err, ErrUnavailable)
	}
	for {
		var last uint64
		var rev uint64
		e, err := kv.Get(ctx, "last")
		switch {
		case errors.Is(err, jetstream.ErrKeyNotFound):
		case err != nil:
			return 0, fmt.Errorf("read the node counter: %w: %w", err, ErrUnavailable)
		default:
			last, err = strconv.ParseUint(string(e.Value()), 10, 16)
			if err != nil {
				return 0, fmt.Errorf("node counter %q: %w", e.Value(), err)
			}
			rev = e.Revision()
		}
		if last >= 1<<16-1 {
			return 0, fmt.Errorf("the cluster %q started %d nodes: %w (purge its %s_nodes bucket once no node runs)", n.opts.Name, last, ErrNodeIDs, n.opts.Name)
		}
		next := []byte(strconv.FormatUint(last+1, 10))
		if rev == 0 {
			_, err = kv.Create(ctx, "last", next)
		} else {
			_, err = kv.Update(ctx, "last", next, rev)
		}
		if err == nil {
			return uint16(last + 1), nil
		}
		if !conflict(err) {
			return 0, fmt.Errorf("take a node id: %w: %w", err, ErrUnavailable)
		}
		if ctx.Err() != nil {
			return 0, fmt.Errorf("take a node id: %w: %w", ctx.Err(), ErrUnavailable)
		}
	}
}

func (n *Node) subscribe() error {
	subs := []struct {
		subject string
		ch      chan *nats.Msg
	}{
		{n.subj.node(n.id), n.deliverCh},
		{n.subj.dirAll(), n.controlCh},
		{n.subj.hb(), n.controlCh},
	}
	for _, s := range subs {
		sub, err := n.nc.ChanSubscribe(s.subject, s.ch)
		if err != nil {
			return fmt.Errorf("subscribe %s: %w: %w", s.subject, err, ErrUnavailable)
		}
		_ = sub.SetPendingLimits(-1, -1)
		n.subs = append(n.subs, sub)
	}
	sub, err := n.nc.Subscribe(n.subj.sync(n.id), n.serveSnapshot)
	if err != nil {
		return fmt.Errorf("subscribe %s: %w: %w", n.subj.sync(n.id), err, ErrUnavailable)
	}
	n.subs = append(n.subs, sub)
	return n.nc.Flush()
}

// ID is the node's id, carried by its connections' ids: host.Config.NodeID.
func (n *Node) ID() uint16 { return n.id }

// Close says goodbye to the other nodes, stops the node's goroutines and
// closes its NATS connection. Close the Server first: its connections'
// Close events still reach the cluster.
func (n *Node) Close() error {
	if n.closed.Swap(true) {
		return nil
	}
	n.publishJSON(n.subj.hb(), heartbeat{Node: n.id, Seq: n.announced.Load(), Bye: true})
	_ = n.nc.FlushTimeout(time.Second)
	n.cancel()
	n.nc.Close()
	n.wg.Wait()
	return nil
}

func (n *Node) publishJSON(subject string, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		n.log.Error("encode", "subject", subject, "err", err)
		return
	}
	n.publish(subject, b)
}

// publish sends b and counts a failure (NATS gone past its reconnect
// buffer, or closed) as a lost message.
func (n *Node) publish(subject string, b []byte) {
	if err := n.nc.Publish(subject, b); err != nil {
		if lost := n.stats.lost.Add(1); lost&(lost-1) == 0 { // the 1st, 2nd, 4th, 8th…
			n.log.Warn("a message to other nodes was lost", "subject", subject, "lost", lost, "err", err)
		}
		return
	}
	n.stats.published.Add(1)
}
