package host

// AdmittedConns is how many connections s counts against its caps, and from
// how many addresses.
func AdmittedConns(s *Server) (total, addrs int) {
	s.caps.mu.Lock()
	defer s.caps.mu.Unlock()
	return s.caps.total, len(s.caps.perIP)
}
