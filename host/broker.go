package host

import (
	"fmt"
	"hash/maphash"
	"sync"
)

// Member is a room member as a Broker sees it: a local connection.
type Member interface {
	ID() ConnID
	// Deliver queues f without blocking and reports whether it was queued.
	Deliver(f *Frame) bool
}

// Broker carries room membership and fan-out. Rooms are scoped by a
// namespace (the endpoint's name). The in-memory broker serves one node; a
// broker for a cluster (NATS) implements the same interface.
//
// Implementations must be safe for concurrent use, deliver two Publish calls
// to one room in the same order to every member, and never block on a slow
// member.
type Broker interface {
	// Join adds m to the room, creating it. Joining twice is not an error.
	Join(ns, room string, m Member) error
	// Leave removes m; an empty room is gone. ErrNotFound if m was not a member.
	Leave(ns, room string, m Member) error
	// Publish delivers f to every member but except (0: none) and returns how
	// many local members it was queued for.
	Publish(ns, room string, f *Frame, except ConnID) int
	// Size is the number of members (0 for no such room).
	Size(ns, room string) int
	// Members appends the members' ids to dst.
	Members(ns, room string, dst []ConnID) []ConnID
}

const brokerShards = 64

// MemoryBroker is the single-node Broker. Safe for concurrent use.
//
// Lock order: shard.mu, then room.mu, then whatever Member.Deliver takes.
type MemoryBroker struct {
	seed   maphash.Seed
	shards [brokerShards]brokerShard
}

// brokerShard is a part of the room map; mu guards rooms.
type brokerShard struct {
	mu    sync.RWMutex
	rooms map[roomKey]*room
}

// roomKey names a room within a namespace. A plain value.
type roomKey struct{ ns, name string }

// room is guarded by mu; publishing holds mu so every member sees one order.
type room struct {
	mu      sync.Mutex
	members map[ConnID]Member
}

// NewMemoryBroker returns an empty in-memory broker.
func NewMemoryBroker() *MemoryBroker {
	b := &MemoryBroker{seed: maphash.MakeSeed()}
	for i := range b.shards {
		b.shards[i].rooms = make(map[roomKey]*room)
	}
	return b
}

func (b *MemoryBroker) shard(ns, name string) *brokerShard {
	var h maphash.Hash
	h.SetSeed(b.seed)
	h.WriteString(ns)
	h.WriteByte(0)
	h.WriteString(name)
	return &b.shards[h.Sum64()%brokerShards]
}

// Join implements Broker.
func (b *MemoryBroker) Join(ns, name string, m Member) error {
	sh := b.shard(ns, name)
	key := roomKey{ns, name}
	sh.mu.Lock()
	defer sh.mu.Unlock()
	r := sh.rooms[key]
	if r == nil {
		r = &room{members: make(map[ConnID]Member)}
		sh.rooms[key] = r
	}
	r.mu.Lock()
	r.members[m.ID()] = m
	r.mu.Unlock()
	return nil
}

// Leave implements Broker.
func (b *MemoryBroker) Leave(ns, name string, m Member) error {
	sh := b.shard(ns, name)
	key := roomKey{ns, name}
	sh.mu.Lock()
	defer sh.mu.Unlock()
	r := sh.rooms[key]
	if r == nil {
		return fmt.Errorf("room %q: %w", name, ErrNotFound)
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if _, ok := r.members[m.ID()]; !ok {
		return fmt.Errorf("connection %d in room %q: %w", m.ID(), name, ErrNotFound)
	}
	delete(r.members, m.ID())
	if len(r.members) == 0 {
		delete(sh.rooms, key)
	}
	return nil
}

func (b *MemoryBroker) lookup(ns, name string) *room {
	sh := b.shard(ns, name)
	sh.mu.RLock()
	r := sh.rooms[roomKey{ns, name}]
	sh.mu.RUnlock()
	return r
}

// Publish implements Broker. A room emptied between the lookup and the lock
// has no members left, so nothing is delivered.
func (b *MemoryBroker) Publish(ns, name string, f *Frame, except ConnID) int {
	r := b.lookup(ns, name)
	if r == nil {
		return 0
	}
	n := 0
	r.mu.Lock()
	for id, m := range r.members {
		if id != except && m.Deliver(f) {
			n++
		}
	}
	r.mu.Unlock()
	return n
}

// Size implements Broker.
func (b *MemoryBroker) Size(ns, name string) int {
	r := b.lookup(ns, name)
	if r == nil {
		return 0
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.members)
}

// Members implements Broker.
func (b *MemoryBroker) Members(ns, name string, dst []ConnID) []ConnID {
	r := b.lookup(ns, name)
	if r == nil {
		return dst
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	for id := range r.members {
		dst = append(dst, id)
	}
	return dst
}
