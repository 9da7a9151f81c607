package plugin

import (
	"crypto/sha256"
	"errors"
	"fmt"

	"github.com/wshost/wshost/host/abi"
)

// Automatic rollback.
//
// A reload (not a plugin's first load) is on probation for its first
// probationCalls callback calls: each call and each fault (trap, deadline,
// or an instance that cannot start) is counted on the version. Once more
// than half of those calls have faulted — decided as soon as the faults
// pass probationCalls/2, so at the latest on the 50th call — the version
// trips: Plugins loads the previous good content again, remembers the
// tripped content's hash so the same bytes are refused if they arrive
// again, logs at error level, counts it and reports a LoadEvent with
// RolledBack set.
//
// on_error calls reporting a fault (kind 3) are not counted: each fault is
// followed by one, and counting them would halve every fault rate. A missing
// optional export is no call.

const (
	probationCalls = 50
	// refusedMax bounds the remembered hashes of rolled-back content.
	refusedMax = 16
)

// ErrRolledBack: content that was serving was rolled back because it
// faulted too often, or the same content, rolled back before, arrived again.
var ErrRolledBack = errors.New("plugin rolled back")

// trip is what a version on probation reports when it faulted too often.
type trip struct {
	number        uint64
	calls, faults int64
}

func (t trip) String() string {
	return fmt.Sprintf("version %d faulted in %d of its first %d calls", t.number, t.faults, t.calls)
}

// tally counts one call of ex and its outcome while v is on probation. On
// the event path: it only counts, and hands a trip to the engine's onTrip.
func (v *version) tally(ex export, p1 uint64, err error) {
	if !v.probation || v.calls.Load() >= probationCalls {
		return
	}
	if ex == exError && abi.ErrorKind(p1) == abi.KindFault && err == nil {
		return
	}
	calls := v.calls.Add(1)
	if calls > probationCalls {
		return
	}
	if err == nil {
		return
	}
	faults := v.faults.Add(1)
	if faults > probationCalls/2 && v.tripped.CompareAndSwap(false, true) {
		if on := v.engine.onTrip; on != nil {
			on(trip{number: v.number, calls: calls, faults: faults})
		}
	}
}

// content is what a plugin version was loaded from.
type content struct {
	wasm, manifest []byte
	m              Manifest
	hash           [sha256.Size]byte
	number         uint64 // the version it loaded as
}

// refuse remembers a rolled-back content's hash. s.mu held.
func (s *served) refuse(hash [sha256.Size]byte) {
	for _, h := range s.refused {
		if h == hash {
			return
		}
	}
	if len(s.refused) == refusedMax {
		s.refused = s.refused[1:]
	}
	s.refused = append(s.refused, hash)
}

func (s *served) isRefused(hash [sha256.Size]byte) bool {
	for _, h := range s.refused {
		if h == hash {
			return true
		}
	}
	return false
}

// onTrip starts the rollback of name's tripped version in the background
// (the event path must not wait for a compile).
func (p *Plugins) onTrip(s *served, name string) func(trip) {
	return func(t trip) {
		s.tripped.Store(t.number)
		p.mu.Lock()
		if p.closed {
			p.mu.Unlock()
			return
		}
		p.bg.Add(1)
		p.mu.Unlock()
		go func() {
			defer p.bg.Done()
			p.rollback(s, name, t)
		}()
	}
}

// rollback loads the last good content of name again, if t's version is
// still the one serving.
func (p *Plugins) rollback(s *served, name string, t trip) {
	p.mu.Lock()
	if p.served[name] != s { // removed meanwhile
		p.mu.Unlock()
		return
	}
	s.mu.Lock()
	p.mu.Unlock()
	defer s.mu.Unlock()
	if s.cur == nil || s.cur.number != t.number || s.good == nil {
		return // replaced meanwhile: the new version has its own probation
	}
	s.refuse(s.cur.hash)
	reason := fmt.Errorf("%w: %s; version %d's content is loaded again", ErrRolledBack, t, s.good.number)
	good := *s.good
	info, err := s.engine.load(p.ctx, good.wasm, good.m, false)
	if err == nil {
		err = s.ep.SetLimits(good.m.HostLimits())
	}
	if err != nil {
		err = fmt.Errorf("plugin %s: rollback failed: %w (%w)", name, err, reason)
		p.log.Error("plugin rollback failed", "plugin", name, "err", err)
		p.report(LoadEvent{Name: name, Version: current(s.engine), Err: err})
		return
	}
	good.number = info.Number
	s.cur, s.good = &good, &good
	s.hash = good.hash
	p.rollbacks.Add(1)
	s.rollbacks.Add(1)
	p.log.Error("plugin rolled back to the last good version", "plugin", name,
		"faulty_version", t.number, "faults", t.faults, "calls", t.calls, "version", info.Number)
	p.report(LoadEvent{Name: name, Version: info, RolledBack: true, Err: fmt.Errorf("plugin %s: %w", name, reason)})
}

// Rollbacks counts the automatic rollbacks since NewPlugins.
func (p *Plugins) Rollbacks() uint64 { return p.rollbacks.Load() }
