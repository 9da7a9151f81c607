package host

// MemoryBrokerRooms counts the rooms b holds, empty or not: an emptied room
// must be gone.
func MemoryBrokerRooms(b *MemoryBroker) int {
	n := 0
	for i := range b.shards {
		sh := &b.shards[i]
		sh.mu.RLock()
		n += len(sh.rooms)
		sh.mu.RUnlock()
	}
	return n
}
