package host

// DeflateCalls counts the messages the host compressed so far.
func DeflateCalls() int64 { return deflateCalls.Load() }
