//go:build !linux

package host

// peekSupported: no idle wait here; the reader waits in NextReader.
const peekSupported = false

func peekReadable(fd uintptr, skipPong bool) (ready, took bool) { return true, false }
