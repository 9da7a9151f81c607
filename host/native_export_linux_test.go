package host

// ParkedReaders counts the connections of s whose readers are parked,
// waiting without a goroutine.
func (s *Server) ParkedReaders() int {
	s.parking.mu.Lock()
	defer s.parking.mu.Unlock()
	n := 0
	for _, c := range s.parking.conns {
		if c.parked.Load() != nil {
			n++
		}
	}
	return n
}
