package host

import (
	"encoding/binary"
	"fmt"
	"sync"
)

// stateStore is an endpoint's key/value state, bounded by total bytes
// (keys plus values). Values are copied in and never modified in place, so
// a value returned by get may be read without the lock. Safe for concurrent
// use.
type stateStore struct {
	mu    sync.Mutex
	m     map[string][]byte
	bytes int
}

func (s *stateStore) get(key string) ([]byte, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	v, ok := s.m[key]
	return v, ok
}

func (s *stateStore) set(key string, val []byte, limit int) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.setLocked(key, append([]byte{}, val...), limit)
}

func (s *stateStore) setLocked(key string, val []byte, limit int) error {
	old, had := s.m[key]
	next := s.bytes + len(val) - len(old)
	if !had {
		next += len(key)
	}
	if next > limit {
		return fmt.Errorf("state would hold %d bytes, over its limit of %d: %w", next, limit, ErrLimit)
	}
	if s.m == nil {
		s.m = make(map[string][]byte)
	}
	s.m[key] = val
	s.bytes = next
	return nil
}

func (s *stateStore) delete(key string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	old, ok := s.m[key]
	if !ok {
		return fmt.Errorf("state key %q: %w", key, ErrNotFound)
	}
	delete(s.m, key)
	s.bytes -= len(key) + len(old)
	return nil
}

// add adds delta to the little-endian int64 at key (missing: 0).
func (s *stateStore) add(key string, delta int64, limit int) (int64, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var n int64
	if old, ok := s.m[key]; ok {
		if len(old) != 8 {
			return 0, fmt.Errorf("state key %q holds %d bytes, not an 8-byte counter: %w", key, len(old), ErrBadArg)
		}
		n = int64(binary.LittleEndian.Uint64(old))
	}
	n += delta
	if err := s.setLocked(key, binary.LittleEndian.AppendUint64(make([]byte, 0, 8), uint64(n)), limit); err != nil {
		return 0, err
	}
	return n, nil
}
