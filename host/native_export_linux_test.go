package host

// ParkedReaders counts the connections whose readers are parked, waiting
// without a goroutine.
func ParkedReaders() int {
	idlePoll.mu.Lock()
	defer idlePoll.mu.Unlock()
	n := 0
	for _, c := range idlePoll.conns {
		if c.parked.Load() != nil {
			n++
		}
	}
	return n
}
