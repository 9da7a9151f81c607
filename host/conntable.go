package host

import (
	"sync"
	"sync/atomic"
)

const connShards = 32

// connTable maps ids to an endpoint's live connections. Safe for concurrent
// use. Once closed, it refuses new connections.
type connTable struct {
	shards [connShards]struct {
		mu    sync.RWMutex
		conns map[ConnID]*Conn
	}
	closed bool           // guarded by every shard's mu: written with all held
	live   sync.WaitGroup // one per added connection until it is removed
	n      atomic.Int64   // live connections, for metrics
}

func (t *connTable) shard(id ConnID) int { return int(uint64(id) % connShards) }

func (t *connTable) get(id ConnID) *Conn {
	sh := &t.shards[t.shard(id)]
	sh.mu.RLock()
	c := sh.conns[id]
	sh.mu.RUnlock()
	return c
}

// add registers c; false once the table is closed.
func (t *connTable) add(c *Conn) bool {
	sh := &t.shards[t.shard(c.id)]
	sh.mu.Lock()
	defer sh.mu.Unlock()
	if t.closed {
		return false
	}
	if sh.conns == nil {
		sh.conns = make(map[ConnID]*Conn)
	}
	sh.conns[c.id] = c
	t.live.Add(1)
	t.n.Add(1)
	return true
}

func (t *connTable) remove(id ConnID) {
	sh := &t.shards[t.shard(id)]
	sh.mu.Lock()
	_, ok := sh.conns[id]
	delete(sh.conns, id)
	sh.mu.Unlock()
	if ok {
		t.n.Add(-1)
		t.live.Done()
	}
}

// close refuses new connections and returns the live ones.
func (t *connTable) close() []*Conn {
	for i := range t.shards {
		t.shards[i].mu.Lock()
	}
	t.closed = true
	var all []*Conn
	for i := range t.shards {
		for _, c := range t.shards[i].conns {
			all = append(all, c)
		}
		t.shards[i].mu.Unlock()
	}
	return all
}

// snapshot returns the live connections.
func (t *connTable) snapshot() []*Conn {
	var all []*Conn
	for i := range t.shards {
		sh := &t.shards[i]
		sh.mu.RLock()
		for _, c := range sh.conns {
			all = append(all, c)
		}
		sh.mu.RUnlock()
	}
	return all
}
