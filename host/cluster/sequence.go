package cluster

import (
	"hash/maphash"
	"sync"

	"github.com/nats-io/nats.go"
)

// publishStripes is how many locks the rooms' broadcast order is striped over.
const publishStripes = 64

// roomSeqs numbers a node's broadcasts per room. A stripe's lock is held
// while a broadcast is delivered locally and handed to NATS, so two
// broadcasts from this node to one room reach every node in the same order
// as they reach this node's members. Safe for concurrent use.
type roomSeqs struct {
	seed    maphash.Seed
	stripes [publishStripes]seqStripe
}

// seqStripe guards the numbers of the rooms that hash to it.
type seqStripe struct {
	mu   sync.Mutex
	next map[roomKey]*seqEntry
}

type seqEntry struct {
	seq     uint64
	used    uint64 // the tick it was last used at
	subject string // the room's subject (publisher side), built once
}

func newRoomSeqs() *roomSeqs {
	s := &roomSeqs{seed: maphash.MakeSeed()}
	for i := range s.stripes {
		s.stripes[i].next = make(map[roomKey]*seqEntry)
	}
	return s
}

// lock locks the room's stripe and returns it with the room's entry, its
// number already advanced.
func (s *roomSeqs) lock(key roomKey, tick uint64, subj subjects) (*seqStripe, *seqEntry) {
	var h maphash.Hash
	h.SetSeed(s.seed)
	h.WriteString(key.ns)
	h.WriteByte(0)
	h.WriteString(key.room)
	st := &s.stripes[h.Sum64()%publishStripes]
	st.mu.Lock()
	e := st.next[key]
	if e == nil {
		e = &seqEntry{subject: subj.room(key.ns, key.room)}
		st.next[key] = e
	}
	e.seq++
	e.used = tick
	return st, e
}

// prune forgets the rooms not published to since tick: their numbering
// starts again at 1, which receivers take as a new start.
func (s *roomSeqs) prune(tick uint64) {
	for i := range s.stripes {
		st := &s.stripes[i]
		st.mu.Lock()
		for k, e := range st.next {
			if e.used < tick {
				delete(st.next, k)
			}
		}
		st.mu.Unlock()
	}
}

// seenKey is a publishing node's room as a receiver tracks it: per
// subscription, so a room left and joined again starts afresh.
type seenKey struct {
	node uint16
	sub  *nats.Subscription
}

// seenSeqs is what the deliverer last received per publisher and room.
// Owned by the deliverer goroutine.
type seenSeqs struct {
	last map[seenKey]*seqEntry
}

// missed records seq and returns how many broadcasts before it never came.
// A number at or below the last one is the publisher numbering afresh.
func (s *seenSeqs) missed(key seenKey, seq, tick uint64) uint64 {
	if s.last == nil {
		s.last = make(map[seenKey]*seqEntry)
	}
	e := s.last[key]
	if e == nil {
		s.last[key] = &seqEntry{seq: seq, used: tick}
		return 0
	}
	var gap uint64
	if seq > e.seq+1 {
		gap = seq - e.seq - 1
	}
	e.seq, e.used = seq, tick
	return gap
}

func (s *seenSeqs) prune(tick uint64) {
	for k, e := range s.last {
		if e.used < tick {
			delete(s.last, k)
		}
	}
}
