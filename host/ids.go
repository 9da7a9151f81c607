package host

import (
	"strconv"
	"sync/atomic"
)

// ConnID identifies a connection: never 0, never reused by a Server. A
// plain value.
type ConnID uint64

func (id ConnID) String() string { return strconv.FormatUint(uint64(id), 10) }

// idSource hands out connection ids. Safe for concurrent use.
type idSource struct{ last atomic.Uint64 }

func (s *idSource) next() ConnID { return ConnID(s.last.Add(1)) }

// issued reports whether id was handed out already.
func (s *idSource) issued(id ConnID) bool { return id != 0 && uint64(id) <= s.last.Load() }
